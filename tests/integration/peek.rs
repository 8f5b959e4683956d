//! Peek against the real cluster, for classic queues and streams: the peek returns exactly
//! what was published (every byte, property and header type), and afterwards the queue holds
//! the same messages in the same order. Quorum queues, whose peek differs by version, are in
//! `quorum`, which uses the helpers here.
//!
//! Each test declares its own uniquely named queues and deletes them at the end; none of them
//! stops a node, so they can share the cluster with anything else that only reads it.

use std::time::Duration;

use crate::common::{cluster, declare_durable, target, unique, warren_on_cluster};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use warren_core::cluster::OpenCluster;
use warren_core::lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeleteOptions,
};
use warren_core::lapin::types::{
    AMQPValue, ByteArray, DecimalValue, FieldArray, FieldTable, LongString,
};
use warren_core::lapin::{BasicProperties, Channel};
use warren_core::message::{Message, Properties};
use warren_core::peek::{self, PeekEnd, PeekRequest, PeekedMessage};

const WAIT: Duration = Duration::from_secs(10);

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// Message `seq` of a test queue: varied properties, a header of every AMQP type, and a
/// body that is JSON for some and binary (invalid UTF-8) for others.
pub(crate) fn test_message(queue: &str, seq: u32) -> Message {
    let mut m = stream_message(queue, seq);
    // Streams store messages as AMQP 1.0 and lose these header types: a decimal crashes the
    // publishing channel (INTERNAL_ERROR, 3.10 and 4.x), nested tables and arrays are silently
    // dropped (on 4.x unless the header's name starts with "x-"). Every other queue type
    // keeps them.
    if let Some(h) = m.properties.headers.as_mut() {
        let mut nested = FieldTable::default();
        nested.insert("depth".into(), AMQPValue::ShortInt(seq as i16));
        h.insert(
            "decimal".into(),
            AMQPValue::DecimalValue(DecimalValue {
                scale: 2,
                value: 1999,
            }),
        );
        h.insert("table".into(), AMQPValue::FieldTable(nested));
        h.insert(
            "array".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![
                AMQPValue::LongInt(1),
                AMQPValue::LongString("two".into()),
            ])),
        );
    }
    m
}

/// [`test_message`] without the header types a stream cannot keep (on 4.x, with the table and
/// array headers it keeps: those named "x-...").
fn stream_message(queue: &str, seq: u32) -> Message {
    let mut h = FieldTable::default();
    h.insert("seq".into(), AMQPValue::LongLongInt(seq.into()));
    h.insert("bool".into(), AMQPValue::Boolean(seq.is_multiple_of(2)));
    h.insert("i8".into(), AMQPValue::ShortShortInt(-(seq as i8)));
    h.insert("u8".into(), AMQPValue::ShortShortUInt(200));
    h.insert("i16".into(), AMQPValue::ShortInt(-300));
    h.insert("u16".into(), AMQPValue::ShortUInt(60000));
    h.insert("i32".into(), AMQPValue::LongInt(-70000));
    h.insert("u32".into(), AMQPValue::LongUInt(4_000_000_000));
    h.insert("f32".into(), AMQPValue::Float(1.5));
    h.insert("f64".into(), AMQPValue::Double(seq as f64 / 3.0));
    h.insert(
        "text".into(),
        AMQPValue::LongString(LongString::from(format!("héllo {seq}"))),
    );
    h.insert(
        "timestamp".into(),
        AMQPValue::Timestamp(1_700_000_000 + u64::from(seq)),
    );
    h.insert(
        "bytes".into(),
        AMQPValue::ByteArray(ByteArray::from(vec![0, 255, seq as u8])),
    );
    h.insert("void".into(), AMQPValue::Void);
    if !cluster().has_mirroring() {
        let mut nested = FieldTable::default();
        nested.insert("depth".into(), AMQPValue::ShortInt(seq as i16));
        h.insert("x-table".into(), AMQPValue::FieldTable(nested));
        h.insert(
            "x-array".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![
                AMQPValue::LongInt(1),
                AMQPValue::LongString("two".into()),
            ])),
        );
    }
    let body = if seq.is_multiple_of(3) {
        vec![0xff, 0xfe, 0x00, seq as u8, 0x80]
    } else {
        format!("{{\"seq\": {seq}, \"queue\": \"{queue}\"}}").into_bytes()
    };
    Message {
        exchange: String::new(),
        routing_key: queue.to_owned(),
        properties: Properties {
            content_type: Some(
                if seq.is_multiple_of(3) {
                    "application/octet-stream"
                } else {
                    "application/json"
                }
                .into(),
            ),
            content_encoding: Some("identity".into()),
            headers: Some(h),
            delivery_mode: Some(2),
            priority: Some((seq % 10) as u8),
            correlation_id: Some(format!("corr-{seq}")),
            reply_to: Some("replies".into()),
            expiration: (seq % 4 == 1).then(|| "3600000".to_owned()),
            message_id: Some(format!("msg-{seq}")),
            timestamp: Some(1_700_000_000 + u64::from(seq)),
            kind: Some("test.event".into()),
            user_id: Some("guest".into()),
            app_id: Some("warren-it".into()),
        },
        body,
    }
}

