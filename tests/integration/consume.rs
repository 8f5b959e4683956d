//! Consumers and taps against the real cluster: every settle removes or keeps exactly what
//! it says, rejects without requeue reach the dead-letter queue, a stop gives back what was
//! held, a lost node makes the unsettled deliveries stale without anything settled twice (and
//! what each queue type gives back before the node returns), a deleted queue shows as the
//! broker's cancel and Resume consumes it again once it is back, auto-resume follows a closed
//! connection, a stream consumer starts at its offset and changes nothing, a higher consumer
//! priority takes the deliveries, an exclusive consumer keeps others out with a clear error,
//! and a tap sees what is published while it runs and leaves no queue behind.
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
use warren_core::peek::StreamOffset;
use warren_core::ErrorKind;

use crate::common::{
    cluster_node, declare_on, exclusive, home_of, target, unique, warren_on_cluster, Restore,
};
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

/// A paused node keeps its sockets open and answers nothing, so the consumer's channel would
/// wait for the AMQP heartbeat: instead the session's pings give the node up within seconds,
/// and the consumer with it (its unsettled deliveries stale). Resumed on another node, it gets
/// them again once the queue's home node sees the paused one go; none is lost.
#[test]
fn pausing_the_consumers_node_loses_its_channel_within_seconds_and_nothing_else() {
    let _lock = exclusive();
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let api = ManagementClient::new(&target()).unwrap();
        let session = cluster.session().unwrap();
        // The node the session works through, so the consumer's.
        let (node, home) = crate::common::active_and_another(session).await;
        let queue = unique("consume.pause");
        declare_on(home, &queue).await;
        fill(&cluster, &queue, "classic", 5).await;
        assert_eq!(home_of(&api, &queue).await, home.name);
        let (mut w, endpoint) = watch(&cluster, &queue, 5).await;
        assert_eq!(endpoint, node.label());

        let _restore = Restore(node.n);
        let n = node.n;
        let pausing = tokio::task::spawn_blocking(move || cluster_node("pause", n));
        let paused = std::time::Instant::now();
        let lost = wait_for(&mut w.events, |e| {
            matches!(e, ConsumerEvent::ChannelLost { .. })
        })
        .await;
        let took = paused.elapsed();
        assert!(
            matches!(lost, ConsumerEvent::ChannelLost { stale: 5, .. }),
            "{lost:?}"
        );
        // The AMQP heartbeat would have taken twice its interval (20 s).
        assert!(
            took < Duration::from_secs(10),
            "noticed after {took:?}: {lost:?}"
        );

        w.handle.resume().await.unwrap();
        let again = deliveries(&w.handle, &mut w.events, 6, 10).await;
        assert_eq!(sorted(ids(&again)), [1, 2, 3, 4, 5]);
        assert!(again.iter().all(|m| m.redelivered));
        w.handle
            .settle_up_to(again[4].seq, Settle::Ack)
            .await
            .unwrap();
        let report = w.handle.stop().await.unwrap();
        assert_eq!((report.acked, report.stale, report.returned), (5, 5, 0));
        pausing.await.unwrap();
        drop(_restore);
        assert!(drain(&cluster, &queue).await.is_empty(), "nothing twice");
        delete(&cluster, &queue).await;
    });
}

/// The quorum queue's `x-consumer-disconnected-timeout` in the node-kill test (4.3).
const DISCONNECTED_TIMEOUT_MS: i32 = 8_000;

/// One consumer of the node-kill test: its queue, handle, events, deliveries.
struct Watched {
    queue: String,
    handle: ConsumerHandle,
    events: Events,
    got: Vec<ConsumedMessage>,
}

