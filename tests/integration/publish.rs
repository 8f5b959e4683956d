//! Publish against the real cluster: what a consumer receives is exactly what Warren was asked
//! to publish (every property, every header value with its AMQP type, every body byte); each
//! message ends truthfully (confirmed, returned, failed); bad input is refused before anything
//! is sent; a rate is held; a cancel leaves an exact account.
//!
//! Each test declares its own uniquely named queues and deletes them at the end; none stops a
//! node. One raises a disk alarm (which blocks publishing in the whole cluster) and clears it
//! with a guard, also when an assertion fails.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{
    self, cluster, cluster_node, declare_durable, exclusive, ready_count, unique, warren_on_cluster,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use warren_core::cluster::OpenCluster;
use warren_core::lapin::options::{BasicGetOptions, QueueDeleteOptions};
use warren_core::lapin::types::{AMQPValue, FieldTable};
use warren_core::lapin::{Channel, Connection, ConnectionProperties};
use warren_core::message::{Message, MessageJson};
use warren_core::publish::{self, Outcome, Plan, PublishRequest};
use warren_core::session::LinkState;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// A plain lapin connection of the test itself, to declare, count and read queues.
struct Broker {
    _connection: Connection,
    channel: Channel,
}

impl Broker {
    async fn open() -> Broker {
        let uri = cluster().node(1).amqp();
        let connection = Connection::connect(&uri, ConnectionProperties::default())
            .await
            .expect("connect to the test cluster (tests/cluster/up)");
        let channel = connection.create_channel().await.unwrap();
        Broker {
            _connection: connection,
            channel,
        }
    }

    async fn declare(&self, queue: &str) {
        self.declare_with(queue, FieldTable::default()).await;
    }

    async fn declare_with(&self, queue: &str, args: FieldTable) {
        declare_durable(&self.channel, queue, args).await;
    }

    async fn count(&self, queue: &str) -> u32 {
        ready_count(&self.channel, queue).await.unwrap()
    }

    /// Every message of the queue, in order, taken off it.
    async fn drain(&self, queue: &str) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(m) = self
            .channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            let d = &m.delivery;
            out.push(Message::from_amqp(
                &d.exchange,
                &d.routing_key,
                &d.properties,
                d.data.clone(),
            ));
        }
        out
    }

    async fn delete(&self, queue: &str) {
        let _ = self
            .channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
    }
}