/// What a stream gives back of [`stream_message`]: the same on 3.10; on 4.x byte-array
/// headers come back as (binary) long strings of the same bytes.
fn as_stream_keeps(mut m: Message) -> Message {
    if !cluster().has_mirroring() {
        if let Some(h) = m.properties.headers.take() {
            let kept: std::collections::BTreeMap<_, _> = h
                .inner()
                .iter()
                .map(|(k, v)| match v {
                    AMQPValue::ByteArray(b) => (
                        k.clone(),
                        AMQPValue::LongString(LongString::from(b.as_slice().to_vec())),
                    ),
                    v => (k.clone(), v.clone()),
                })
                .collect();
            m.properties.headers = Some(FieldTable::from(kept));
        }
    }
    m
}

/// A peek of the first `count` messages of `queue` in "/", without consent to side effects.
pub(crate) fn request(queue: &str, count: u32) -> PeekRequest {
    PeekRequest {
        vhost: "/".into(),
        queue: queue.into(),
        count,
        offset: None,
        allow_side_effects: false,
        budget_bytes: None,
    }
}

pub(crate) async fn channel(cluster: &OpenCluster) -> Channel {
    cluster
        .session()
        .unwrap()
        .wait_connected(WAIT)
        .await
        .unwrap();
    cluster.session().unwrap().channel(WAIT).await.unwrap().0
}

/// Declares `queue` of `kind` ("classic", "quorum", "stream") and publishes messages
/// 1..=count, confirmed.
pub(crate) async fn seed(
    cluster: &OpenCluster,
    queue: &str,
    kind: &str,
    count: u32,
) -> Vec<Message> {
    seed_with(cluster, queue, kind, FieldTable::default(), count).await
}

/// [`seed`] with more queue arguments.
pub(crate) async fn seed_with(
    cluster: &OpenCluster,
    queue: &str,
    kind: &str,
    mut args: FieldTable,
    count: u32,
) -> Vec<Message> {
    let ch = channel(cluster).await;
    if kind != "classic" {
        args.insert("x-queue-type".into(), AMQPValue::LongString(kind.into()));
    }
    declare_durable(&ch, queue, args).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut sent = Vec::new();
    for seq in 1..=count {
        let m = if kind == "stream" {
            stream_message(queue, seq)
        } else {
            test_message(queue, seq)
        };
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                &m.body,
                m.amqp_properties().unwrap(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack(), "message {seq} not confirmed");
        sent.push(m);
    }
    sent
}