async fn watch(cluster: &Arc<OpenCluster>, queue: &str, count: u64) -> (Watched, String) {
    let (handle, events) = consume::start(
        cluster.started().unwrap(),
        request(queue, 20),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let mut events = Events::new(events);
    let endpoint = handle_started(&mut events).await.expect("a Started event");
    let got = deliveries(&handle, &mut events, 1, count).await;
    let w = Watched {
        queue: queue.to_owned(),
        handle,
        events,
        got,
    };
    (w, endpoint)
}

/// Killing the node that carries a consumer, with deliveries acked and others unsettled, on a
/// quorum queue and on two classic queues (one whose home is that node, one elsewhere). What
/// each version and queue type does, as seen on the local clusters:
/// - every unsettled delivery becomes stale at once; none is ever settled (its tag died);
/// - classic queue elsewhere: the queue gets them back at once (3.10 and 4.3); Resume on
///   another node gets them again, redelivered;
/// - classic queue whose home was the killed node: nothing can come back while it is down
///   (Resume fails: 3.10 says "unavailable", 4.3 never answers the consume); after the node
///   is back the queue (durable, persistent messages) has them again, and perhaps the acked
///   one too (an ack not yet on disk at the crash);
/// - quorum queue: on 3.10 the leader returns them at once; on 4.3 it keeps them checked out
///   to the vanished consumer (its node is only "suspected down": it may be a partition) for
///   the queue's `consumer_disconnected_timeout` (60 s by default, `x-consumer-disconnected-
///   timeout` here), then returns them, the node still down.
#[test]
fn killing_the_consumers_node_makes_its_unsettled_deliveries_stale_and_none_is_settled_twice() {
    let _lock = exclusive();
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let api = ManagementClient::new(&target()).unwrap();
        let quorum = unique("consume.kill.quorum");
        // A quorum queue keeps its messages when one of its three members goes. From 4.3 it
        // gives back what a consumer on an unreachable node held after
        // `consumer_disconnected_timeout` (60 s by default; shorter here, by its argument).
        let mut args = FieldTable::default();
        if crate::common::cluster().at_least(4, 3) {
            args.insert(
                "x-consumer-disconnected-timeout".into(),
                AMQPValue::LongInt(DISCONNECTED_TIMEOUT_MS),
            );
        }
        seed_with(&cluster, &quorum, "quorum", args, 0).await;
        publish_ids(&cluster, &quorum, 1..=10).await;
        let (mut q, endpoint) = watch(&cluster, &quorum, 10).await;
        let node = crate::common::cluster()
            .nodes
            .iter()
            .find(|n| n.label() == endpoint)
            .expect("the consumer's node")
            .clone();
        let elsewhere = crate::common::cluster()
            .nodes
            .iter()
            .find(|n| n.n != node.n)
            .expect("another node")
            .clone();
        let here = unique("consume.kill.classic-here");
        let away = unique("consume.kill.classic-away");
        declare_on(&node, &here).await;
        declare_on(&elsewhere, &away).await;
        fill(&cluster, &here, "classic", 5).await;
        fill(&cluster, &away, "classic", 5).await;
        assert_eq!(home_of(&api, &here).await, node.name);
        assert_eq!(home_of(&api, &away).await, elsewhere.name);
        // The session's channels all go to its active node: the consumer's.
        let (mut h, e) = watch(&cluster, &here, 5).await;
        assert_eq!(e, endpoint);
        let (mut a, e) = watch(&cluster, &away, 5).await;
        assert_eq!(e, endpoint);

        let quorum_acked = ids(&q.got[..3]);
        q.handle
            .settle_up_to(q.got[2].seq, Settle::Ack)
            .await
            .unwrap();
        for w in [&h, &a] {
            w.handle
                .settle(vec![w.got[0].seq], Settle::Ack)
                .await
                .unwrap();
        }
        let _restore = Restore(node.n);
        cluster_node("kill", node.n);
        let killed = std::time::Instant::now();
        for (w, unsettled) in [(&mut q, 7), (&mut h, 4), (&mut a, 4)] {
            let lost = wait_for(&mut w.events, |e| {
                matches!(e, ConsumerEvent::ChannelLost { .. })
            })
            .await;
            assert!(
                matches!(lost, ConsumerEvent::ChannelLost { stale, .. } if stale == unsettled),
                "{}: {lost:?}",
                w.queue
            );
            let rows = w.handle.rows(0, 10, &[]);
            let stale = rows
                .iter()
                .filter(|r| r.state == DeliveryState::Stale)
                .count();
            assert_eq!(stale, unsettled as usize, "{}", w.queue);
            // A stale delivery is never settled: its tag died with its channel.
            let seqs: Vec<u64> = w.got.iter().map(|m| m.seq).collect();
            let r = w.handle.settle(seqs, Settle::Ack).await.unwrap();
            assert_eq!((r.frames, r.settled.len()), (0, 0), "{}", w.queue);
        }

        // Classic, home elsewhere: back in the queue at once, delivered again on Resume.
        a.handle.resume().await.unwrap();
        let again = deliveries(&a.handle, &mut a.events, 6, 9).await;
        assert_eq!(sorted(ids(&again)), [2, 3, 4, 5]);
        assert!(again.iter().all(|m| m.redelivered));

        // Classic, home on the killed node: out of reach. 3.10 says so (404, "home node ...
        // is down or inaccessible": unavailable, not "no such queue"); 4.3 does not answer
        // the consume at all, and Resume gives up after its bound.
        let e = h.handle.resume().await.unwrap_err();
        let expected = if crate::common::cluster().major >= 4 {
            ErrorKind::Timeout
        } else {
            ErrorKind::Unavailable
        };
        assert_eq!(e.kind(), expected, "{e}");

        // Quorum: Resume works on another node at once, and the seven come again, as new
        // deliveries, with the node still down (3.10 at once; 4.3 once the consumer's node
        // has been unreachable for the disconnected timeout).
        q.handle.resume().await.unwrap();
        let again = deliveries(&q.handle, &mut q.events, 11, 17).await;
        if crate::common::cluster().at_least(4, 3) {
            // The broker's timer starts when it sees the node go, after the kill.
            let held_for = killed.elapsed();
            assert!(
                held_for >= Duration::from_millis(DISCONNECTED_TIMEOUT_MS.unsigned_abs().into()),
                "4.3 gave them back {held_for:?} after the kill, before its disconnected timeout"
            );
        }
        assert_eq!(
            sorted(ids(&again)),
            sorted((1..=10).filter(|i| !quorum_acked.contains(i)))
        );
        assert!(again.iter().all(|m| m.redelivered));
        q.handle
            .settle_up_to(again[6].seq, Settle::Ack)
            .await
            .unwrap();
        let report = q.handle.stop().await.unwrap();
        assert_eq!((report.acked, report.stale, report.returned), (10, 7, 0));

        let last = u64::from(a.handle.summary().total);
        a.handle.settle_up_to(last, Settle::Ack).await.unwrap();
        let report = a.handle.stop().await.unwrap();
        assert_eq!((report.acked, report.stale, report.returned), (5, 4, 0));

        cluster_node("start", node.n);
        // The classic queue whose home came back has its four again (durable, persistent).
        // Seen on 3.10: the ack of message 1, sent before the kill, was not on disk yet, so
        // the crashed queue has message 1 again too: at least once, nothing lost.
        h.handle.resume().await.unwrap();
        deliveries(&h.handle, &mut h.events, 6, 9).await;
        let report = h.handle.stop().await.unwrap();
        assert_eq!((report.acked, report.stale), (1, 4));
        let left = drain(&cluster, &here).await;
        let left = sorted(left.iter().map(|(m, _)| seqs([m])[0]));
        assert!(
            left == [2, 3, 4, 5] || left == [1, 2, 3, 4, 5],
            "the home node's queue after its crash: {left:?}"
        );
        for queue in [&quorum, &here, &away] {
            assert!(
                drain(&cluster, queue).await.is_empty(),
                "{queue}: nothing left, nothing twice"
            );
            delete(&cluster, queue).await;
        }
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

/// Publishes messages `ids` to `queue` (message id and body: the number), confirmed.
async fn publish_ids(cluster: &OpenCluster, queue: &str, ids: std::ops::RangeInclusive<u32>) {
    let ch = channel(cluster).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for id in ids {
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                id.to_string().as_bytes(),
                BasicProperties::default()
                    .with_message_id(id.to_string().into())
                    .with_delivery_mode(2),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack(), "message {id} not confirmed");
    }
}

/// Consumes `queue` from `offset` until `n` deliveries are held, stops; returns them.
async fn read_stream(
    cluster: &Arc<OpenCluster>,
    queue: &str,
    offset: StreamOffset,
    n: u64,
) -> Vec<ConsumedMessage> {
    let mut r = request(queue, 50);
    r.offset = Some(offset);
    let (handle, events) = consume::start(cluster.started().unwrap(), r, CancellationToken::new())
        .await
        .unwrap();
    let mut events = Events::new(events);
    let got = deliveries(&handle, &mut events, 1, n).await;
    handle.stop().await.unwrap();
    got
}

fn offsets(messages: &[ConsumedMessage]) -> Vec<u64> {
    messages
        .iter()
        .map(|m| m.offset.expect("a stream delivery's offset"))
        .collect()
}

#[test]
fn a_stream_consumer_starts_at_its_offset_and_changes_nothing() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume2.stream");
        fill(&cluster, &queue, "stream", 5).await;
        // A second between the chunks of 1..=5 and those of 6..=10 either side of
        // `boundary` (whole seconds: the AMQP timestamp the offset is given in).
        let written = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let boundary = written.as_secs() + 2;
        let after = Duration::from_secs(boundary) + Duration::from_millis(300);
        tokio::time::sleep(after.saturating_sub(written)).await;
        publish_ids(&cluster, &queue, 6..=10).await;

        // A numeric offset: from the fifth message on (offsets count from 0).
        let from_4 = read_stream(&cluster, &queue, StreamOffset::Offset(4), 6).await;
        assert_eq!(ids(&from_4), (5..=10).collect::<Vec<_>>());
        assert_eq!(offsets(&from_4), (4..=9).collect::<Vec<_>>());

        // A time: the first chunk written at or after it, so only the second batch.
        let later = read_stream(
            &cluster,
            &queue,
            StreamOffset::Timestamp(boundary as i64),
            5,
        )
        .await;
        assert_eq!(ids(&later), (6..=10).collect::<Vec<_>>());

        // First, after both reads (each acked nothing and gave back by closing): all ten,
        // in order, none redelivered: reading a stream changes nothing.
        let all = read_stream(&cluster, &queue, StreamOffset::First, 10).await;
        assert_eq!(ids(&all), (1..=10).collect::<Vec<_>>());
        assert_eq!(offsets(&all), (0..=9).collect::<Vec<_>>());
        assert!(all.iter().all(|m| !m.redelivered));
        delete(&cluster, &queue).await;
    });
}

