//! Consumers and taps against the real cluster: every settle removes or keeps exactly what
//! it says, rejects without requeue reach the dead-letter queue, a stop gives back what was
//! held, a lost node makes the unsettled deliveries stale without anything settled twice, a
//! deleted queue shows as the broker's cancel, and a tap sees what is published while it runs
//! and leaves no queue behind.
//!
//! Each test uses its own queues and exchanges and deletes them. Only the node-kill test
//! faults a node: it takes `exclusive()` (and the caller the exclusive file lock).

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use warren_core::cluster::OpenCluster;
use warren_core::consume::{
    self, AckMode, ConsumeRequest, ConsumedMessage, ConsumerEvent, ConsumerHandle, DeliveryState,
    EventReceiver, ReturnMethod, Settle, SkipReason, TapRequest,
};
use warren_core::lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
};
use warren_core::lapin::types::{AMQPValue, FieldTable, LongString};
use warren_core::lapin::BasicProperties;
use warren_core::management::ManagementClient;
use warren_core::ErrorKind;

use crate::common::{cluster_node, exclusive, target, unique, warren_on_cluster};
use crate::peek::{channel, delete, drain, fill, runtime, seed_with, seqs};

/// The longest any one wait on the broker may take before the test fails.
const BOUND: Duration = Duration::from_secs(30);

fn request(queue: &str, prefetch: u16) -> ConsumeRequest {
    ConsumeRequest {
        vhost: "/".into(),
        queue: queue.into(),
        prefetch,
        exclusive: false,
        priority: None,
        offset: None,
        ack_mode: AckMode::Manual,
        budget_bytes: None,
        auto_resume: false,
    }
}

/// A consumer's events, one at a time.
struct Events {
    rx: EventReceiver,
    pending: VecDeque<ConsumerEvent>,
}

impl Events {
    fn new(rx: EventReceiver) -> Events {
        Events {
            rx,
            pending: VecDeque::new(),
        }
    }
}

/// Waits for the next event that `want` picks (those before it are passed over); returns it.
async fn wait_for(
    events: &mut Events,
    mut want: impl FnMut(&ConsumerEvent) -> bool,
) -> ConsumerEvent {
    let found = tokio::time::timeout(BOUND, async {
        loop {
            while let Some(e) = events.pending.pop_front() {
                if want(&e) {
                    return e;
                }
            }
            match events.rx.recv().await {
                Some(batch) => events.pending.extend(batch),
                None => panic!("the consumer's events ended"),
            }
        }
    })
    .await;
    found.expect("the event did not come in time")
}

/// Waits until deliveries up to `seq` are held; returns them all from `from`.
async fn deliveries(
    handle: &ConsumerHandle,
    events: &mut Events,
    from: u64,
    to: u64,
) -> Vec<ConsumedMessage> {
    wait_for(
        events,
        |e| matches!(e, ConsumerEvent::Deliveries { last_seq, .. } if *last_seq >= to),
    )
    .await;
    handle.messages(from, to)
}

fn ids(messages: &[ConsumedMessage]) -> Vec<u32> {
    seqs(messages.iter().map(|m| &m.message))
}

fn sorted(v: impl IntoIterator<Item = u32>) -> Vec<u32> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

fn seq_of(messages: &[ConsumedMessage], id: u32) -> u64 {
    messages
        .iter()
        .find(|m| ids(std::slice::from_ref(m)) == [id])
        .unwrap_or_else(|| panic!("no delivery of message {id}"))
        .seq
}

