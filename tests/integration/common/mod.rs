//! What every integration test needs to reach the local test cluster (`tests/cluster/up`):
//! which cluster (`WARREN_RABBITMQ`: 3.10 by default, 4.3 or 4.0) and its nodes as
//! `tests/cluster/layout` describes them, its endpoints as ad-hoc `--node/--api` arguments or a
//! [`ClusterTarget`], the real `warren` binary, and the fault script `tests/cluster/node`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

use warren_core::endpoint::ClusterTarget;
use warren_core::lapin::options::QueueDeclareOptions;
use warren_core::lapin::types::FieldTable;
use warren_core::lapin::Channel;

/// One node of the cluster under test, as the layout file gives it.
#[derive(Debug, Clone)]
pub struct Node {
    /// 1-based, as `tests/cluster/node ACTION N` takes it.
    pub n: u8,
    /// The Erlang node name, e.g. `warren-1@localhost`.
    pub name: String,
    pub amqp_port: u16,
    pub api_port: u16,
    /// The node's TLS listeners, where the layout has a "tls" line for it.
    pub tls: Option<TlsListeners>,
}

/// A node's TLS listeners (a "tls" line of the layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsListeners {
    pub amqps_port: u16,
    pub https_port: u16,
    /// The AMQPS listener refuses clients without a certificate and offers EXTERNAL.
    pub client_cert_required: bool,
}

impl Node {
    /// `amqp://guest:guest@127.0.0.1:PORT/%2f`
    pub fn amqp(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.amqp_port)
    }

    /// `http://127.0.0.1:PORT` (no credentials).
    pub fn api(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// `127.0.0.1:PORT`, the label status gives the node's endpoint.
    pub fn label(&self) -> String {
        format!("127.0.0.1:{}", self.amqp_port)
    }
}

/// The cluster the tests run against.
#[derive(Debug)]
pub struct Cluster {
    /// "3.10", "4.3", "4.0": the layout's name for it (`WARREN_RABBITMQ`).
    pub version: String,
    pub major: u32,
    pub minor: u32,
    /// The cluster name `tests/cluster/up` sets.
    pub name: String,
    pub nodes: Vec<Node>,
    /// "host" (the machine's own package) or the Debian suite of the root it runs in.
    pub source: String,
    /// The state folder as the layout names it (see the layout file).
    pub state: String,
}

impl Cluster {
    /// Classic queue mirroring (ha-* policies) exists before 4.0.
    pub fn has_mirroring(&self) -> bool {
        self.major < 4
    }

    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    pub fn node(&self, n: u8) -> &Node {
        self.nodes
            .iter()
            .find(|node| node.n == n)
            .unwrap_or_else(|| panic!("the {} cluster has no node {n}", self.version))
    }

    /// The cluster's state folder, as `tests/cluster/lib.sh` finds it: for the host's own
    /// broker under target/ (or `WARREN_CLUSTER_DIR`), for a 4.x one inside its root.
    pub fn state_dir(&self) -> PathBuf {
        if self.source == "host" {
            match std::env::var_os("WARREN_CLUSTER_DIR") {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => repo().join("target").join(&self.state),
            }
        } else {
            let roots = std::env::var_os("WARREN_ROOTS_DIR")
                .filter(|d| !d.is_empty())
                .map_or_else(|| PathBuf::from("/var/cache/warren"), PathBuf::from);
            let state = self.state.trim_start_matches('/');
            roots.join(format!("rabbitmq-{}", self.version)).join(state)
        }
    }