/// Declares `queue` of `kind` and fills it with `count` small messages, pipelined (confirms
/// awaited a thousand at a time): message `seq` (1-based) has `seq` as its message id and body.
pub(crate) async fn fill(cluster: &OpenCluster, queue: &str, kind: &str, count: u32) {
    seed(cluster, queue, kind, 0).await;
    let ch = channel(cluster).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut pending = Vec::with_capacity(1000);
    for seq in 1..=count {
        let properties = BasicProperties::default()
            .with_message_id(seq.to_string().into())
            .with_delivery_mode(2);
        pending.push(
            ch.basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                seq.to_string().as_bytes(),
                properties,
            )
            .await
            .unwrap(),
        );
        if pending.len() == 1000 || seq == count {
            for confirm in pending.drain(..) {
                assert!(
                    confirm.await.unwrap().is_ack(),
                    "a message was not confirmed"
                );
            }
        }
    }
}

/// The sequence numbers [`fill`] gave `messages`, in their order.
pub(crate) fn seqs<'a>(messages: impl IntoIterator<Item = &'a Message>) -> Vec<u32> {
    messages
        .into_iter()
        .map(|m| {
            let id = m.properties.message_id.as_deref().expect("a message id");
            id.parse().unwrap_or_else(|_| panic!("message id {id}"))
        })
        .collect()
}

pub(crate) async fn delete(cluster: &OpenCluster, queue: &str) {
    let ch = channel(cluster).await;
    ch.queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
}

/// Consumes and acks every message of `queue` (a plain consumer), in delivery order.
pub(crate) async fn drain(cluster: &OpenCluster, queue: &str) -> Vec<(Message, bool)> {
    use futures_util::StreamExt;
    let ch = channel(cluster).await;
    ch.basic_qos(100, BasicQosOptions::default()).await.unwrap();
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "it-drain".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Ok(Some(d)) = tokio::time::timeout(Duration::from_millis(1500), consumer.next()).await
    {
        let d = d.unwrap();
        d.acker.ack(BasicAckOptions::default()).await.unwrap();
        out.push((
            Message::from_amqp(&d.exchange, &d.routing_key, &d.properties, d.data),
            d.redelivered,
        ));
    }
    out
}

/// The message without the headers the broker adds on delivery.
pub(crate) fn without_broker_headers(mut m: Message) -> Message {
    if let Some(h) = m.properties.headers.take() {
        let kept: std::collections::BTreeMap<_, _> = h
            .inner()
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "x-delivery-count" | "x-acquired-count" | "x-stream-offset"
                )
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        m.properties.headers = Some(FieldTable::from(kept));
    }
    m
}