/// The `x-priority` argument of each consumer of `queue` as the management API lists them,
/// once it lists `n` (its statistics come every few seconds).
async fn listed_priorities(api: &ManagementClient, queue: &str, n: usize) -> Vec<i64> {
    let path = format!(
        "queues/%2F/{}",
        warren_core::management::encode_segment(queue)
    );
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        let q: Value = api.get(&path).await.unwrap();
        let details = q["consumer_details"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if details.len() == n {
            let mut p: Vec<i64> = details
                .iter()
                .map(|c| c["arguments"]["x-priority"].as_i64().unwrap_or(0))
                .collect();
            p.sort_unstable();
            return p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the API never listed {n} consumers: {details:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn a_higher_priority_consumer_gets_the_deliveries_while_it_has_room() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume2.priority");
        fill(&cluster, &queue, "classic", 0).await;
        let start = |priority: i32| {
            let mut r = request(&queue, 50);
            r.priority = Some(priority);
            consume::start(cluster.started().unwrap(), r, CancellationToken::new())
        };
        // The lower one first: a broker ignoring priorities would serve it first, or both.
        let (low, low_events) = start(1).await.unwrap();
        let (high, high_events) = start(10).await.unwrap();
        let api = ManagementClient::new(&target()).unwrap();
        assert_eq!(listed_priorities(&api, &queue, 2).await, [1, 10]);
        publish_ids(&cluster, &queue, 1..=10).await;
        let mut high_events = Events::new(high_events);
        let got = deliveries(&high, &mut high_events, 1, 10).await;
        assert_eq!(sorted(ids(&got)), (1..=10).collect::<Vec<_>>());
        let low_report = low.stop().await.unwrap();
        drop(low_events);
        assert_eq!(
            low_report.received, 0,
            "both had room: all went to the higher"
        );
        assert_eq!(high.stop().await.unwrap().returned, 10);
        assert_eq!(drain(&cluster, &queue).await.len(), 10);
        delete(&cluster, &queue).await;
    });
}

#[test]
fn an_exclusive_consumer_makes_another_fail_with_a_clear_error() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume2.exclusive");
        fill(&cluster, &queue, "classic", 3).await;
        let start = |exclusive: bool| {
            let mut r = request(&queue, 20);
            r.exclusive = exclusive;
            consume::start(cluster.started().unwrap(), r, CancellationToken::new())
        };
        let (first, _first_events) = start(true).await.unwrap();
        let e = start(false)
            .await
            .err()
            .expect("a second consumer was let in");
        assert_eq!(e.kind(), ErrorKind::AccessRefused, "{e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("queue \"{queue}\""))
                && text.contains("another consumer has it in exclusive use"),
            "{text}"
        );
        first.stop().await.unwrap();

        // The other way round: an exclusive consumer where one already consumes.
        let (plain, _plain_events) = start(false).await.unwrap();
        let e = start(true)
            .await
            .err()
            .expect("an exclusive consumer was let in");
        assert_eq!(e.kind(), ErrorKind::AccessRefused, "{e}");
        assert!(e.to_string().contains("exclusively"), "{e}");
        plain.stop().await.unwrap();
        // Nothing was taken: the three are still there.
        assert_eq!(drain(&cluster, &queue).await.len(), 3);
        delete(&cluster, &queue).await;
    });
}