    /// The test CA and certificates `tests/cluster/tls` made for this cluster.
    pub fn tls_dir(&self) -> PathBuf {
        self.state_dir().join("tls")
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads the version's lines of `layout` (see the file for its format).
fn parse_layout(layout: &str, version: &str) -> Cluster {
    let mut name = None;
    let mut source = String::new();
    let mut state = String::new();
    let mut nodes = Vec::new();
    let mut tls = Vec::new();
    for line in layout.lines() {
        let words: Vec<&str> = line
            .split('#')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        match words.as_slice() {
            ["cluster", v, cluster_name, cluster_source, cluster_state, ..] if *v == version => {
                name = Some(cluster_name.to_string());
                source = cluster_source.to_string();
                state = cluster_state.to_string();
            }
            ["node", v, n, node_name, amqp, api, _dist] if *v == version => nodes.push(Node {
                n: n.parse().expect("node number in layout"),
                name: node_name.to_string(),
                amqp_port: amqp.parse().expect("AMQP port in layout"),
                api_port: api.parse().expect("management port in layout"),
                tls: None,
            }),
            ["tls", v, n, amqps, https, client_cert] if *v == version => tls.push((
                n.parse::<u8>().expect("node number in layout"),
                TlsListeners {
                    amqps_port: amqps.parse().expect("AMQPS port in layout"),
                    https_port: https.parse().expect("HTTPS port in layout"),
                    client_cert_required: match *client_cert {
                        "required" => true,
                        "optional" => false,
                        other => panic!("CLIENT-CERT {other:?} in layout"),
                    },
                },
            )),
            _ => {}
        }
    }
    let name = name.unwrap_or_else(|| {
        panic!("WARREN_RABBITMQ={version}: no such cluster in tests/cluster/layout")
    });
    assert!(!nodes.is_empty(), "no nodes for {version} in the layout");
    for (n, listeners) in tls {
        let node = nodes
            .iter_mut()
            .find(|node| node.n == n)
            .unwrap_or_else(|| panic!("tls line for node {n}, which {version} does not have"));
        node.tls = Some(listeners);
    }
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) else {
        panic!("version {version:?} in the layout is not MAJOR.MINOR")
    };
    Cluster {
        version: version.to_owned(),
        major,
        minor,
        name,
        nodes,
        source,
        state,
    }
}

/// The cluster `WARREN_RABBITMQ` names (3.10 when unset), read once from the layout file.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let version = std::env::var("WARREN_RABBITMQ").unwrap_or_else(|_| "3.10".into());
        let path = repo().join("tests/cluster/layout");
        let layout = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        parse_layout(&layout, &version)
    })
}

/// Serialises the tests that fault nodes or raise alarms (which change what every other test
/// sees) with each other; taken by any test that needs the whole cluster healthy.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static CLUSTER: Mutex<()> = Mutex::new(());
    CLUSTER.lock().unwrap_or_else(|p| p.into_inner())
}