fn run_json(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["publish", "--json"];
    all.extend_from_slice(args);
    let out = warren_on_cluster(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// The message file of the round-trip test: every property, a header of every type of the
/// message format (typed form), and a binary body.
fn every_type_message(queue: &str) -> Value {
    json!({
        "exchange": "",
        "routing_key": queue,
        "properties": {
            "content_type": "application/octet-stream",
            "content_encoding": "identity",
            "delivery_mode": 2,
            "priority": 7,
            "correlation_id": "corr-{{seq}}",
            "reply_to": "replies",
            "expiration": "3600000",
            "message_id": "msg-{{seq}}",
            "timestamp": 1_700_000_000u64,
            "type": "test.event",
            "user_id": "guest",
            "app_id": "warren-it",
            "headers": {
                "seq": {"$type": "i64", "value": "{{seq}}"},
                "bool": true,
                "i8": {"$type": "i8", "value": -8},
                "u8": {"$type": "u8", "value": 200},
                "i16": {"$type": "i16", "value": -300},
                "u16": {"$type": "u16", "value": 60000},
                "i32": -70000,
                "u32": {"$type": "u32", "value": 4_000_000_000u64},
                "i64": {"$type": "i64", "value": 9_000_000_000i64},
                "f32": {"$type": "f32", "value": 1.5},
                "f64": 0.1,
                "decimal": {"$type": "decimal", "value": {"scale": 2, "value": 1999}},
                "text": "héllo {{seq}}",
                "binary string": {"$type": "string", "base64": "/wD+"},
                "timestamp": {"$type": "timestamp", "value": 1_700_000_001u64},
                "bytes": {"$type": "bytes", "value": "AP8B"},
                "void": {"$type": "void"},
                "table": {"depth": {"$type": "i16", "value": 2}, "name": "t"},
                "array": [1, "two", {"$type": "u8", "value": 3}]
            }
        },
        "body": "AP/+gAFub3QgdXRmLTg=",
        "body_encoding": "base64"
    })
}

/// The message the template above stands for once message `seq` is rendered.
fn every_type_expected(queue: &str, seq: u64) -> Message {
    let text = serde_json::to_string(&every_type_message(queue))
        .unwrap()
        .replace("{{seq}}", &seq.to_string());
    Message::from_json(&text).unwrap()
}

#[test]
fn a_consumer_receives_every_property_header_type_and_body_byte_as_published() {
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.roundtrip");
        b.declare(&q).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("message.json");
        std::fs::write(
            &file,
            serde_json::to_string_pretty(&every_type_message(&q)).unwrap(),
        )
        .unwrap();
        let (code, summary, stderr) =
            run_json(&["--message-file", file.to_str().unwrap(), "--count", "3"]);
        assert_eq!(code, 0, "{stderr} {summary}");
        assert_eq!(summary["confirmed"], 3, "{summary}");
        let got = b.drain(&q).await;
        assert_eq!(got.len(), 3);
        for (i, m) in got.iter().enumerate() {
            let want = every_type_expected(&q, i as u64 + 1);
            let (gh, wh) = (
                m.properties.headers.as_ref().unwrap(),
                want.properties.headers.as_ref().unwrap(),
            );
            for (k, v) in wh.inner() {
                assert_eq!(
                    gh.inner().get(k),
                    Some(v),
                    "header {k} of message {}",
                    i + 1
                );
            }
            assert_eq!(gh.inner().len(), wh.inner().len(), "{gh:?}");
            assert_eq!(m, &want, "message {}", i + 1);
            assert_eq!(m.body, b"\x00\xff\xfe\x80\x01not utf-8");
        }

        // The same through flags: typed headers, properties, a templated text body.
        let (code, summary, stderr) = run_json(&[
            "--routing-key",
            &q,
            "--header",
            "retries:i16=3",
            "--header",
            "n:i64={{seq}}",
            "--header",
            "plain=text {{env}}",
            "--header",
            "ok:bool=false",
            "--header",
            "price:decimal=12.50",
            "--header",
            "nothing:void=",
            "--property",
            "priority=9",
            "--property",
            "delivery_mode=persistent",
            "--property",
            "content-type=text/plain",
            "--property",
            "message_id={{env}}-{{seq}}",
            "--var",
            "env=ci",
            "--body",
            "body {{seq}} of {{env}}",
            "--count",
            "2",
        ]);
        assert_eq!(code, 0, "{stderr} {summary}");
        let got = b.drain(&q).await;
        assert_eq!(got.len(), 2);
        for (i, m) in got.iter().enumerate() {
            let seq = i + 1;
            let h = m.properties.headers.as_ref().unwrap().inner();
            assert_eq!(h["retries"], AMQPValue::ShortInt(3));
            assert_eq!(h["n"], AMQPValue::LongLongInt(seq as i64));
            assert_eq!(h["plain"], AMQPValue::LongString("text ci".into()));
            assert_eq!(h["ok"], AMQPValue::Boolean(false));
            assert!(
                matches!(&h["price"], AMQPValue::DecimalValue(d) if d.scale == 2 && d.value == 1250)
            );
            assert_eq!(h["nothing"], AMQPValue::Void);
            assert_eq!(m.properties.priority, Some(9));
            assert_eq!(m.properties.delivery_mode, Some(2));
            assert_eq!(m.properties.content_type.as_deref(), Some("text/plain"));
            assert_eq!(m.properties.message_id, Some(format!("ci-{seq}")));
            assert_eq!(m.body, format!("body {seq} of ci").into_bytes());
        }
        b.delete(&q).await;
    });
}

