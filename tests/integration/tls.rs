//! TLS, proven against the cluster's own TLS listeners (the "tls" lines of
//! tests/cluster/layout, certificates from tests/cluster/tls): the real `warren` binary over
//! `amqps://` and `https://` with the test CA publishes, peeks and reports status; host-name
//! verification is on by default (the server certificate names only `localhost`, so
//! 127.0.0.1 is a wrong name); a CA nobody trusts and an expired certificate are refused, each
//! with its reason; verification off connects and says so on every use; the node whose
//! listener requires client certificates accepts Warren with one and refuses it without; and
//! EXTERNAL logs in the certificate's user with no password.
//!
//! The expired certificate is served by a TLS endpoint of the test's own (`openssl s_server`),
//! which never gets past the handshake: no broker is mocked. Each test uses its own queue and
//! deletes it; none stops a node.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use warren_core::lapin::options::QueueDeleteOptions;
use warren_core::lapin::types::FieldTable;
use warren_core::lapin::{Connection, ConnectionProperties};

use crate::common::{
    cluster, declare_durable, unique, unused_port, warren, warren_command, Node, TlsListeners,
};

/// The unverified-profile warning every command prints (tls::UNVERIFIED_WARNING).
const WARNING: &str = "TLS verification is off for this profile";

fn file(name: &str) -> String {
    let path: PathBuf = cluster().tls_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: tests/cluster/up makes the test certificates (tests/cluster/tls)",
        path.display()
    );
    path.display().to_string()
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))
        .is_ok()
}

/// The first node with TLS listeners that do (`required`) or do not require client
/// certificates, checked to be listening.
fn tls_node(required: bool) -> (&'static Node, &'static TlsListeners) {
    let (node, tls) = cluster()
        .nodes
        .iter()
        .find_map(|n| {
            n.tls
                .as_ref()
                .filter(|t| t.client_cert_required == required)
                .map(|t| (n, t))
        })
        .unwrap_or_else(|| {
            panic!(
                "the {} cluster has no TLS listener with client certificates {} (tests/cluster/layout)",
                cluster().version,
                if required { "required" } else { "optional" }
            )
        });
    for port in [tls.amqps_port, tls.https_port] {
        assert!(
            listening(port),
            "no TLS listener on 127.0.0.1:{port} ({}): nodes booted before their TLS \
             configuration get it on restart (tests/cluster/down, then tests/cluster/up)",
            node.name
        );
    }
    (node, tls)
}

/// `--node amqps://guest:guest@HOST:PORT/%2f --api https://guest:guest@HOST:PORT`.
fn endpoints(host: &str, tls: &TlsListeners) -> Vec<String> {
    vec![
        "--node".into(),
        format!("amqps://guest:guest@{host}:{}/%2f", tls.amqps_port),
        "--api".into(),
        format!("https://guest:guest@{host}:{}", tls.https_port),
    ]
}

fn run(mut args: Vec<String>, more: &[&str]) -> Output {
    args.extend(more.iter().map(|s| s.to_string()));
    warren(&args)
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A queue declared over plain AMQP on node 1, deleted when dropped.
struct Queue {
    name: String,
    runtime: tokio::runtime::Runtime,
}

impl Queue {
    fn new(prefix: &str) -> Queue {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let name = unique(prefix);
        runtime.block_on(async {
            let connection =
                Connection::connect(&cluster().node(1).amqp(), ConnectionProperties::default())
                    .await
                    .expect("connect to the test cluster (tests/cluster/up)");
            let channel = connection.create_channel().await.unwrap();
            declare_durable(&channel, &name, FieldTable::default()).await;
            let _ = connection.close(200, "OK".into()).await;
        });
        Queue { name, runtime }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        let name = self.name.clone();
        self.runtime.block_on(async {
            if let Ok(connection) =
                Connection::connect(&cluster().node(1).amqp(), ConnectionProperties::default())
                    .await
            {
                if let Ok(channel) = connection.create_channel().await {
                    let _ = channel
                        .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                        .await;
                }
                let _ = connection.close(200, "OK".into()).await;
            }
        });
    }
}

/// The arguments that publish one message with `body` to `queue` through the default
/// exchange.
fn publish_args<'a>(queue: &'a str, body: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut more = vec!["publish", "-e", "", "-k", queue, "--body", body, "--json"];
    more.extend_from_slice(extra);
    more
}