fn settles_remove_exactly_what_they_say(kind: &str) {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique(&format!("consume.settle.{kind}"));
        fill(&cluster, &queue, kind, 10).await;
        let (handle, events) = consume::start(
            cluster.started().unwrap(),
            request(&queue, 20),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let mut events = Events::new(events);
        let got = deliveries(&handle, &mut events, 1, 10).await;
        assert_eq!(sorted(ids(&got)), (1..=10).collect::<Vec<_>>());
        assert!(got.iter().all(|m| m.delivery_tag > 0));
        // Acks of everything up to the third delivery: one frame.
        let third = got[2].seq;
        let acked: Vec<u32> = ids(&got[..3]);
        let r = handle.settle_up_to(third, Settle::Ack).await.unwrap();
        assert_eq!((r.settled.len(), r.frames), (3, 1));
        // Settling them again does nothing.
        let again = handle.settle_up_to(third, Settle::Ack).await.unwrap();
        assert!(again.settled.is_empty() && again.frames == 0);
        let r = handle
            .settle(vec![got[0].seq], Settle::Nack { requeue: true })
            .await
            .unwrap();
        assert_eq!(r.skipped[0].reason, SkipReason::AlreadySettled);
        let nacked = ids(&got[3..4]);
        handle
            .settle(vec![got[3].seq], Settle::Nack { requeue: true })
            .await
            .unwrap();
        let rejected = ids(&got[4..5]);
        handle
            .settle(vec![got[4].seq], Settle::Reject { requeue: true })
            .await
            .unwrap();
        let rows = handle.rows(0, 10, &[]);
        assert_eq!(rows[0].state, DeliveryState::Acked);
        assert_eq!(rows[3].state, DeliveryState::NackedRequeued);
        assert_eq!(rows[4].state, DeliveryState::RejectedRequeued);
        let report = handle.stop().await.unwrap();
        assert_eq!(report.acked, 3);
        // What was held unsettled went back: the five never settled, and on a quorum queue
        // the requeued ones come round again to this consumer before the stop.
        assert!(report.returned >= 5, "{report:?}");
        let left: Vec<u32> = drain(&cluster, &queue)
            .await
            .iter()
            .map(|(m, _)| seqs([m])[0])
            .collect();
        let mut expected: Vec<u32> = (1..=10).filter(|i| !acked.contains(i)).collect();
        expected.sort_unstable();
        assert_eq!(sorted(left.clone()), expected, "acked {acked:?}");
        assert_eq!(left.len(), 7, "nothing twice in the queue");
        assert!(left.contains(&nacked[0]) && left.contains(&rejected[0]));
        delete(&cluster, &queue).await;
    });
}

#[test]
fn classic_queue_settles_remove_exactly_what_they_say() {
    settles_remove_exactly_what_they_say("classic");
}

#[test]
fn quorum_queue_settles_remove_exactly_what_they_say() {
    settles_remove_exactly_what_they_say("quorum");
}

#[test]
fn rejected_and_nacked_without_requeue_go_to_the_dead_letter_queue() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume.dlx");
        let dlq = unique("consume.dlx.dead");
        fill(&cluster, &dlq, "classic", 0).await;
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("".into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(LongString::from(dlq.as_str())),
        );
        seed_with(&cluster, &queue, "classic", args, 0).await;
        let q = queue.as_str();
        publish(&cluster, "", &[q, q, q, q]).await;
        let (handle, events) = consume::start(
            cluster.started().unwrap(),
            request(&queue, 20),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let mut events = Events::new(events);
        let got = deliveries(&handle, &mut events, 1, 4).await;
        handle
            .settle(vec![seq_of(&got, 1)], Settle::Reject { requeue: false })
            .await
            .unwrap();
        handle
            .settle(vec![seq_of(&got, 2)], Settle::Nack { requeue: false })
            .await
            .unwrap();
        let report = handle.stop().await.unwrap();
        assert_eq!((report.rejected, report.nacked, report.returned), (1, 1, 2));
        assert_eq!(report.returned_by, ReturnMethod::NackRequeue);
        let dead = drain(&cluster, &dlq).await;
        assert_eq!(sorted(dead.iter().map(|(m, _)| seqs([m])[0])), vec![1, 2]);
        let left = drain(&cluster, &queue).await;
        assert_eq!(sorted(left.iter().map(|(m, _)| seqs([m])[0])), vec![3, 4]);
        delete(&cluster, &queue).await;
        delete(&cluster, &dlq).await;
    });
}

/// Brings node `n` back when dropped, so a failed assertion leaves the cluster whole.
struct Restore(u8);

impl Drop for Restore {
    fn drop(&mut self) {
        cluster_node("start", self.0);
    }
}