/// Streams store messages as AMQP 1.0, which has no place for some AMQP 0-9-1 header types.
/// What each version keeps of a message with every other header type (docs/message-format.md):
/// tables and arrays are dropped, except on 4.x under a name starting with "x-"; on 4.x a byte
/// array comes back as a long string of the same bytes. A decimal header fails the publish.
#[test]
fn a_stream_keeps_what_the_version_keeps_of_each_header_type() {
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.stream");
        let mut args = FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("stream".into()),
        );
        b.declare_with(&q, args).await;

        let mut message = every_type_message(&q);
        let headers = message["properties"]["headers"].as_object_mut().unwrap();
        let decimal = headers.remove("decimal").unwrap();
        headers.insert(
            "x-table".into(),
            json!({"depth": {"$type": "i16", "value": 2}}),
        );
        headers.insert("x-array".into(), json!([1, "two"]));
        let mut kept = message.clone();
        let kept_headers = kept["properties"]["headers"].as_object_mut().unwrap();
        kept_headers.remove("table");
        kept_headers.remove("array");
        if cluster().has_mirroring() {
            kept_headers.remove("x-table");
            kept_headers.remove("x-array");
        } else {
            kept_headers.insert("bytes".into(), json!({"$type": "string", "base64": "AP8B"}));
        }

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stream.json");
        std::fs::write(&file, message.to_string()).unwrap();
        let (code, summary, stderr) = run_json(&["--message-file", file.to_str().unwrap()]);
        assert_eq!(
            (code, &summary["confirmed"]),
            (0, &json!(1)),
            "{stderr} {summary}"
        );

        let read = read_stream(&q);
        assert_eq!(read.len(), 1);
        let got: std::collections::BTreeMap<_, _> = read[0]
            .message
            .properties
            .headers
            .as_ref()
            .unwrap()
            .inner()
            .iter()
            .filter(|(k, _)| k.as_str() != "x-stream-offset")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let want = Message::from_json(&kept.to_string().replace("{{seq}}", "1"))
            .unwrap()
            .properties
            .headers
            .unwrap();
        assert_eq!(&got, want.inner());

        // A decimal header: the broker closes the channel (541 INTERNAL_ERROR), nothing stored.
        let mut with_decimal = message.clone();
        with_decimal["properties"]["headers"]["decimal"] = decimal;
        std::fs::write(&file, with_decimal.to_string()).unwrap();
        let (code, summary, _) = run_json(&["--message-file", file.to_str().unwrap()]);
        assert_eq!((code, &summary["failed"]), (4, &json!(1)), "{summary}");
        let reason = summary["problems"][0]["outcome"]["reason"]
            .as_str()
            .unwrap();
        assert!(reason.contains("541 INTERNAL_ERROR"), "{reason}");
        assert_eq!(read_stream(&q).len(), 1, "the stream holds one message");
        b.delete(&q).await;
    });
}

