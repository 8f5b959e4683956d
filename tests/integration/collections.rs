//! Collections against the real cluster: peek → save → replay into another queue gives a
//! consumer the same messages (every body byte, property and header value with its AMQP type)
//! in the same order; variables are rendered; an unroutable key is reported returned; a fixed
//! rate and the recorded timing are followed; a node killed mid-replay leaves every message
//! in the target queue or reported; and a `warren save` killed while writing a large
//! collection always leaves a valid old or new file.
//!
//! Every test uses its own uniquely named queues and deletes them. The fault test kills a node
//! (under `common::exclusive()` and the cluster's exclusive lock; it brings the node back
//! whatever happens).

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use warren_core::cluster::OpenCluster;
use warren_core::collections::{
    format, replay, Collection, Entry, Pacing, ReplayRequest, ReplayTarget,
};
use warren_core::lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
};
use warren_core::lapin::types::{AMQPValue, FieldTable, LongString};
use warren_core::message::{Message, MessageJson};

use crate::common::{
    cluster, cluster_node, exclusive, node_args, target, unique, warren_on_cluster, Restore,
};
use crate::peek::{channel, delete, drain, runtime, seed, test_message, without_broker_headers};

fn s(v: &str) -> String {
    v.to_owned()
}

/// `warren replay FILE --json ARGS...`: exit status and the report.
fn cli_replay(file: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["replay", file.to_str().unwrap(), "--json"];
    all.extend_from_slice(args);
    let out = warren_on_cluster(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// A literal message whose text holds template braces, published beside the test messages:
/// recorded and replayed, it must come back byte for byte.
fn braces_message(queue: &str) -> Message {
    let mut m = test_message(queue, 7);
    m.body = b"{{seq}} \\{{ {{{{ literal".to_vec();
    m.properties.correlation_id = Some("{{uuid}}".into());
    if let Some(h) = m.properties.headers.as_mut() {
        h.insert(
            "text".into(),
            AMQPValue::LongString(LongString::from("{{now}}")),
        );
    }
    m
}

async fn publish_one(cluster: &OpenCluster, m: &Message) {
    let ch = channel(cluster).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let c = ch
        .basic_publish(
            m.exchange.as_str().into(),
            m.routing_key.as_str().into(),
            BasicPublishOptions::default(),
            &m.body,
            m.amqp_properties().unwrap(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(c.is_ack());
}

/// What a replay to the default exchange with routing key `to` sends of `m`.
fn redirected(m: &Message, to: &str) -> Message {
    Message {
        exchange: String::new(),
        routing_key: to.to_owned(),
        ..m.clone()
    }
}

fn assert_received(received: &[(Message, bool)], expected: &[Message]) {
    assert_eq!(received.len(), expected.len(), "message count");
    for (i, ((got, _), want)) in received.iter().zip(expected).enumerate() {
        assert_eq!(
            without_broker_headers(got.clone()),
            *want,
            "message {} differs",
            i + 1
        );
    }
}

#[test]
fn peek_save_replay_gives_a_consumer_the_same_messages_in_the_same_order() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let (src, dst, dst2) = (unique("coll.src"), unique("coll.dst"), unique("coll.dst2"));
        let mut sent = seed(&c, &src, "classic", 12).await;
        let braces = braces_message(&src);
        publish_one(&c, &braces).await;
        sent.push(braces);
        seed(&c, &dst, "classic", 0).await;
        seed(&c, &dst2, "classic", 0).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bug.jsonl");

        let out = warren_on_cluster(&[
            "save",
            &src,
            "--count",
            "13",
            "--to",
            file.to_str().unwrap(),
            "--name",
            "bug 4411",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let saved = format::read(&file).unwrap();
        assert_eq!(
            (saved.name.as_str(), saved.messages.len()),
            ("bug 4411", 13)
        );
        let e = &saved.messages[0];
        assert!(e.recorded_ms().is_some(), "{e:?}");
        let source = e.source.clone().unwrap();
        assert_eq!(
            (
                source.vhost.as_deref(),
                source.queue.as_deref(),
                source.cluster.as_deref()
            ),
            (Some("/"), Some(src.as_str()), Some(cluster().name.as_str()))
        );

        let (code, report, stderr) =
            cli_replay(&file, &["--to-exchange", "", "--routing-key", &dst]);
        assert_eq!(code, 0, "{stderr} {report}");
        for (k, v) in [
            ("total", 13),
            ("confirmed", 13),
            ("returned", 0),
            ("nacked", 0),
            ("failed", 0),
        ] {
            assert_eq!(report[k], v, "{k}: {report}");
        }
        let expected: Vec<Message> = sent.iter().map(|m| redirected(m, &dst)).collect();
        assert_received(&drain(&c, &dst).await, &expected);
        // The report is kept beside the collection.
        let kept = warren_core::collections::reports::read(&file).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].confirmed, 13);

        // `warren peek --json` output opens as a collection and replays the same way.
        let out = warren_on_cluster(&["peek", &src, "--count", "13", "--json"]);
        assert!(out.status.success());
        let peek_file = dir.path().join("peek.jsonl");
        std::fs::write(&peek_file, &out.stdout).unwrap();
        let (code, report, stderr) =
            cli_replay(&peek_file, &["--to-exchange", "", "--routing-key", &dst2]);
        assert_eq!(code, 0, "{stderr} {report}");
        let expected: Vec<Message> = sent.iter().map(|m| redirected(m, &dst2)).collect();
        assert_received(&drain(&c, &dst2).await, &expected);

        // The source is as it was: a save is a peek.
        let left = drain(&c, &src).await;
        assert_eq!(left.len(), 13);
        for q in [&src, &dst, &dst2] {
            delete(&c, q).await;
        }
        c.close().await;
    });
}

fn collection_text(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn collection_and_replay_variables_are_rendered() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let dst = unique("coll.vars");
        seed(&c, &dst, "classic", 0).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vars.jsonl");
        std::fs::write(
            &file,
            collection_text(&[
                r#"{"warren_collection":1,"name":"vars","variables":{"tenant":"acme","n":"5","rk":"nowhere"}}"#,
                r#"{"routing_key":"{{rk}}","properties":{"headers":{"t":"{{tenant}}","n":{"$type":"i16","value":"{{n}}"}},"message_id":"m-{{seq}}"},"body":"tenant={{tenant}}"}"#,
                r#"{"routing_key":"{{rk}}","properties":{},"body":"second {{tenant}}"}"#,
            ]),
        )
        .unwrap();
        // The replay's variables win over the collection's.
        let (code, report, stderr) = cli_replay(&file, &["--var", &format!("rk={dst}"), "--var", "tenant=globex"]);
        assert_eq!(code, 0, "{stderr} {report}");
        let got = drain(&c, &dst).await;
        assert_eq!(got.len(), 2);
        let m = &got[0].0;
        assert_eq!(m.body, b"tenant=globex");
        assert_eq!(m.properties.message_id.as_deref(), Some("m-1"));
        let h = m.properties.headers.as_ref().unwrap().inner();
        assert_eq!(h.get("t"), Some(&AMQPValue::LongString("globex".into())));
        assert_eq!(h.get("n"), Some(&AMQPValue::ShortInt(5)));
        assert_eq!(got[1].0.body, b"second globex");
        // An unknown variable is refused before anything is sent.
        let (code, _, stderr) = cli_replay(&file, &["--routing-key", "{{nope}}"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("nope"), "{stderr}");
        assert!(drain(&c, &dst).await.is_empty());
        delete(&c, &dst).await;
        c.close().await;
    });
}