#[test]
fn killing_the_consumers_node_makes_its_unsettled_deliveries_stale_and_none_is_settled_twice() {
    let _lock = exclusive();
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume.kill");
        // A quorum queue keeps its messages when one of its three members goes.
        fill(&cluster, &queue, "quorum", 10).await;
        let (handle, events) = consume::start(
            cluster.started().unwrap(),
            request(&queue, 20),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let mut events = Events::new(events);
        let endpoint = match handle_started(&mut events).await {
            Some(e) => e,
            None => panic!("no Started event"),
        };
        let got = deliveries(&handle, &mut events, 1, 10).await;
        let acked = ids(&got[..3]);
        handle.settle_up_to(got[2].seq, Settle::Ack).await.unwrap();
        let node = crate::common::cluster()
            .nodes
            .iter()
            .find(|n| n.label() == endpoint)
            .expect("the consumer's node")
            .n;
        let _restore = Restore(node);
        cluster_node("kill", node);
        let lost = wait_for(&mut events, |e| {
            matches!(e, ConsumerEvent::ChannelLost { .. })
        })
        .await;
        let ConsumerEvent::ChannelLost { stale, .. } = lost else {
            unreachable!()
        };
        assert_eq!(stale, 7);
        let rows = handle.rows(0, 10, &[]);
        assert_eq!(
            rows.iter()
                .filter(|r| r.state == DeliveryState::Stale)
                .count(),
            7
        );
        // A stale delivery is never settled: its tag died with its channel.
        let r = handle
            .settle(got[3..].iter().map(|m| m.seq).collect(), Settle::Ack)
            .await
            .unwrap();
        assert_eq!((r.frames, r.settled.len()), (0, 0));
        assert!(r.skipped.iter().all(|s| s.reason == SkipReason::Stale));
        handle.resume().await.unwrap();
        if crate::common::cluster().major >= 4 {
            // Seen on 4.3: a quorum queue keeps what a consumer on a vanished node held
            // checked out (the node is only suspected down) until the node is back.
            cluster_node("start", node);
        }
        // The seven come again, on another node, as new deliveries.
        let again = deliveries(&handle, &mut events, 11, 17).await;
        assert_eq!(
            sorted(ids(&again)),
            sorted((1..=10).filter(|i| !acked.contains(i)))
        );
        assert!(again.iter().all(|m| m.redelivered));
        let r = handle
            .settle_up_to(again[6].seq, Settle::Ack)
            .await
            .unwrap();
        assert_eq!(r.settled.len(), 7);
        let report = handle.stop().await.unwrap();
        assert_eq!((report.acked, report.stale, report.returned), (10, 7, 0));
        assert!(drain(&cluster, &queue).await.is_empty());
        delete(&cluster, &queue).await;
    });
}

async fn handle_started(events: &mut Events) -> Option<String> {
    match wait_for(events, |e| matches!(e, ConsumerEvent::Started { .. })).await {
        ConsumerEvent::Started { endpoint, .. } => Some(endpoint),
        _ => None,
    }
}

#[test]
fn a_queue_deleted_under_a_consumer_shows_the_brokers_cancel() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume.deleted");
        fill(&cluster, &queue, "classic", 2).await;
        let (handle, events) = consume::start(
            cluster.started().unwrap(),
            request(&queue, 20),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let mut events = Events::new(events);
        deliveries(&handle, &mut events, 1, 2).await;
        delete(&cluster, &queue).await;
        wait_for(&mut events, |e| {
            matches!(e, ConsumerEvent::CancelledByBroker { .. })
        })
        .await;
        assert_eq!(
            handle.summary().phase,
            warren_core::consume::ConsumerPhase::CancelledByBroker
        );
        // Resuming asks the broker again, which has no such queue any more.
        let e = handle.resume().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        handle.stop().await.unwrap();
    });
}