#[test]
fn a_consumer_cancelled_by_the_broker_resumes_once_its_queue_is_back() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume2.resume");
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
            handle.resume().await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        // The queue again, with three other messages: Resume consumes it.
        fill(&cluster, &queue, "classic", 3).await;
        handle.resume().await.unwrap();
        handle_started(&mut events).await.expect("started again");
        let again = deliveries(&handle, &mut events, 3, 5).await;
        assert_eq!(ids(&again), [1, 2, 3]);
        assert_eq!(
            handle.summary().phase,
            warren_core::consume::ConsumerPhase::Running
        );
        let report = handle.stop().await.unwrap();
        assert_eq!(report.returned, 3, "{report:?}");
        assert_eq!(drain(&cluster, &queue).await.len(), 3);
        delete(&cluster, &queue).await;
    });
}

/// The broker's name of the connection that carries the (only) consumer of `queue`.
async fn consumer_connection(api: &ManagementClient, queue: &str) -> String {
    let path = format!(
        "queues/%2F/{}",
        warren_core::management::encode_segment(queue)
    );
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        let q: Value = api.get(&path).await.unwrap();
        if let Some(name) = q["consumer_details"][0]["channel_details"]["connection_name"].as_str()
        {
            return name.to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the API never listed the consumer of {queue}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn auto_resume_consumes_again_after_the_connection_is_closed_under_it() {
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let queue = unique("consume2.autoresume");
        fill(&cluster, &queue, "classic", 3).await;
        let mut r = request(&queue, 20);
        r.auto_resume = true;
        let (handle, events) =
            consume::start(cluster.started().unwrap(), r, CancellationToken::new())
                .await
                .unwrap();
        let mut events = Events::new(events);
        let first = deliveries(&handle, &mut events, 1, 3).await;
        handle
            .settle(vec![seq_of(&first, 1)], Settle::Ack)
            .await
            .unwrap();
        // The broker closes this consumer's connection (as an operator would), the node
        // stays up: the two unsettled ones go back to the queue at once.
        let api = ManagementClient::new(&target()).unwrap();
        let connection = consumer_connection(&api, &queue).await;
        api.delete(&format!(
            "connections/{}",
            warren_core::management::encode_segment(&connection)
        ))
        .await
        .unwrap();
        let lost = wait_for(&mut events, |e| {
            matches!(e, ConsumerEvent::ChannelLost { .. })
        })
        .await;
        assert!(
            matches!(lost, ConsumerEvent::ChannelLost { stale: 2, .. }),
            "{lost:?}"
        );
        // Nobody pressed Resume.
        handle_started(&mut events)
            .await
            .expect("resumed by itself");
        let again = deliveries(&handle, &mut events, 4, 5).await;
        assert_eq!(sorted(ids(&again)), [2, 3]);
        assert!(again.iter().all(|m| m.redelivered));
        handle
            .settle_up_to(again[1].seq, Settle::Ack)
            .await
            .unwrap();
        let report = handle.stop().await.unwrap();
        assert_eq!((report.acked, report.stale, report.returned), (3, 2, 0));
        assert!(drain(&cluster, &queue).await.is_empty());
        delete(&cluster, &queue).await;
    });
}