#[test]
fn a_replay_to_an_unroutable_key_reports_every_message_returned() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.jsonl");
    std::fs::write(
        &file,
        collection_text(&[
            r#"{"warren_collection":1,"name":"r"}"#,
            r#"{"exchange":"amq.direct","routing_key":"a","body":"1"}"#,
            r#"{"exchange":"amq.direct","routing_key":"b","body":"2"}"#,
            r#"{"exchange":"amq.direct","routing_key":"c","body":"3"}"#,
        ]),
    )
    .unwrap();
    let nowhere = unique("coll.unroutable");
    let (code, report, stderr) = cli_replay(&file, &["--routing-key", &nowhere, "--only", "3,1"]);
    assert_eq!(code, 4, "{stderr} {report}");
    assert_eq!(
        (report["total"].as_u64(), report["returned"].as_u64()),
        (Some(2), Some(2)),
        "{report}"
    );
    assert_eq!(report["confirmed"], 0);
    let outcomes = report["outcomes"].as_array().unwrap();
    let indices: Vec<u64> = outcomes
        .iter()
        .map(|o| o["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [2, 0]);
    for o in outcomes {
        assert_eq!(o["outcome"]["kind"], "returned");
        assert_eq!(o["outcome"]["reply_code"], 312);
    }
}

/// Consumes `queue` until `count` messages arrived (or 30 s passed); the arrival time of each,
/// from the first, in seconds.
async fn arrivals(
    c: &OpenCluster,
    queue: &str,
    count: usize,
    ready: tokio::sync::oneshot::Sender<()>,
) -> Vec<f64> {
    let ch = channel(c).await;
    ch.basic_qos(1000, BasicQosOptions::default())
        .await
        .unwrap();
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "it-timing".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let _ = ready.send(());
    let mut times = Vec::new();
    let mut first: Option<Instant> = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while times.len() < count {
        match tokio::time::timeout_at(deadline, consumer.next()).await {
            Ok(Some(Ok(_))) => {
                let now = Instant::now();
                let t0 = *first.get_or_insert(now);
                times.push((now - t0).as_secs_f64());
            }
            _ => break,
        }
    }
    times
}

/// Replays `file` to `queue` with `args` while a consumer times the arrivals.
async fn timed_replay(
    c: &OpenCluster,
    file: &Path,
    queue: &str,
    count: usize,
    args: &[&str],
) -> (Value, Vec<f64>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let consumer = {
        let c = OpenCluster::open(target()).unwrap();
        let q = queue.to_owned();
        tokio::spawn(async move {
            let t = arrivals(&c, &q, count, tx).await;
            c.close().await;
            t
        })
    };
    rx.await.unwrap();
    let _ = c;
    let mut all = vec![s("--routing-key"), queue.to_owned()];
    all.extend(args.iter().map(|a| s(a)));
    let file = file.to_owned();
    let (code, report, stderr) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        cli_replay(&file, &args)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr} {report}");
    (report, consumer.await.unwrap())
}