/// Every message of stream `q`, read from its first offset by `warren peek`.
fn read_stream(q: &str) -> Vec<warren_core::peek::PeekedMessage> {
    let out = warren_on_cluster(&[
        "peek",
        q,
        "--count",
        "5",
        "--offset",
        "first",
        "--idle-ms",
        "2000",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_mandatory_publish_to_an_unroutable_key_reports_returned_for_exactly_those_messages() {
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.returns");
        let nowhere = unique("publish.nowhere");
        b.declare(&q).await;
        // Routable and unroutable messages interleaved, many times over, so that confirms
        // come back in multiple-ack batches holding both kinds (where lapin hands a return to
        // any confirm of the batch; seen 82 times in 4,000 returns here).
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mixed.jsonl");
        let lines: Vec<String> = [&q, &nowhere, &q, &q, &nowhere]
            .iter()
            .map(|k| {
                // Persistent: acks then wait for the disk and come back in bigger batches.
                json!({"routing_key": k, "body": format!("to {k}"),
                       "properties": {"delivery_mode": 2}})
                .to_string()
            })
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
        let (code, summary, stderr) =
            run_json(&["--message-file", file.to_str().unwrap(), "--count", "40"]);
        assert_eq!(code, 4, "{stderr}");
        assert_eq!(summary["published"], 200, "{summary}");
        assert_eq!(summary["confirmed"], 120, "{summary}");
        assert_eq!(summary["returned"], 80, "{summary}");
        let problems = summary["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 80);
        for p in problems {
            let seq = p["seq"].as_u64().unwrap();
            assert!(
                seq % 5 == 2 || seq % 5 == 0,
                "message {seq} was routable: {p}"
            );
            assert_eq!(p["outcome"]["kind"], "returned");
            assert_eq!(p["outcome"]["reply_code"], 312);
            assert_eq!(p["outcome"]["reply_text"], "NO_ROUTE");
        }
        assert_eq!(b.count(&q).await, 120);

        // Without mandatory the broker drops it silently: confirmed, as documented.
        let (code, summary, _) =
            run_json(&["--routing-key", &nowhere, "--body", "x", "--no-mandatory"]);
        assert_eq!((code, &summary["confirmed"]), (0, &json!(1)), "{summary}");
        b.delete(&q).await;
    });
}

#[test]
fn an_unknown_exchange_reports_404_and_the_next_publish_on_the_same_session_works() {
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.recover");
        b.declare(&q).await;
        let cluster = OpenCluster::open(common::target()).unwrap();
        let request = |exchange: &str, count: u64| -> PublishRequest {
            serde_json::from_value(json!({
                "message": {"exchange": exchange, "routing_key": q, "body": "m {{seq}}"},
                "count": count
            }))
            .unwrap()
        };
        let missing = unique("publish.no-such-exchange");
        let plan = Plan::from_request(&request(&missing, 5)).unwrap();
        crate::common::every_node_connected(cluster.session().unwrap()).await;
        let links_before = cluster.session().unwrap().links();
        let s = publish::run(
            cluster.session().unwrap(),
            cluster.api(),
            &plan,
            CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!((s.confirmed, s.failed), (0, 5), "{s:?}");
        for p in &s.problems {
            let Outcome::Failed { reason } = &p.outcome else {
                panic!("{p:?}")
            };
            assert!(
                reason.contains("404") && reason.contains(&missing),
                "{reason}"
            );
        }
        // The channel the broker closed is not a lost node: no link of the session went down
        // for it (lapin reports the closed channel as a connection event). A link may still
        // have been lost for a reason of its own: lapin can write a frame of the run on the
        // channel after its close-ok, which the broker answers by closing the connection
        // (504 CHANNEL_ERROR); the session then reconnects, and the next run must work.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let links_after = cluster.session().unwrap().links();
        for (before, after) in links_before.iter().zip(&links_after) {
            assert_eq!(after.state, LinkState::Connected, "{links_after:?}");
            if after.since_ms != before.since_ms {
                let why = after.last_error.as_ref().map_or("", |e| e.message.as_str());
                assert!(
                    !why.contains("NOT_FOUND") && !why.contains("404"),
                    "the 404 took the link down: {links_after:?}"
                );
            }
        }
        // The same open cluster, no restart: the next publish is confirmed.
        let plan = Plan::from_request(&request("", 5)).unwrap();
        let s = publish::run(
            cluster.session().unwrap(),
            cluster.api(),
            &plan,
            CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!((s.confirmed, s.failed, s.published), (5, 0, 5), "{s:?}");
        assert_eq!(b.count(&q).await, 5);

        // And through the CLI: the 404 is in the summary, the exit status is 4.
        let (code, summary, _) = run_json(&["--exchange", &missing, "--body", "x"]);
        assert_eq!(code, 4);
        assert_eq!(summary["failed"], 1);
        let reason = summary["problems"][0]["outcome"]["reason"]
            .as_str()
            .unwrap();
        assert!(reason.contains("404 NOT_FOUND"), "{reason}");
        cluster.close().await;
        b.delete(&q).await;
    });
}

#[test]
fn a_fixed_rate_is_held_within_ten_percent() {
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.rate");
        b.declare(&q).await;
        let rate = 40.0;
        let count = 160; // four seconds
        let (code, summary, stderr) = run_json(&[
            "--routing-key",
            &q,
            "--body",
            "r",
            "--count",
            &count.to_string(),
            "--rate",
            &rate.to_string(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        let elapsed = summary["elapsed_ms"].as_f64().unwrap() / 1000.0;
        // The first message goes at t=0, the last at (count-1)/rate.
        let achieved = (count - 1) as f64 / elapsed;
        assert!(
            (achieved - rate).abs() <= rate * 0.1,
            "asked {rate}/s, achieved {achieved:.1}/s over {elapsed:.2} s"
        );
        assert_eq!(b.count(&q).await, count);
        b.delete(&q).await;
    });
}

#[test]
fn a_cancel_stops_sending_and_accounts_for_every_message_sent() {
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.cancel");
        b.declare(&q).await;
        let cluster = OpenCluster::open(common::target()).unwrap();
        let request: PublishRequest = serde_json::from_value(json!({
            "message": {"routing_key": q, "body": "c {{seq}}"},
            "count": 1000,
            "rate": 100.0
        }))
        .unwrap();
        let plan = Plan::from_request(&request).unwrap();
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            trigger.cancel();
        });
        let started = Instant::now();
        let mut reports = Vec::new();
        let s = publish::run(
            cluster.session().unwrap(),
            cluster.api(),
            &plan,
            cancel,
            |p| reports.push(p),
        )
        .await
        .unwrap();
        assert!(s.cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(s.published > 50 && s.published < 1000, "{s:?}");
        assert_eq!(s.confirmed, s.published, "{s:?}");
        assert_eq!(u64::from(b.count(&q).await), s.confirmed);
        // Progress: at most about ten reports a second, counts never going back.
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            reports.len() as f64 <= seconds * 10.0 + 3.0,
            "{} reports",
            reports.len()
        );
        assert!(reports.windows(2).all(|w| w[1].published >= w[0].published));
        assert_eq!(reports.last().unwrap().confirmed, s.confirmed);

        // Cancelled before anything went out, a publish sends nothing and says so.
        let before = b.count(&q).await;
        let cancelled = CancellationToken::new();
        cancelled.cancel();
        let s = publish::run(
            cluster.session().unwrap(),
            cluster.api(),
            &plan,
            cancelled,
            |_| {},
        )
        .await
        .unwrap();
        assert!(s.cancelled && s.published == 0 && s.confirmed == 0, "{s:?}");
        assert_eq!(b.count(&q).await, before);
        cluster.close().await;
        b.delete(&q).await;
    });
}

