//! The CLI's operator views and readings against the real cluster: `warren connections`
//! lists a client's connection by the name the client gave it, `connections close` closes it
//! with a reason the client receives (and refuses a bad reason before anything changes); a
//! stream read with `--offset 10m` starts ten minutes ago; impossible dates are refused; and
//! piped output never carries a progress bar; a queue's history (the charts' data) shows the
//! messages published to it.
//!
//! Each test uses its own queue and connection names and leaves nothing behind.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use warren_core::cluster::OpenCluster;
use warren_core::lapin::{self, ConnectionProperties};

use crate::common::{cluster, target, unique, warren_on_cluster};
use crate::peek::{cli_peek, delete, fill, runtime, seed};

/// The longest any one wait on the broker may take before the test fails.
const BOUND: Duration = Duration::from_secs(30);

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `warren connections --json`, parsed: one object per line.
fn listed() -> Vec<Value> {
    let out = warren_on_cluster(&["connections", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn a_connection_is_listed_by_its_client_name_and_closed_with_a_reason_it_receives() {
    runtime().block_on(async {
        let client_name = unique("cli.connections");
        let node = &cluster().nodes[0];
        let conn = lapin::Connection::connect(
            &node.amqp(),
            ConnectionProperties::default().with_connection_name(client_name.as_str().into()),
        )
        .await
        .unwrap();
        let mut events = conn.events_listener();
        let channel = conn.create_channel().await.unwrap();
        channel
            .basic_qos(7, lapin::options::BasicQosOptions::default())
            .await
            .unwrap();

        // Listed under the broker's name with the client's, its channel and its prefetch
        // (the channel's statistics come with the next collection, so wait for them).
        let deadline = tokio::time::Instant::now() + BOUND;
        let row = loop {
            let rows = tokio::task::spawn_blocking(listed).await.unwrap();
            let mine = rows
                .into_iter()
                .find(|r| r["client_provided_name"] == client_name.as_str());
            if let Some(r) = mine.filter(|r| r["prefetch"] == 7 && r["channels"] == 1) {
                break r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "connection \"{client_name}\" not listed with its channel and prefetch 7"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let broker_name = row["name"].as_str().unwrap().to_owned();
        assert!(
            broker_name.contains("->") && broker_name.ends_with(&format!(":{}", node.amqp_port)),
            "{row}"
        );
        assert_eq!(row["user"], "guest");
        assert_eq!(row["protocol"], "AMQP 0-9-1");
        assert_eq!(row["channels"], 1);
        assert_eq!(row["unacked"], 0);
        assert_eq!(row["client_host"], "127.0.0.1");
        assert_eq!(row["node"], node.name.as_str());

        // The table shows it too, whole.
        let table = warren_on_cluster(&["connections"]);
        assert!(table.status.success(), "{}", stderr(&table));
        let text = String::from_utf8(table.stdout).unwrap();
        assert!(
            text.lines()
                .any(|l| l.contains(&broker_name) && l.contains(&client_name)),
            "{text}"
        );

        // A reason that cannot travel is refused and nothing is closed.
        let bad = warren_on_cluster(&[
            "connections",
            "close",
            &client_name,
            "--reason",
            "two\nlines",
        ]);
        assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
        assert!(stderr(&bad).contains("reason"), "{}", stderr(&bad));
        assert!(
            conn.status().connected(),
            "a refused close closed the connection"
        );

        // Closed by the client's name; the client hears the reason.
        let reason = format!("cli test {client_name}: maintenance, reconnect later");
        let close = warren_on_cluster(&[
            "connections",
            "close",
            &client_name,
            "--reason",
            &reason,
            "--json",
        ]);
        assert!(close.status.success(), "{}", stderr(&close));
        let said: Value = serde_json::from_slice(&close.stdout).unwrap();
        assert_eq!(said["closed"], broker_name.as_str());
        let heard = tokio::time::timeout(BOUND, async {
            loop {
                match events.next().await {
                    Some(lapin::Event::Error(e)) => break e.to_string(),
                    Some(_) => continue,
                    None => panic!("the connection's events ended without an error"),
                }
            }
        })
        .await
        .expect("the client was not told its connection closed");
        assert!(heard.contains(&reason), "the client heard: {heard}");
        assert!(!conn.status().connected());

        // Gone from the list; closing it again says so.
        let deadline = tokio::time::Instant::now() + BOUND;
        while tokio::task::spawn_blocking(listed)
            .await
            .unwrap()
            .iter()
            .any(|r| r["name"] == broker_name.as_str())
        {
            assert!(tokio::time::Instant::now() < deadline, "still listed");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let again = warren_on_cluster(&["connections", "close", &broker_name, "--reason", "x"]);
        assert_eq!(again.status.code(), Some(1));
        assert!(
            stderr(&again).contains("no connection named"),
            "{}",
            stderr(&again)
        );
    });
}

#[test]
fn a_stream_read_from_ten_minutes_ago_starts_before_what_was_just_published() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("cli.offset.stream");
        seed(&cluster, &queue, "stream", 3).await;

        let (ten_min_ago, out) = cli_peek(
            &queue,
            &["--count", "3", "--offset", "10m", "--idle-ms", "3s"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let offsets: Vec<Option<u64>> = ten_min_ago.iter().map(|m| m.offset).collect();
        assert_eq!(offsets, [Some(0), Some(1), Some(2)]);

        // From a moment after they were written: none of them.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (from_now, out) = cli_peek(
            &queue,
            &["--count", "3", "--offset", "0s", "--idle-ms", "1500"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            from_now.is_empty(),
            "{} message(s) from now",
            from_now.len()
        );

        // An impossible date is refused before anything is read.
        let (none, out) = cli_peek(&queue, &["--offset", "2026-02-31"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(none.is_empty());
        let err = stderr(&out);
        assert!(
            err.contains("2026-02-31") && err.contains("offset"),
            "{err}"
        );

        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn an_impossible_timestamp_is_refused_before_anything_is_sent_and_piped_runs_draw_no_bar() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("cli.progress");
        seed(&cluster, &queue, "classic", 0).await;

        let refused = tokio::task::spawn_blocking({
            let queue = queue.clone();
            move || {
                warren_on_cluster(&[
                    "publish",
                    "-e",
                    "",
                    "-k",
                    &queue,
                    "--body",
                    "x",
                    "-P",
                    "timestamp=2026-02-31T10:00:00Z",
                ])
            }
        })
        .await
        .unwrap();
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            stderr(&refused).contains("properties.timestamp"),
            "{}",
            stderr(&refused)
        );

        // A long run with its output piped (as here): the summary, and no trace of a bar.
        let out = tokio::task::spawn_blocking({
            let queue = queue.clone();
            move || {
                warren_on_cluster(&[
                    "publish",
                    "-e",
                    "",
                    "-k",
                    &queue,
                    "--body",
                    "m{{seq}}",
                    "-P",
                    "timestamp=2026-11-30T09:00:00Z",
                    "--count",
                    "500",
                ])
            }
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let (stdout, err) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr(&out),
        );
        assert!(stdout.contains("500 confirmed"), "{stdout}");
        for text in [&stdout, &err] {
            assert!(
                !text.contains('\r') && !text.contains('\u{1b}') && !text.contains("left"),
                "progress in piped output: {text:?}"
            );
        }

        let (peeked, out) = cli_peek(&queue, &["--count", "500"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(peeked.len(), 500);
        assert_eq!(peeked[0].message.properties.timestamp, Some(1_796_029_200));
        assert!(!stderr(&out).contains('\r'), "{}", stderr(&out));

        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

/// Enables plugins on every node of the cluster under test, at runtime
/// (`tests/cluster/plugins`); panics if that fails.
fn enable_plugins(plugins: &[&str]) {
    let script = crate::common::repo().join("tests/cluster/plugins");
    let out = std::process::Command::new(&script)
        .arg("enable")
        .args(plugins)
        .env("WARREN_RABBITMQ", &cluster().version)
        .output()
        .expect("run tests/cluster/plugins");
    assert!(
        out.status.success(),
        "tests/cluster/plugins enable {plugins:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

/// `curl` against the management API on `port`, as guest.
fn api(method: &str, port: u16, path: &str, body: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "-m", "15", "-u", "guest:guest", "-X", method])
        .args(["-H", "content-type: application/json"])
        .arg(format!("http://127.0.0.1:{port}/api/{path}"));
    if let Some(b) = body {
        cmd.args(["-d", b]);
    }
    cmd.output().expect("run curl")
}

/// Removes the test's shovels and queues however the test ends: a shovel left behind would
/// turn every other test's cluster health to a warning. Each shovel is deleted through every
/// node (3.10 kept a shovel running on its node when its definition was deleted through
/// another), and the queues afterwards.
struct Shovels {
    names: Vec<String>,
    queues: Vec<String>,
}

impl Drop for Shovels {
    fn drop(&mut self) {
        for node in &cluster().nodes {
            for s in &self.names {
                api(
                    "DELETE",
                    node.api_port,
                    &format!("parameters/shovel/%2F/{s}"),
                    None,
                );
            }
        }
        let deadline = std::time::Instant::now() + BOUND;
        while std::time::Instant::now() < deadline {
            let listed = api("GET", cluster().nodes[0].api_port, "shovels", None);
            let text = String::from_utf8_lossy(&listed.stdout);
            if !self.names.iter().any(|s| text.contains(s.as_str())) {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        for q in &self.queues {
            api(
                "DELETE",
                cluster().nodes[0].api_port,
                &format!("queues/%2F/{q}"),
                None,
            );
        }
    }
}

#[test]
fn status_lists_shovels_and_a_shovel_that_is_down_puts_its_queue_at_risk() {
    let _lock = crate::common::exclusive();
    enable_plugins(&["rabbitmq_shovel", "rabbitmq_shovel_management"]);
    let port = cluster().nodes[0].api_port;
    let (ok, down) = (unique("cli.shovel.ok"), unique("cli.shovel.down"));
    let (ok_src, down_src, ok_dst) = (
        format!("{ok}.src"),
        format!("{down}.src"),
        format!("{ok}.dst"),
    );
    let _cleanup = Shovels {
        names: vec![ok.clone(), down.clone()],
        queues: vec![ok_src.clone(), down_src.clone(), ok_dst.clone()],
    };
    for q in [&ok_src, &down_src] {
        api(
            "PUT",
            port,
            &format!("queues/%2F/{q}"),
            Some(r#"{"durable":true}"#),
        );
    }
    let shovel = |src: &str, dest_uri: &str, dest: &str| {
        format!(
            r#"{{"value":{{"src-protocol":"amqp091","src-uri":"amqp://","src-queue":"{src}","dest-protocol":"amqp091","dest-uri":"{dest_uri}","dest-queue":"{dest}"}}}}"#
        )
    };
    let put = api(
        "PUT",
        port,
        &format!("parameters/shovel/%2F/{ok}"),
        Some(&shovel(&ok_src, "amqp://", &ok_dst)),
    );
    assert!(put.status.success(), "{}", stderr(&put));
    // Its destination: a port nothing listens on, with a password that must not show.
    let nowhere = format!(
        "amqp://guest:cli-secret@127.0.0.1:{}",
        crate::common::unused_port()
    );
    let put = api(
        "PUT",
        port,
        &format!("parameters/shovel/%2F/{down}"),
        Some(&shovel(&down_src, &nowhere, "x")),
    );
    assert!(put.status.success(), "{}", stderr(&put));

    let state = |status: &Value, name: &str| {
        status["shovels"]
            .as_array()
            .and_then(|l| l.iter().find(|s| s["name"] == name))
            .map(|s| s["state"].as_str().unwrap_or_default().to_owned())
    };
    let deadline = std::time::Instant::now() + BOUND;
    let status = loop {
        let out = warren_on_cluster(&["status", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let status: Value = serde_json::from_slice(&out.stdout).unwrap();
        let ok_running = state(&status, &ok).as_deref() == Some("running");
        let down_listed = state(&status, &down).is_some_and(|s| s != "running");
        if ok_running && down_listed {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "shovels not seen running / down: {}",
            status["shovels"]
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let text = status.to_string();
    assert!(
        !text.contains("cli-secret"),
        "a password in the status: {text}"
    );
    let entry = |name: &str| {
        status["shovels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(entry(&down)["source_queue"], down_src.as_str());
    assert_eq!(entry(&ok)["source_queue"], ok_src.as_str());
    let at_risk: Vec<&Value> = status["at_risk"].as_array().unwrap().iter().collect();
    let risk = at_risk
        .iter()
        .find(|r| r["name"] == down_src.as_str())
        .unwrap_or_else(|| panic!("{down_src} not at risk: {}", status["at_risk"]));
    let reason = risk["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("shovel \"{down}\"")), "{reason}");
    assert_eq!(risk["severity"], "warning");
    assert!(
        !at_risk.iter().any(|r| r["name"] == ok_src.as_str()),
        "a running shovel's queue at risk"
    );
    assert!(
        status["health"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains(&down)),
        "{}",
        status["health"]
    );
    // The federation plugin does not run here: no federation entry, and no error.
    assert!(
        status.get("federation").is_none(),
        "{}",
        status["federation"]
    );

    let out = warren_on_cluster(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SHOVELS") && text.contains(&down), "{text}");
}

/// Deletes a test queue however the test ends.
struct DeleteQueue(String);

impl Drop for DeleteQueue {
    fn drop(&mut self) {
        let _ = crate::common::api("DELETE", &format!("/api/queues/%2F/{}", self.0), None);
    }
}

#[test]
fn a_queues_history_shows_the_messages_published_to_it() {
    const N: u32 = 40;
    runtime().block_on(async {
        let open = OpenCluster::open(target()).unwrap();
        let queue = unique("cli.history");
        let _cleanup = DeleteQueue(queue.clone());
        let missing = open.queue_history("/", &queue).await.unwrap_err();
        assert_eq!(
            missing.kind(),
            warren_core::ErrorKind::NotFound,
            "{missing}"
        );

        seed(&open, &queue, "classic", 0).await;
        let before = open.queue_history("/", &queue).await.unwrap();
        assert!(
            before.ready.iter().all(|p| p.value == 0.0),
            "an empty queue's depth: {:?}",
            before.ready
        );
        fill(&open, &queue, "classic", N).await;

        // The broker samples every few seconds: read until the depth reaches N.
        let deadline = std::time::Instant::now() + BOUND;
        let history = loop {
            let h = open.queue_history("/", &queue).await.unwrap();
            let depth = h.ready.last().map(|p| p.value);
            let published = h.publish.iter().any(|p| p.value > 0.0);
            if depth == Some(f64::from(N)) && published {
                break h;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{N} messages not seen in the history within {BOUND:?}: {h:?}"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let times =
            |s: &[warren_core::queues::history::Point]| s.windows(2).all(|w| w[0].t_ms < w[1].t_ms);
        assert!(
            times(&history.ready) && times(&history.publish),
            "{history:?}"
        );
        assert!(
            history.unacked.iter().all(|p| p.value == 0.0),
            "{history:?}"
        );
        if history.source == warren_core::queues::history::HistorySource::Broker {
            // Rates from the broker's counters add up to what was published: each rate times
            // the length of its step. The samples reach back before the queue existed, so the
            // oldest step saw nothing.
            let first = history.publish.first().map_or(0.0, |p| p.value);
            let total: f64 = history
                .publish
                .windows(2)
                .map(|w| w[1].value * (w[1].t_ms - w[0].t_ms) as f64 / 1000.0)
                .sum();
            assert!(
                first == 0.0 && (total - f64::from(N)).abs() < 0.01,
                "publish rates add up to {total}, not {N}: {:?}",
                history.publish
            );
        }
        delete(&open, &queue).await;
    });
}