/// Publishes one message with `body` to `queue` through the default exchange.
fn publish(args: &[String], queue: &str, body: &str, extra: &[&str]) -> Output {
    run(args.to_vec(), &publish_args(queue, body, extra))
}

fn peeked_bodies(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["body"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

#[test]
fn amqps_and_https_with_the_test_ca_publish_peek_and_report_status() {
    let mut args = Vec::new();
    for node in &cluster().nodes {
        if let Some(tls) = node.tls.as_ref().filter(|t| !t.client_cert_required) {
            tls_node(false);
            args.extend(endpoints("localhost", tls));
        }
    }
    args.extend(["--ca-file".into(), file("ca.pem")]);
    let queue = Queue::new("tls.good");

    let out = publish(&args, &queue.name, "over TLS", &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "publish: {stdout}{stderr}");
    assert!(stdout.contains("\"confirmed\":1"), "{stdout}");
    assert!(!stderr.contains(WARNING), "{stderr}");

    let out = run(args.clone(), &["peek", &queue.name, "-n", "5", "--json"]);
    assert!(out.status.success(), "peek: {:?}", text(&out));
    assert_eq!(peeked_bodies(&out), ["over TLS"]);

    let out = run(args.clone(), &["status", "--json"]);
    assert!(out.status.success(), "status: {:?}", text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let endpoints = status["endpoints"].as_array().unwrap();
    assert!(!endpoints.is_empty());
    for e in endpoints {
        assert_eq!(e["amqp"]["state"], "connected", "{e}");
        assert_eq!(e["management_reachable"], true, "{e}");
    }
}

#[test]
fn a_host_name_the_certificate_does_not_carry_is_refused_with_the_reason() {
    let (_, tls) = tls_node(false);
    let queue = Queue::new("tls.name");
    // The server certificate names DNS:localhost only; 127.0.0.1 is the same server by
    // another name.
    let mut args = endpoints("127.0.0.1", tls);
    args.extend(["--ca-file".into(), file("ca.pem")]);

    let out = publish(&args, &queue.name, "never sent", &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("TLS connection to 127.0.0.1")
            && stderr.contains("not valid for 127.0.0.1")
            && stderr.contains("localhost"),
        "{stderr}"
    );

    let out = run(args, &["queues", "--json"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not valid for 127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("guest:guest"), "{stderr}");
}

#[test]
fn a_ca_warren_does_not_trust_is_refused_with_the_reason() {
    let (_, tls) = tls_node(false);
    let queue = Queue::new("tls.unknown-ca");
    for ca in [Some(file("other-ca.pem")), None] {
        // Another CA, or only the system's trust store: neither signed the server's certificate.
        let mut args = endpoints("localhost", tls);
        if let Some(ca) = &ca {
            args.extend(["--ca-file".into(), ca.clone()]);
        }
        let out = publish(&args, &queue.name, "never sent", &[]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{ca:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("signed by a CA Warren does not trust"),
            "{ca:?}: {stderr}"
        );
        let out = run(args, &["queues", "--json"]);
        let (_, stderr) = text(&out);
        assert!(
            stderr.contains("signed by a CA Warren does not trust"),
            "{ca:?}: {stderr}"
        );
    }
}

/// The system's trust store is read the way the platform's own tools read it: a CA the
/// machine trusts is trusted without `--ca-file`, over AMQPS and HTTPS alike. The test makes
/// the test CA the machine's trust store for this one process through `SSL_CERT_FILE` (which
/// OpenSSL and the native certificate loader both honour) rather than installing it for the
/// whole machine; without it the same command is refused (the test above).
#[test]
fn a_ca_in_the_systems_trust_store_is_trusted_without_a_ca_file() {
    let (_, tls) = tls_node(false);
    let queue = Queue::new("tls.system-store");
    let trusting = |more: &[&str]| {
        warren_command()
            .args(endpoints("localhost", tls))
            .args(more)
            .env("SSL_CERT_FILE", file("ca.pem"))
            .env_remove("SSL_CERT_DIR")
            .output()
            .expect("run warren")
    };
    let out = trusting(&publish_args(&queue.name, "trusted", &[]));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "publish: {stdout}{stderr}");
    assert!(stdout.contains("\"confirmed\":1"), "{stdout}");
    let out = trusting(&["queues", "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "queues over HTTPS: {stderr}");
    assert!(stdout.contains(&queue.name), "{stdout}");
}

/// A client certificate the server does not trust (here the unknown CA's own certificate)
/// is refused by the server, and Warren says so rather than "connection failed".
#[test]
fn a_client_certificate_the_server_does_not_trust_is_refused_with_the_reason() {
    let (_, tls) = tls_node(true);
    let queue = Queue::new("tls.mutual-refused");
    let mut args = endpoints("localhost", tls);
    args.extend([
        "--ca-file".into(),
        file("ca.pem"),
        "--client-cert".into(),
        file("other-ca.pem"),
        "--client-key".into(),
        file("other-ca.key"),
    ]);
    let out = publish(&args, &queue.name, "never sent", &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the server refused the client certificate"),
        "{stderr}"
    );
}

/// `openssl s_server` on a free loopback port with the given certificate; killed when dropped.
struct TlsEndpoint {
    child: Child,
    port: u16,
}

impl TlsEndpoint {
    fn serve(cert: &str, key: &str) -> TlsEndpoint {
        let port = unused_port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-naccept", "100"])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .args(["-cert", cert, "-key", key])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run openssl s_server");
        let endpoint = TlsEndpoint { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !listening(port) {
            assert!(Instant::now() < deadline, "openssl s_server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        endpoint
    }
}

impl Drop for TlsEndpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_expired_certificate_is_refused_with_the_reason() {
    let server = TlsEndpoint::serve(&file("expired.pem"), &file("expired.key"));
    let listeners = TlsListeners {
        amqps_port: server.port,
        https_port: server.port,
        client_cert_required: false,
    };
    let mut args = endpoints("localhost", &listeners);
    args.extend(["--ca-file".into(), file("ca.pem")]);

    let out = publish(&args, "anything", "never sent", &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("certificate has expired (on 2020-01-02)"),
        "{stderr}"
    );
    let out = run(args, &["queues", "--json"]);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("certificate has expired (on 2020-01-02)"),
        "{stderr}"
    );
}

#[test]
fn verification_off_connects_and_every_use_says_so() {
    let (_, tls) = tls_node(false);
    let queue = Queue::new("tls.insecure");
    // A wrong name and no CA: refused above, accepted with verification off.
    let mut args = endpoints("127.0.0.1", tls);
    args.push("--insecure".into());

    let out = publish(&args, &queue.name, "unverified", &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "publish: {stdout}{stderr}");
    assert!(stdout.contains("\"confirmed\":1"), "{stdout}");
    assert!(stderr.contains(WARNING), "{stderr}");

    let out = run(args.clone(), &["status"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "status: {stdout}{stderr}");
    assert!(stderr.contains(WARNING), "{stderr}");

    let out = run(args, &["peek", &queue.name, "-n", "1", "--json"]);
    assert_eq!(peeked_bodies(&out), ["unverified"]);
    assert!(text(&out).1.contains(WARNING));
}

#[test]
fn a_listener_that_requires_client_certificates_takes_warren_with_one_only() {
    let (_, tls) = tls_node(true);
    let queue = Queue::new("tls.mutual");
    let mut args = endpoints("localhost", tls);
    args.extend(["--ca-file".into(), file("ca.pem")]);

    let out = publish(&args, &queue.name, "no certificate", &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the server requires a client certificate"),
        "{stderr}"
    );

    args.extend([
        "--client-cert".into(),
        file("client.pem"),
        "--client-key".into(),
        file("client.key"),
    ]);
    let out = publish(&args, &queue.name, "with a certificate", &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "publish: {stdout}{stderr}");
    assert!(stdout.contains("\"confirmed\":1"), "{stdout}");
}

#[test]
fn external_login_is_the_certificate_user_without_a_password() {
    let (_, tls) = tls_node(true);
    let queue = Queue::new("tls.external");
    // No user or password in the URI and none given otherwise.
    let args: Vec<String> = vec![
        "--node".into(),
        format!("amqps://localhost:{}/%2f", tls.amqps_port),
        // The management API has no certificate login: publish reads the broker's limits there.
        "--api".into(),
        format!("https://guest:guest@localhost:{}", tls.https_port),
        "--ca-file".into(),
        file("ca.pem"),
        "--client-cert".into(),
        file("client.pem"),
        "--client-key".into(),
        file("client.key"),
        "--auth".into(),
        "external".into(),
    ];
    // RabbitMQ accepts a user_id property only when it names the connection's own user: a
    // confirmed message proves the login is the certificate's CN.
    let out = publish(
        &args,
        &queue.name,
        "as the certificate's user",
        &["-P", "user_id=warren-tls-client"],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "publish: {stdout}{stderr}");
    assert!(stdout.contains("\"confirmed\":1"), "{stdout}");

    // Logged in as guest (a password, over the same listener, with the same certificate), that
    // user_id is refused before anything is sent.
    let mut as_guest = endpoints("localhost", tls);
    as_guest.extend(args[4..10].iter().cloned());
    let out = publish(
        &as_guest,
        &queue.name,
        "as guest",
        &["-P", "user_id=warren-tls-client"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("is not the user Warren logs in as (\"guest\")"),
        "{stderr}"
    );

    let out = run(args.clone(), &["peek", &queue.name, "-n", "5", "--json"]);
    assert_eq!(peeked_bodies(&out), ["as the certificate's user"]);

    // A listener whose node does not offer EXTERNAL: refused, saying what to check.
    let (_, optional) = tls_node(false);
    let mut elsewhere = args.clone();
    elsewhere[1] = format!("amqps://localhost:{}/%2f", optional.amqps_port);
    elsewhere[3] = format!("https://guest:guest@localhost:{}", optional.https_port);
    let out = publish(&elsewhere, &queue.name, "never sent", &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("does it offer EXTERNAL"), "{stderr}");
}

#[test]
fn a_profile_with_verification_off_carries_the_warning() {
    let (_, tls) = tls_node(false);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("tls-profile");
    let profile = |more: &[&str]| -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_warren"));
        cmd.env("WARREN_CONFIG_DIR", dir.path())
            .args(more)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(b"guest\n");
        child.wait_with_output().unwrap()
    };
    let amqps = format!("amqps://localhost:{}", tls.amqps_port);
    let https = format!("https://localhost:{}", tls.https_port);
    let out = profile(&[
        "profile",
        "add",
        &name,
        "--username",
        "guest",
        "--password-stdin",
        "--node",
        &amqps,
        "--api",
        &https,
        "--insecure",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let result = std::panic::catch_unwind(|| {
        let out = profile(&["profile", "show", &name]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stderr.contains(WARNING), "{stderr}");
        assert!(stdout.contains("certificate verification OFF"), "{stdout}");

        let out = profile(&["--profile", &name, "status"]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stderr.contains(WARNING), "{stderr}");
    });
    let _ = profile(&["profile", "remove", &name]);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_profile_with_external_login_is_saved_and_used_without_a_password() {
    let (_, tls) = tls_node(true);
    let queue = Queue::new("tls.external-profile");
    let dir = tempfile::tempdir().unwrap();
    let name = unique("tls-external");
    let warren_here = |more: &[&str]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_warren"))
            .env("WARREN_CONFIG_DIR", dir.path())
            .args(more)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let (ca, cert, key) = (file("ca.pem"), file("client.pem"), file("client.key"));
    let amqps = format!("amqps://localhost:{}", tls.amqps_port);
    let https = format!("https://localhost:{}", tls.https_port);
    let out = warren_here(&[
        "profile",
        "add",
        &name,
        "--username",
        "ops",
        "--auth",
        "external",
        "--node",
        &amqps,
        "--api",
        &https,
        "--ca-file",
        &ca,
        "--client-cert",
        &cert,
        "--client-key",
        &key,
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let result = std::panic::catch_unwind(|| {
        let saved = std::fs::read_to_string(dir.path().join("profiles.json")).unwrap();
        assert!(
            saved.contains("\"auth\": \"external\"") || saved.contains("\"auth\":\"external\""),
            "{saved}"
        );
        let out = warren_here(&["profile", "show", &name]);
        assert!(
            text(&out).0.contains("login     EXTERNAL"),
            "{:?}",
            text(&out)
        );
        let out = warren_here(&[
            "-p",
            &name,
            "publish",
            "-e",
            "",
            "-k",
            &queue.name,
            "--body",
            "by profile",
            "-P",
            "user_id=warren-tls-client",
            "--json",
        ]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stdout.contains("\"confirmed\":1"), "{stdout}");
    });
    let _ = warren_here(&["profile", "remove", &name]);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