/// Runs `warren publish` with `args` on a queue that must stay empty, expecting exit status 1
/// and a message naming `field`.
async fn refused(b: &Broker, q: &str, args: &[&str], field: &str) {
    let mut all = vec!["--routing-key", q];
    all.extend_from_slice(args);
    let (code, _, stderr) = run_json(&all);
    assert_eq!(code, 1, "{args:?} was not refused: {stderr}");
    assert!(
        stderr.contains(field),
        "{args:?}: the message does not name {field}: {stderr}"
    );
    let n = b.count(q).await;
    assert_eq!(n, 0, "{args:?} sent {n} message(s)");
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn bad_input_is_refused_before_anything_is_sent_naming_the_field() {
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.refused");
        b.declare(&q).await;
        let dir = tempfile::tempdir().unwrap();
        let bad_json = write(dir.path(), "bad.jsonl", "{\"body\": \"a\"}\n{\"body\": }\n");
        let bad_priority = write(
            dir.path(),
            "prio.json",
            &json!({"routing_key": q, "properties": {"priority": 300}}).to_string(),
        );
        let bad_header = write(
            dir.path(),
            "header.json",
            &json!({"routing_key": q, "properties": {"headers": {"h": {"$type": "u8", "value": 256}}}})
                .to_string(),
        );
        let big = dir.path().join("big.bin");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(134_217_728 + 1)
            .unwrap();
        let big = big.display().to_string();
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (vec!["--message-file", &bad_json], "message file line 2"),
            (vec!["--message-file", &bad_priority], "properties.priority"),
            (vec!["--message-file", &bad_header], "properties.headers.h"),
            (vec!["--body", "x", "--header", "n:i16=40000"], "properties.headers.n"),
            (vec!["--body", "x", "--header", "f:bool=maybe"], "properties.headers.f"),
            (vec!["--body", "x", "--property", "expiration=soon"], "properties.expiration"),
            (vec!["--body", "x", "--property", "expiration=-5"], "properties.expiration"),
            (vec!["--body", "x", "--property", "priority=256"], "properties.priority"),
            (vec!["--body", "x", "--property", "delivery_mode=3"], "properties.delivery_mode"),
            (vec!["--body-file", &big], "body"),
            (vec!["--body", "{{nope}}"], "unknown variable \"nope\""),
            (vec!["--body", "x", "--property", "message_id={{tenant}}"], "properties.message_id"),
            // Message 128 of 200 would not fit: none of the 200 is sent.
            (vec!["--body", "x", "--header", "n:i8={{seq}}", "--count", "200"], "(message 128)"),
        ];
        for (args, field) in cases {
            refused(&b, &q, &args, field).await;
        }
        b.delete(&q).await;
    });
}