async fn publish(cluster: &OpenCluster, exchange: &str, keys: &[&str]) {
    let ch = channel(cluster).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for (i, key) in keys.iter().enumerate() {
        ch.basic_publish(
            exchange.into(),
            (*key).into(),
            BasicPublishOptions::default(),
            format!("tap {i}").as_bytes(),
            BasicProperties::default().with_message_id((i + 1).to_string().into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
}

async fn declare_exchange(cluster: &OpenCluster, exchange: &str) {
    let ch = channel(cluster).await;
    ch.exchange_declare(
        exchange.into(),
        warren_core::lapin::ExchangeKind::Topic,
        ExchangeDeclareOptions {
            auto_delete: false,
            ..ExchangeDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
}

async fn delete_exchange(cluster: &OpenCluster, exchange: &str) {
    let ch = channel(cluster).await;
    ch.exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await
        .unwrap();
}

async fn queue_exists(api: &ManagementClient, name: &str) -> bool {
    let path = format!(
        "queues/%2F/{}",
        warren_core::management::encode_segment(name)
    );
    match api.get::<Value>(&path).await {
        Ok(_) => true,
        Err(warren_core::Error::Http { status: 404, .. }) => false,
        Err(e) => panic!("reading queue {name}: {e}"),
    }
}

#[test]
fn a_tap_sees_what_is_published_while_it_runs_and_leaves_no_queue() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let exchange = unique("consume.tap");
        declare_exchange(&cluster, &exchange).await;
        publish(&cluster, &exchange, &["a.before"]).await;
        let request = TapRequest {
            vhost: "/".into(),
            exchange: exchange.clone(),
            binding_key: Some("a.#".into()),
            arguments: None,
            budget_bytes: None,
            auto_resume: false,
        };
        let (handle, events) = consume::tap::start(
            cluster.started().unwrap(),
            request,
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let mut events = Events::new(events);
        let tap_queue =
            match wait_for(&mut events, |e| matches!(e, ConsumerEvent::Started { .. })).await {
                ConsumerEvent::Started { queue, .. } => queue,
                _ => unreachable!(),
            };
        let api = ManagementClient::new(&target()).unwrap();
        assert!(queue_exists(&api, &tap_queue).await);
        publish(
            &cluster,
            &exchange,
            &["a.one", "b.other", "a.two", "a.three"],
        )
        .await;
        let got = deliveries(&handle, &mut events, 1, 3).await;
        let keys: Vec<&str> = got.iter().map(|m| m.message.routing_key.as_str()).collect();
        assert_eq!(keys, ["a.one", "a.two", "a.three"]);
        assert!(got.iter().all(
            |m| handle.rows(0, 10, &[])[(m.seq - 1) as usize].state == DeliveryState::AutoAcked
        ));
        let report = handle.stop().await.unwrap();
        assert_eq!(report.tap_queue_removed, Some(true));
        assert_eq!(
            report.received, 3,
            "nothing published before or off the key"
        );
        assert!(!queue_exists(&api, &tap_queue).await);
        delete_exchange(&cluster, &exchange).await;
    });
}

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn warren_consume_prints_and_settles_as_told_and_says_when_fewer_arrived() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume.cli");
        fill(&cluster, &queue, "classic", 8).await;
        let out = warren_on_cluster(&["consume", &queue, "--count", "5", "--ack", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 5);
        let first: Vec<String> = lines
            .iter()
            .map(|l| l["properties"]["message_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(first, ["1", "2", "3", "4", "5"]);
        assert!(lines
            .iter()
            .all(|l| l["delivery_tag"].as_u64().is_some() && l["redelivered"] == false));
        // Three are left; asking for ten with nack-requeue prints them, keeps them, and says
        // that fewer arrived.
        let out = warren_on_cluster(&[
            "consume",
            &queue,
            "--count",
            "10",
            "--nack-requeue",
            "--idle-timeout",
            "1",
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(6));
        assert!(String::from_utf8_lossy(&out.stderr).contains("only 3 of 10"));
        let lines = json_lines(&out);
        // Requeued at the end, so none came round twice.
        let ids: Vec<&str> = lines
            .iter()
            .map(|l| l["properties"]["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["6", "7", "8"]);
        let left = drain(&cluster, &queue).await;
        assert_eq!(
            sorted(left.iter().map(|(m, _)| seqs([m])[0])),
            vec![6, 7, 8]
        );
        assert_eq!(left.len(), 3);
        // No settle flag: refused before anything happens.
        let out = warren_on_cluster(&["consume", &queue, "--count", "1"]);
        assert_eq!(out.status.code(), Some(2));
        delete(&cluster, &queue).await;
    });
}

#[test]
fn warren_tap_prints_what_is_published_while_it_runs() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let exchange = unique("consume.tapcli");
        declare_exchange(&cluster, &exchange).await;
        let mut args = crate::common::node_args();
        args.extend(
            [
                "tap",
                &exchange,
                "--count",
                "2",
                "--json",
                "--idle-timeout",
                "20",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_warren"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Publish once the tap's queue is bound (its binding shows in the API).
        let api = ManagementClient::new(&target()).unwrap();
        let path = format!(
            "exchanges/%2F/{}/bindings/source",
            warren_core::management::encode_segment(&exchange)
        );
        let bound = tokio::time::timeout(BOUND, async {
            loop {
                let b: Vec<Value> = api.get(&path).await.unwrap();
                if !b.is_empty() {
                    return b[0]["destination"].as_str().unwrap().to_owned();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .expect("the tap bound its queue");
        publish(&cluster, &exchange, &["x.1", "x.2"]).await;
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = json_lines(&out);
        let keys: Vec<&str> = lines
            .iter()
            .map(|l| l["routing_key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["x.1", "x.2"]);
        assert!(!queue_exists(&api, &bound).await);
        delete_exchange(&cluster, &exchange).await;
    });
}