/// The schedule is followed: no message arrives before its time, and the span from the first
/// to the last arrival is within 10% of the scheduled span. How late the run sent its latest
/// message (the report's `max_late_ms`) is printed with a failure, to tell a late machine
/// from a wrong schedule.
fn assert_follows(times: &[f64], schedule: &[f64], report: &Value) {
    assert_eq!(times.len(), schedule.len(), "arrivals: {report}");
    let span = schedule.last().unwrap() - schedule[0];
    let got = times.last().unwrap() - times[0];
    assert!(
        (got - span).abs() <= span * 0.1,
        "scheduled span {span:.3} s, arrivals spanned {got:.3} s (max_late_ms {})",
        report["max_late_ms"]
    );
    for (i, (t, want)) in times.iter().zip(schedule).enumerate() {
        // Early is a schedule error at any load (allowing the first arrival's own latency).
        assert!(
            *t >= want - 0.05,
            "message {} arrived at {t:.3} s, scheduled at {want:.3} s",
            i + 1
        );
        assert!(
            (t - want).abs() <= span * 0.1,
            "message {} arrived at {t:.3} s, scheduled at {want:.3} s (max_late_ms {})",
            i + 1,
            report["max_late_ms"]
        );
    }
}

#[test]
fn a_fixed_rate_and_the_recorded_timing_are_followed_within_ten_percent() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let q = unique("coll.timing");
        seed(&c, &q, "classic", 0).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("timing.jsonl");
        // Irregular recorded gaps over 4 s; at speed 2 the replay takes 2 s.
        let gaps_ms = [0, 50, 400, 10, 10, 700, 130, 300, 900, 0, 500, 1000];
        let mut t = 1_764_680_000_000i64;
        let mut lines = vec![s(r#"{"warren_collection":1,"name":"timing"}"#)];
        let mut schedule = Vec::new();
        let mut at = 0.0;
        for (i, g) in gaps_ms.iter().enumerate() {
            t += g;
            at += *g as f64 / 2000.0;
            schedule.push(at);
            lines.push(format!(r#"{{"body":"{i}","recorded_at":{t}}}"#));
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        std::fs::write(&file, collection_text(&refs)).unwrap();

        let (report, times) = timed_replay(
            &c,
            &file,
            &q,
            gaps_ms.len(),
            &["--original-timing", "--speed", "2"],
        )
        .await;
        assert_eq!(report["pacing"]["kind"], "original");
        assert_follows(&times, &schedule, &report);

        // A fixed rate: 12 messages at 5/s span 2.2 s.
        let (report, times) = timed_replay(&c, &file, &q, gaps_ms.len(), &["--rate", "5"]).await;
        let schedule: Vec<f64> = (0..gaps_ms.len()).map(|i| i as f64 / 5.0).collect();
        assert_follows(&times, &schedule, &report);
        delete(&c, &q).await;
        c.close().await;
    });
}

#[test]
fn a_node_killed_mid_replay_leaves_every_message_in_the_queue_or_reported() {
    let _lock = exclusive();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(kill_mid_replay());
}

const FAULT_COUNT: u64 = 10_000;

async fn kill_mid_replay() {
    let c = OpenCluster::open(target()).unwrap();
    let q = unique("coll.fault");
    // A quorum queue, which keeps its messages when one node dies, declared through node 2 so
    // that its leader is there: the node the replay uses (node 1, the first) is killed, and
    // the replay must go on with confirms from the surviving leader.
    let two = cluster().node(2);
    let via_two = OpenCluster::open(
        warren_core::endpoint::ClusterTarget::ad_hoc(&[two.amqp()], &[two.api()]).unwrap(),
    )
    .unwrap();
    seed(&via_two, &q, "quorum", 0).await;
    via_two.close().await;
    crate::common::every_node_connected(c.session().unwrap()).await;
    let collection = Collection {
        name: "fault".into(),
        messages: (0..FAULT_COUNT)
            .map(|i| Entry {
                message: MessageJson {
                    exchange: String::new(),
                    routing_key: q.clone(),
                    properties: serde_json::from_value(serde_json::json!({
                        "message_id": i.to_string(), "delivery_mode": 2
                    }))
                    .unwrap(),
                    body: format!("m-{i}"),
                    body_encoding: Default::default(),
                },
                recorded_at: None,
                source: None,
            })
            .collect(),
        ..Collection::default()
    };
    let request = ReplayRequest {
        target: ReplayTarget::default(),
        selection: None,
        variables: Default::default(),
        pacing: Pacing::Rate { per_second: 2000.0 },
    };
    let plan = replay::plan(&collection, &request).unwrap();
    let published = Arc::new(AtomicU64::new(0));
    let seen = published.clone();
    let session_links = c.session().unwrap().watch_links();
    let run = replay::run(
        c.session().unwrap(),
        c.api(),
        &plan,
        CancellationToken::new(),
        move |p| {
            seen.store(p.published, Ordering::Relaxed);
        },
    );
    let killer = async {
        while published.load(Ordering::Relaxed) < 3000 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let active = session_links
            .borrow()
            .iter()
            .position(|l| l.active)
            .expect("an active link");
        let victim = (active + 1) as u8;
        tokio::task::spawn_blocking(move || cluster_node("kill", victim))
            .await
            .unwrap();
        victim
    };
    let (report, victim) = tokio::join!(run, killer);
    let _restore = Restore(victim);
    let report = report.expect("the replay runs to its end");
    eprintln!(
        "fault replay: {} confirmed, {} returned, {} nacked, {} failed, {} maybe sent, {} not sent, {} failover(s), via {}",
        report.confirmed, report.returned, report.nacked, report.failed, report.maybe_sent, report.not_sent, report.failovers, report.endpoint
    );
    assert_eq!(
        report.confirmed
            + report.returned
            + report.nacked
            + report.failed
            + report.maybe_sent
            + report.not_sent,
        FAULT_COUNT,
        "{report:?}"
    );
    assert_eq!(report.not_sent, 0);
    assert!(
        report.failovers >= 1,
        "the kill did not move the replay: {report:?}"
    );
    assert_eq!(report.total, FAULT_COUNT);
    let not_confirmed: std::collections::BTreeMap<u32, String> = report
        .outcomes
        .iter()
        .map(|o| {
            (
                o.index,
                serde_json::to_value(&o.outcome).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        not_confirmed.len() as u64,
        FAULT_COUNT - report.confirmed,
        "every message not confirmed is listed"
    );

    // Read the queue through the surviving nodes.
    let in_queue = drain(&c, &q).await;
    let mut seen = vec![0u32; FAULT_COUNT as usize];
    for (m, _) in &in_queue {
        let i: usize = m.properties.message_id.as_deref().unwrap().parse().unwrap();
        seen[i] += 1;
    }
    for (i, n) in seen.iter().enumerate() {
        let outcome = not_confirmed.get(&(i as u32)).map(String::as_str);
        match (n, outcome) {
            // Confirmed: in the queue exactly once.
            (1, None) => {}
            // Maybe sent (or nacked during a leader election): either way, never twice.
            (0 | 1, Some("maybe_sent" | "nacked")) => {}
            // Failed before it was sent: not there.
            (0, Some("failed")) => {}
            other => panic!("message {i}: {other:?} ({report:?})"),
        }
    }
    delete(&c, &q).await;
    c.close().await;
}

#[test]
fn a_save_killed_while_writing_a_large_collection_leaves_the_old_or_the_new_file() {
    const BIG: u32 = 20_000;
    const OLD: usize = 3;
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let q = unique("coll.crash");
        crate::peek::fill(&c, &q, "classic", BIG).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.jsonl");
        let old = Collection {
            name: "old".into(),
            messages: (0..OLD)
                .map(|i| Entry {
                    message: serde_json::from_value(
                        serde_json::json!({"body": format!("old {i}")}),
                    )
                    .unwrap(),
                    recorded_at: None,
                    source: None,
                })
                .collect(),
            ..Collection::default()
        };
        let mut killed_while_writing = 0;
        let mut outcomes = Vec::new();
        for round in 0..12u64 {
            format::write(&file, &old).unwrap();
            let mut args = node_args();
            args.extend(
                [
                    "save",
                    &q,
                    "--count",
                    &BIG.to_string(),
                    "--to",
                    file.to_str().unwrap(),
                ]
                .map(s),
            );
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warren"))
                .args(&args)
                .env(
                    "WARREN_CONFIG_DIR",
                    std::env::temp_dir().join("warren-it-no-profiles"),
                )
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Wait for the temporary file of the write, then kill at a different moment of
            // the write each round.
            let started = Instant::now();
            let mut writing = false;
            while started.elapsed() < Duration::from_secs(60) {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                let tmp = std::fs::read_dir(dir.path())
                    .unwrap()
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(".tmp"));
                if tmp {
                    writing = true;
                    std::thread::sleep(Duration::from_millis(round * round * 15));
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = child.kill();
            child.wait().unwrap();
            let c = format::read(&file).unwrap_or_else(|e| panic!("round {round}: {e}"));
            let n = c.messages.len();
            assert!(
                n == OLD || n == OLD + BIG as usize,
                "round {round}: {n} messages"
            );
            if writing {
                killed_while_writing += 1;
            }
            outcomes.push(n);
            // A killed write leaves its temporary file (hidden, never listed); clear it.
            for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp") {
                    std::fs::remove_file(e.path()).unwrap();
                }
            }
        }
        eprintln!("messages after each kill: {outcomes:?}");
        assert!(
            killed_while_writing >= 6,
            "only {killed_while_writing} kills hit a write"
        );
        assert!(
            outcomes.contains(&OLD),
            "no kill left the old file: {outcomes:?}"
        );
        // The queue still holds everything: every save was a peek.
        let left = crate::peek::drain(&c, &q).await;
        assert_eq!(left.len(), BIG as usize);
        delete(&c, &q).await;
        c.close().await;
    });
}

/// A rabtap-saved message (rabtap's own field names and spelling) with template braces in its
/// routing key and a header, recorded at `at`.
fn rabtap_message(body: &[u8], at: &str) -> String {
    serde_json::json!({
        "Headers": {"tenant": "{{acme}}", "attempt": 2},
        "ContentType": "text/plain",
        "ContentEncoding": "",
        "DeliveryMode": 2,
        "Priority": 0,
        "CorrelationID": "c-{{seq}}",
        "ReplyTo": "",
        "Expiration": "",
        "MessageID": "",
        "Timestamp": "0001-01-01T00:00:00Z",
        "Type": "",
        "UserID": "",
        "AppID": "shop",
        "DeliveryTag": 1,
        "Redelivered": false,
        "Exchange": "amq.topic",
        "RoutingKey": "orders.{{eu}}",
        "XRabtapReceivedTimestamp": at,
        "Body": warren_core::message::base64_encode(body),
    })
    .to_string()
}

fn ok(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn import_and_export_refuse_to_replace_a_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let tap = dir.path().join("tap");
    std::fs::create_dir(&tap).unwrap();
    std::fs::write(
        tap.join("rabtap-1.json"),
        rabtap_message(b"first", "2026-12-02T10:00:00.5+01:00"),
    )
    .unwrap();
    std::fs::write(
        tap.join("rabtap-2.json"),
        rabtap_message(b"second", "2026-12-02T10:00:02+01:00"),
    )
    .unwrap();
    let api = dir.path().join("get.json");
    std::fs::write(
        &api,
        r#"[{"exchange":"","routing_key":"q","properties":{"headers":{"n":1}},"payload":"/wA=","payload_encoding":"base64"}]"#,
    )
    .unwrap();
    let file = dir.path().join("imported.jsonl");
    let cmd = |args: &[&str]| {
        crate::common::warren(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    };
    let (tap_s, api_s, file_s) = (
        tap.to_str().unwrap(),
        api.to_str().unwrap(),
        file.to_str().unwrap(),
    );
    let said = ok(&cmd(&[
        "import",
        tap_s,
        api_s,
        "--to",
        file_s,
        "--name",
        "from tools",
    ]));
    assert!(said.contains("imported 3 message(s)"), "{said}");
    let c = format::read(&file).unwrap();
    assert_eq!((c.name.as_str(), c.messages.len()), ("from tools", 3));
    assert_eq!(
        c.messages[0].recorded_at.as_deref(),
        Some("2026-12-02T09:00:00.500Z")
    );
    assert_eq!(c.messages[2].recorded_at, None);
    let before = std::fs::read(&file).unwrap();

    // An existing file is refused, named, and left as it was; --force replaces it.
    let out = cmd(&["import", api_s, "--to", file_s]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // A source that does not read changes nothing either.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "not json").unwrap();
    let out = cmd(&[
        "import",
        api_s,
        bad.to_str().unwrap(),
        "--to",
        file_s,
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // Export: plain message-format lines, the selection in its order, to a file or stdout.
    let out_file = dir.path().join("out.jsonl");
    let out_s = out_file.to_str().unwrap();
    ok(&cmd(&[
        "export", file_s, "--select", "3,1-2", "--to", out_s,
    ]));
    let lines: Vec<MessageJson> = std::fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bodies: Vec<Vec<u8>> = lines
        .iter()
        .map(|m| Message::try_from(m.clone()).unwrap().body)
        .collect();
    assert_eq!(
        bodies,
        [b"\xff\x00".to_vec(), b"first".to_vec(), b"second".to_vec()]
    );
    let out = cmd(&["export", file_s, "--to", out_s]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap().lines().count(),
        3
    );
    ok(&cmd(&["export", file_s, "--to", out_s, "--force"]));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap().lines().count(),
        3
    );
    let out = cmd(&["export", file_s, "--select", "2"]);
    ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.contains("orders.\\\\{{eu}}"), "{stdout}");
    let out = cmd(&["export", file_s, "--select", "4"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn an_imported_rabtap_recording_replays_into_a_queue_byte_for_byte() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let dst = unique("replay.imported");
        seed(&c, &dst, "classic", 0).await;
        let dir = tempfile::tempdir().unwrap();
        let tap = dir.path().join("tap.json");
        // rabtap's JSON stream: two objects one after the other.
        std::fs::write(
            &tap,
            format!(
                "{}\n{}\n",
                rabtap_message(b"{{literal}} one", "2026-12-02T10:00:00Z"),
                rabtap_message(b"\x00\xfftwo", "2026-12-02T10:00:01Z")
            ),
        )
        .unwrap();
        let file = dir.path().join("tap.jsonl");
        ok(&crate::common::warren(&[
            "import".into(),
            tap.display().to_string(),
            "--to".into(),
            file.display().to_string(),
        ]));
        let (code, report, stderr) =
            cli_replay(&file, &["--to-exchange", "", "--routing-key", &dst]);
        assert_eq!(code, 0, "{stderr} {report}");
        assert_eq!(report["confirmed"], 2, "{report}");
        let got = drain(&c, &dst).await;
        assert_eq!(got.len(), 2);
        let bodies: Vec<&[u8]> = got.iter().map(|(m, _)| m.body.as_slice()).collect();
        assert_eq!(bodies, [&b"{{literal}} one"[..], &b"\x00\xfftwo"[..]]);
        for (m, _) in &got {
            let p = &m.properties;
            assert_eq!(p.correlation_id.as_deref(), Some("c-{{seq}}"));
            assert_eq!(p.content_type.as_deref(), Some("text/plain"));
            assert_eq!(p.app_id.as_deref(), Some("shop"));
            assert_eq!(p.delivery_mode, Some(2));
            let h = p.headers.as_ref().unwrap().inner();
            assert_eq!(
                h.get("tenant"),
                Some(&AMQPValue::LongString("{{acme}}".into()))
            );
            assert!(h.contains_key("attempt"), "{h:?}");
        }
        delete(&c, &dst).await;
        c.close().await;
    });
}

#[test]
fn publish_reads_a_collection_file_with_its_header_and_variables() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let dst = unique("publish.collection");
        seed(&c, &dst, "classic", 0).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.jsonl");
        std::fs::write(
            &file,
            collection_text(&[
                r#"{"warren_collection":1,"name":"c","variables":{"tenant":"acme","rk":"nowhere"}}"#,
                r#"{"routing_key":"{{rk}}","properties":{"message_id":"m-{{seq}}"},"body":"tenant={{tenant}}","recorded_at":"2026-12-02T13:51:24.123Z","source":{"queue":"q"}}"#,
                r#"{"routing_key":"{{rk}}","body":"\\{{seq}} stays","recorded_at":"2026-12-02T13:51:25.000Z"}"#,
            ]),
        )
        .unwrap();
        // --var wins over the collection's variables; --count repeats the whole file.
        let out = warren_on_cluster(&[
            "publish",
            "--message-file",
            file.to_str().unwrap(),
            "--var",
            &format!("rk={dst}"),
            "--count",
            "2",
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["confirmed"], 4, "{summary}");
        // A peek's file publishes too, each message as it was read: "{{seq}} stays" stays.
        let out = warren_on_cluster(&["peek", &dst, "--count", "4", "--json"]);
        assert!(out.status.success());
        let peek_file = dir.path().join("peek.jsonl");
        std::fs::write(&peek_file, &out.stdout).unwrap();
        let dst2 = unique("publish.peekfile");
        seed(&c, &dst2, "classic", 0).await;
        let out = warren_on_cluster(&[
            "publish",
            "--message-file",
            peek_file.to_str().unwrap(),
            "--routing-key",
            &dst2,
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let again: Vec<Vec<u8>> = drain(&c, &dst2)
            .await
            .into_iter()
            .map(|(m, _)| m.body)
            .collect();
        delete(&c, &dst2).await;
        let got = drain(&c, &dst).await;
        let seen: Vec<(String, Option<String>)> = got
            .iter()
            .map(|(m, _)| {
                (
                    String::from_utf8(m.body.clone()).unwrap(),
                    m.properties.message_id.clone(),
                )
            })
            .collect();
        let want = [
            ("tenant=acme", Some("m-1")),
            ("{{seq}} stays", None),
            ("tenant=acme", Some("m-3")),
            ("{{seq}} stays", None),
        ]
        .map(|(b, id)| (b.to_owned(), id.map(str::to_owned)));
        assert_eq!(seen, want);
        let bodies: Vec<Vec<u8>> = want.iter().map(|(b, _)| b.clone().into_bytes()).collect();
        assert_eq!(again, bodies);
        delete(&c, &dst).await;
        c.close().await;
    });
}