/// `warren peek` through the real binary; the parsed JSON lines.
pub(crate) fn cli_peek(queue: &str, extra: &[&str]) -> (Vec<PeekedMessage>, std::process::Output) {
    let mut args = vec!["peek", queue, "--json"];
    args.extend_from_slice(extra);
    let out = warren_on_cluster(&args);
    let lines = String::from_utf8(out.stdout.clone()).unwrap();
    let messages = lines
        .lines()
        .map(|l| serde_json::from_str::<PeekedMessage>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (messages, out)
}

pub(crate) fn assert_same(peeked: &[PeekedMessage], sent: &[Message]) {
    assert_eq!(peeked.len(), sent.len(), "message count");
    for (i, (p, s)) in peeked.iter().zip(sent).enumerate() {
        assert_eq!(p.position, i as u32 + 1);
        assert_eq!(
            without_broker_headers(p.message.clone()),
            *s,
            "message {} differs",
            i + 1
        );
    }
}

/// Classic and mirrored classic queues: the peek reads everything exactly, and a plain
/// consumer then gets the same messages in the same order.
fn classic_like(prefix: &str) {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique(prefix);
        let sent = seed(&cluster, &queue, "classic", 12).await;
        let (peeked, out) = cli_peek(&queue, &["--count", "12"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same(&peeked, &sent);
        // A second peek sees the same messages (now marked redelivered, as the plan says).
        let (again, _) = cli_peek(&queue, &["--count", "5"]);
        assert_same(&again, &sent[..5]);
        assert!(again.iter().all(|m| m.redelivered));
        let drained = drain(&cluster, &queue).await;
        let bodies: Vec<Message> = drained.into_iter().map(|(m, _)| m).collect();
        assert_eq!(bodies, sent, "the queue changed: order or content");
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn classic_queue_peek_is_exact_and_leaves_the_queue_as_it_was() {
    classic_like("peek");
}

#[test]
fn mirrored_classic_queue_peek_is_exact_and_leaves_the_queue_as_it_was() {
    // "ha." queues get the demo cluster's ha-mode=all policy (tests/cluster/seed): mirrored
    // on 3.x, a plain classic queue under a left-over policy on 4.x.
    classic_like("ha");
}

/// A peek of more than a 16-bit prefetch can say (65,535): the peek of 70,000 messages of a
/// queue holding ten more shows exactly the first 70,000 in order, and afterwards the queue
/// holds all of them in order. Only those were delivered to Warren: the ten after them come
/// back never redelivered.
#[test]
fn a_classic_queue_peek_past_65535_shows_and_touches_exactly_the_count() {
    const COUNT: u32 = 70_000;
    const MORE: u32 = 10;
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.large");
        fill(&cluster, &queue, "classic", COUNT + MORE).await;
        // The count is reached before any idle wait; a long one only keeps a slow start (the
        // machine is shared) from ending the peek early.
        let (peeked, out) = cli_peek(
            &queue,
            &["--count", &COUNT.to_string(), "--idle-ms", "5000"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown = seqs(peeked.iter().map(|p| &p.message));
        assert_eq!(shown.len(), COUNT as usize, "messages shown");
        assert!(
            shown.iter().copied().eq(1..=COUNT),
            "not the first {COUNT} in order"
        );
        assert!(peeked.iter().map(|p| p.position).eq(1..=COUNT));

        let drained = drain(&cluster, &queue).await;
        assert!(
            seqs(drained.iter().map(|(m, _)| m))
                .into_iter()
                .eq(1..=COUNT + MORE),
            "the queue changed: lost or reordered messages"
        );
        let redelivered: Vec<bool> = drained.iter().map(|(_, r)| *r).collect();
        assert!(
            redelivered[..COUNT as usize].iter().all(|r| *r),
            "a peeked message was not given back"
        );
        let touched = redelivered[COUNT as usize..].iter().filter(|r| **r).count();
        assert_eq!(
            touched, 0,
            "messages beyond the count were delivered to the peek"
        );
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

/// The same count on a stream: exactly 70,000 from offset 0, in order.
#[test]
fn a_stream_peek_past_65535_reads_exactly_the_count() {
    const COUNT: u32 = 70_000;
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.stream.large");
        fill(&cluster, &queue, "stream", COUNT + 10).await;
        let (peeked, out) = cli_peek(
            &queue,
            &[
                "--count",
                &COUNT.to_string(),
                "--offset",
                "first",
                "--idle-ms",
                "3000",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(seqs(peeked.iter().map(|p| &p.message))
            .into_iter()
            .eq(1..=COUNT));
        assert!(peeked
            .iter()
            .map(|p| p.offset.unwrap())
            .eq(0..u64::from(COUNT)));
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn stream_peek_reads_from_any_offset_and_changes_nothing() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.stream");
        let sent = seed(&cluster, &queue, "stream", 10).await;
        let sent: Vec<Message> = sent.into_iter().map(as_stream_keeps).collect();
        let (peeked, out) = cli_peek(
            &queue,
            &["--count", "10", "--offset", "first", "--idle-ms", "3000"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same(&peeked, &sent);
        let offsets: Vec<u64> = peeked.iter().map(|m| m.offset.unwrap()).collect();
        assert_eq!(offsets, (0..10).collect::<Vec<u64>>());
        assert!(peeked.iter().all(|m| !m.redelivered));

        let (from_4, _) = cli_peek(
            &queue,
            &["--count", "3", "--offset", "4", "--idle-ms", "3000"],
        );
        assert_same(&from_4, &sent[4..7]);
        assert_eq!(from_4[0].offset, Some(4));

        // Reading again from the start gives the very same messages.
        let (again, _) = cli_peek(&queue, &["--count", "20", "--idle-ms", "1500"]);
        assert_same(&again, &sent);
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn peek_beside_a_consumer_sees_the_ready_messages_and_loses_none() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.busy");
        let sent = seed(&cluster, &queue, "classic", 6).await;
        // Another consumer holds the first two messages unacknowledged.
        let (other, _consumer) = holding_two(&cluster, &queue, "other").await;
        let (peeked, out) = cli_peek(&queue, &["--count", "10"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The plan reads the queue through the management API, which can answer late on a
        // freshly started cluster: a failure is retried for a while, and each one is kept.
        let mut failures = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let plan_notes = loop {
            let plan = warren_on_cluster(&["peek", &queue, "--plan"]);
            if plan.status.success() {
                break String::from_utf8_lossy(&plan.stdout).into_owned();
            }
            failures.push(String::from_utf8_lossy(&plan.stderr).into_owned());
            assert!(std::time::Instant::now() < deadline, "{failures:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        assert!(plan_notes.contains("consumer"), "{plan_notes}");
        assert_eq!(peeked.len(), 4, "the peek sees the ready messages only");
        assert_same(&peeked, &sent[2..]);
        // The other consumer goes away without acking: all six are back, none lost.
        other.close(200, "bye".into()).await.unwrap();
        let drained: Vec<Message> = drain(&cluster, &queue)
            .await
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        assert_eq!(drained, sent);
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

/// A queue that holds more than it hands the peek (here a single-active-consumer queue whose
/// active consumer is someone else) looks like a node that stopped answering: nothing comes.
/// The node answers its pings, so the peek ends as "the queue held no more", with nothing
/// lost, at the next ping rather than after the whole wait for a verdict.
#[test]
fn a_peek_that_gets_fewer_than_the_queue_holds_from_a_live_node_ends_without_an_error() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.sac");
        let mut args = FieldTable::default();
        args.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        let sent = seed_with(&cluster, &queue, "classic", args, 6).await;
        let (other, _consumer) = holding_two(&cluster, &queue, "active").await;
        let session = cluster.session().unwrap();
        let mut shown = 0;
        let mut receiving = None;
        let report = peek::run(
            session,
            cluster.api(),
            &request(&queue, 10),
            peek::DEFAULT_IDLE,
            CancellationToken::new(),
            |_| {
                shown += 1;
                Ok(())
            },
            |p| {
                if p.phase == peek::PeekPhase::Receiving && receiving.is_none() {
                    receiving = Some(std::time::Instant::now());
                }
            },
        )
        .await
        .unwrap();
        let waited = receiving.unwrap().elapsed();
        println!("waited {waited:?} for the verdict");
        assert_eq!((report.received, report.end), (0, PeekEnd::QueueExhausted));
        assert_eq!(shown, 0);
        // Bounded by the pings, whatever the machine's load.
        assert!(waited < Duration::from_secs(15), "{waited:?}");
        other.close(200, "bye".into()).await.unwrap();
        let drained: Vec<Message> = drain(&cluster, &queue)
            .await
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        assert_eq!(drained, sent);
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

/// A channel whose consumer (`tag`, a prefetch of 2) holds the queue's first two messages
/// unacknowledged, and that consumer (dropping it cancels it); closing the channel gives
/// them back.
async fn holding_two(
    cluster: &OpenCluster,
    queue: &str,
    tag: &str,
) -> (Channel, warren_core::lapin::Consumer) {
    use futures_util::StreamExt;
    let other = channel(cluster).await;
    other
        .basic_qos(2, BasicQosOptions::default())
        .await
        .unwrap();
    let mut consumer = other
        .basic_consume(
            queue.into(),
            tag.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        tokio::time::timeout(WAIT, consumer.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    (other, consumer)
}

/// A classic queue with `x-max-priority` delivers the highest priority first on every
/// version; the plan says so and the peek shows that order.
#[test]
fn classic_priority_queue_peek_shows_the_priority_order_the_plan_states() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.classic-priority");
        let mut args = FieldTable::default();
        args.insert("x-max-priority".into(), AMQPValue::ShortShortUInt(10));
        seed_with(&cluster, &queue, "classic", args, 0).await;
        crate::quorum::peek_shows_the_stated_order(&cluster, &queue, "highest_priority_first")
            .await;
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn peek_of_an_empty_queue_and_of_a_missing_queue() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.empty");
        seed(&cluster, &queue, "classic", 0).await;
        let (none, out) = cli_peek(&queue, &["--count", "10"]);
        assert!(out.status.success());
        assert!(none.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("held no more"));
        delete(&cluster, &queue).await;

        let (_, out) = cli_peek("no.such.queue.anywhere", &["--count", "1"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no queue \"no.such.queue.anywhere\""), "{err}");
        cluster.close().await;
    });
}

#[test]
fn a_cancelled_peek_returns_everything_it_held() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.cancel");
        let sent = seed(&cluster, &queue, "classic", 20).await;
        let cancel = CancellationToken::new();
        let mut seen = 0;
        let report = peek::run(
            cluster.session().unwrap(),
            cluster.api(),
            &request(&queue, 20),
            peek::DEFAULT_IDLE,
            cancel.clone(),
            |_| {
                seen += 1;
                if seen == 7 {
                    cancel.cancel();
                }
                Ok(())
            },
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(report.end, PeekEnd::Cancelled);
        assert!(
            report.received >= 7 && report.received < 20,
            "{}",
            report.received
        );
        let drained: Vec<Message> = drain(&cluster, &queue)
            .await
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        assert_eq!(drained, sent, "a cancelled peek lost or reordered messages");

        // Cancelled before it holds anything, a peek stops at once with an error and
        // touches nothing.
        let sent = seed(&cluster, &queue, "classic", 3).await;
        let cancelled = CancellationToken::new();
        cancelled.cancel();
        let mut seen = 0;
        let result = peek::run(
            cluster.session().unwrap(),
            cluster.api(),
            &request(&queue, 3),
            peek::DEFAULT_IDLE,
            cancelled,
            |_| {
                seen += 1;
                Ok(())
            },
            |_| {},
        )
        .await;
        assert!(
            matches!(result, Err(warren_core::Error::Cancelled)),
            "{result:?}"
        );
        assert_eq!(seen, 0);
        let drained: Vec<(Message, bool)> = drain(&cluster, &queue).await;
        assert!(drained.iter().all(|(_, redelivered)| !redelivered));
        let drained: Vec<Message> = drained.into_iter().map(|(m, _)| m).collect();
        assert_eq!(drained, sent);
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn queues_lists_every_queue_as_json_lines() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.list");
        seed(&cluster, &queue, "quorum", 3).await;
        // The API's counts lag by a statistics interval.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let row = loop {
            let out = warren_on_cluster(&["queues", "--filter", &regex_escape(&queue), "--json"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let rows: Vec<Value> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(rows.len(), 1, "{rows:?}");
            // Counts and consumers arrive with the first statistics, not always together.
            let settled = rows[0]["messages_ready"] == 3
                && rows[0]["messages_unacknowledged"] == 0
                && rows[0]["consumers"] == 0;
            if settled || std::time::Instant::now() > deadline {
                break rows[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        assert_eq!(row["vhost"], "/");
        assert_eq!(row["name"], queue.as_str());
        assert_eq!(row["type"], "quorum");
        assert_eq!(row["messages_ready"], 3);
        assert_eq!(row["messages_unacknowledged"], 0);
        assert_eq!(row["consumers"], 0);
        assert_eq!(row["replication"]["kind"], "members");
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

fn regex_escape(s: &str) -> String {
    let mut out = String::from("^");
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('$');
    out
}