/// `tests/cluster/node ACTION N` on the cluster under test; panics if it fails.
pub fn cluster_node(action: &str, n: u8) {
    let script = repo().join("tests/cluster/node");
    let out = Command::new(&script)
        .args([action, &n.to_string()])
        .env("WARREN_RABBITMQ", &cluster().version)
        .output()
        .expect("run tests/cluster/node");
    assert!(
        out.status.success(),
        "tests/cluster/node {action} {n} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Brings node `n` back when dropped (`tests/cluster/node start`: starts, resumes and heals
/// it), so a test that faults a node leaves the cluster whole even when an assertion fails.
pub struct Restore(pub u8);

impl Drop for Restore {
    fn drop(&mut self) {
        cluster_node("start", self.0);
    }
}

/// Declares a durable classic queue through a connection to `node`, so its home is that node
/// (3.10's and 4.x's default locator is the declaring client's node).
pub async fn declare_on(node: &Node, queue: &str) {
    let connection = warren_core::lapin::Connection::connect(
        &node.amqp(),
        warren_core::lapin::ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let ch = connection.create_channel().await.unwrap();
    declare_durable(&ch, queue, FieldTable::default()).await;
    drop(ch);
    let _ = connection.close(200, "OK".into()).await;
}

/// The node the management API says a classic queue lives on.
pub async fn home_of(api: &warren_core::management::ManagementClient, queue: &str) -> String {
    let path = format!(
        "queues/%2F/{}",
        warren_core::management::encode_segment(queue)
    );
    let q: serde_json::Value = api.get(&path).await.unwrap();
    q["node"].as_str().unwrap_or_default().to_owned()
}

/// `--node URI --api URL` for each node (guest/guest, vhost "/").
pub fn node_args() -> Vec<String> {
    let mut args = Vec::new();
    for node in &cluster().nodes {
        args.push("--node".into());
        args.push(node.amqp());
        args.push("--api".into());
        args.push(format!("http://guest:guest@127.0.0.1:{}", node.api_port));
    }
    args
}

/// The real `warren` binary with no saved profiles in reach, to add arguments and
/// environment to.
pub fn warren_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warren"));
    command.env(
        "WARREN_CONFIG_DIR",
        std::env::temp_dir().join("warren-it-no-profiles"),
    );
    command
}

/// Runs the real `warren` binary with no saved profiles in reach.
pub fn warren(args: &[String]) -> Output {
    warren_command().args(args).output().expect("run warren")
}

/// `warren --node .. --api .. <args>` against every node.
pub fn warren_on_cluster(args: &[&str]) -> Output {
    let mut all = node_args();
    all.extend(args.iter().map(|s| s.to_string()));
    warren(&all)
}

/// Declares a durable queue with these arguments (the tests' queues outlive their channel).
pub async fn declare_durable(ch: &Channel, queue: &str, args: FieldTable) {
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    ch.queue_declare(queue.into(), durable, args)
        .await
        .unwrap_or_else(|e| panic!("declare queue {queue:?}: {e}"));
}

/// The ready count of a queue, asked of the broker itself (a passive declare), or the
/// broker's refusal (404 when it does not exist; the channel is then closed).
/// Waits (up to 15 s) until the session is connected to every node of the cluster.
pub async fn every_node_connected(session: &warren_core::session::ClusterSession) {
    let mut links = session.watch_links();
    tokio::time::timeout(
        std::time::Duration::from_secs(15),
        links.wait_for(|l| {
            l.iter()
                .all(|l| l.state == warren_core::session::LinkState::Connected)
        }),
    )
    .await
    .expect("every node connects within 15 s")
    .unwrap();
}

/// The node `session` works through (so the one a peek or a consumer it starts uses) and
/// another node, once every node is connected.
pub async fn active_and_another(
    session: &warren_core::session::ClusterSession,
) -> (&'static Node, &'static Node) {
    every_node_connected(session).await;
    let (ch, active) = session
        .channel(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    ch.close(200, "OK".into()).await.unwrap();
    let nodes = &cluster().nodes;
    let node = nodes.iter().find(|n| n.label() == active).unwrap();
    let other = nodes.iter().find(|n| n.n != node.n).unwrap();
    (node, other)
}

pub async fn ready_count(ch: &Channel, queue: &str) -> warren_core::lapin::Result<u32> {
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let q = ch
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await?;
    Ok(q.message_count())
}

/// Every node as one ad-hoc cluster target.
pub fn target() -> ClusterTarget {
    let nodes: Vec<String> = cluster().nodes.iter().map(Node::amqp).collect();
    let apis: Vec<String> = cluster().nodes.iter().map(Node::api).collect();
    ClusterTarget::ad_hoc(&nodes, &apis).unwrap()
}

/// A loopback port nothing listens on (just freed by the OS).
pub fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A queue name no other run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}.it-{}-{nanos}", std::process::id())
}

#[test]
fn the_layout_file_parses_and_no_two_nodes_share_a_port() {
    let sample = "# comment\ncluster 9.1 demo host cluster 1-2\n\
                  node 9.1 1 a@h 10 20 30 # trailing comment\n\
                  tls 9.1 1 40 50 required\n\
                  cluster 9.2 other host cluster 1-2\n\
                  node 9.2 1 b@h 11 21 31\n";
    let c = parse_layout(sample, "9.1");
    assert_eq!((c.name.as_str(), c.major, c.minor), ("demo", 9, 1));
    assert_eq!(c.nodes.len(), 1);
    let n = c.node(1);
    assert_eq!((n.name.as_str(), n.amqp_port, n.api_port), ("a@h", 10, 20));
    assert_eq!(
        n.tls,
        Some(TlsListeners {
            amqps_port: 40,
            https_port: 50,
            client_cert_required: true
        })
    );
    assert_eq!(parse_layout(sample, "9.2").node(1).tls, None);

    let layout = std::fs::read_to_string(repo().join("tests/cluster/layout")).unwrap();
    let versions: Vec<&str> = layout
        .lines()
        .filter_map(|l| l.strip_prefix("cluster "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(versions.contains(&"3.10"), "{versions:?}");
    let mut ports = std::collections::BTreeSet::new();
    for version in versions {
        for node in parse_layout(&layout, version).nodes {
            assert!(ports.insert(node.amqp_port), "{version}: {node:?}");
            assert!(ports.insert(node.api_port), "{version}: {node:?}");
            if let Some(tls) = &node.tls {
                assert!(ports.insert(tls.amqps_port), "{version}: {node:?}");
                assert!(ports.insert(tls.https_port), "{version}: {node:?}");
            }
        }
    }
}

/// `METHOD PATH` on node 1's management API as guest, `body` (JSON) given on stdin so that it
/// is not in the process list; an HTTP error is an `Err` with curl's output.
pub fn api(method: &str, path: &str, body: Option<&str>) -> Result<(), String> {
    let url = format!("{}{path}", cluster().node(1).api());
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--fail-with-body", "-m", "15", "-u", "guest:guest"])
        .args(["-X", method, &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if body.is_some() {
        cmd.args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            "@-",
        ])
        .stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("run curl");
    if let Some(body) = body {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{method} {path}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