#[test]
fn a_preview_renders_the_first_messages_without_a_cluster() {
    let request: PublishRequest = serde_json::from_value(json!({
        "message": {"routing_key": "k.{{seq}}", "body": "{{seq}} {{who}}",
                    "properties": {"headers": {"n": {"$type": "i16", "value": "{{seq}}"}}}},
        "count": 100000,
        "variables": {"who": "me"}
    }))
    .unwrap();
    let plan = Plan::from_request(&request).unwrap();
    let preview: Vec<MessageJson> = plan.preview(3).unwrap();
    assert_eq!(preview.len(), 3);
    assert_eq!(preview[2].routing_key, "k.3");
    assert_eq!(preview[2].body, "3 me");
    let headers = preview[2].properties.headers.clone().unwrap();
    assert_eq!(headers["n"], json!({"$type": "i16", "value": 3}));
}

/// Clears node `n`'s disk alarm when dropped.
struct ClearAlarm(u8);

impl Drop for ClearAlarm {
    fn drop(&mut self) {
        cluster_node("clear-alarm", self.0);
    }
}

#[test]
fn a_disk_alarm_shows_as_blocked_and_the_publish_completes_once_it_clears() {
    let _lock = exclusive();
    runtime().block_on(async {
        let b = Broker::open().await;
        let q = unique("publish.alarm");
        b.declare(&q).await;
        let cluster = OpenCluster::open(common::target()).unwrap();
        cluster
            .session()
            .unwrap()
            .wait_connected(Duration::from_secs(10))
            .await
            .unwrap();
        cluster_node("alarm", 1);
        let mut clear = Some(ClearAlarm(1));
        let request: PublishRequest = serde_json::from_value(json!({
            "message": {"routing_key": q, "body": "during an alarm {{seq}}"},
            "count": 20
        }))
        .unwrap();
        let plan = Plan::from_request(&request).unwrap();
        let reports = std::sync::Mutex::new(Vec::<publish::PublishProgress>::new());
        let run = publish::run(
            cluster.session().unwrap(),
            cluster.api(),
            &plan,
            CancellationToken::new(),
            |p| reports.lock().unwrap().push(p),
        );
        let controller = async {
            // The publish must say it is blocked, and nothing may be confirmed meanwhile.
            let deadline = Instant::now() + Duration::from_secs(30);
            let blocked = loop {
                let seen = reports.lock().unwrap().iter().find(|p| p.blocked).cloned();
                if let Some(p) = seen {
                    break p;
                }
                assert!(Instant::now() < deadline, "no blocked progress within 30 s");
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            assert_eq!(blocked.confirmed, 0, "{blocked:?}");
            let reason = blocked.blocked_reason.clone().unwrap_or_default();
            assert!(reason.contains("disk"), "reason: {reason}");
            assert_eq!(b.count(&q).await, 0);
            tokio::task::spawn_blocking(move || drop(clear.take()))
                .await
                .unwrap();
        };
        let (summary, ()) = tokio::join!(run, controller);
        let summary = summary.unwrap();
        assert_eq!(
            (
                summary.confirmed,
                summary.failed,
                summary.returned,
                summary.nacked
            ),
            (20, 0, 0, 0),
            "{summary:?}"
        );
        assert!(!reports.lock().unwrap().last().unwrap().blocked);
        assert_eq!(b.count(&q).await, 20);
        cluster.close().await;
        b.delete(&q).await;
    });
}
