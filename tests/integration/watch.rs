//! Watch rules against the real cluster: the core's readings through the management API and
//! the watcher's crossings. A depth rule alerts once when published messages take the queue
//! past its threshold, stays quiet while it stays there, and alerts again after the queue
//! drops back and crosses anew; a dead-letter rule counts the messages that reach the queue
//! bound to the watched queue's dead-letter exchange; a queue without one says so.
//!
//! Each test uses its own queue and exchange names and deletes them at the end.

use std::time::Duration;

use warren_core::cluster::OpenCluster;
use warren_core::lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
};
use warren_core::lapin::types::{AMQPValue, FieldTable};
use warren_core::lapin::ExchangeKind;
use warren_core::watch::{read_rule, AlertKind, Comparison, Metric, Reading, WatchRule, Watcher};

use crate::common::{api, target, unique};
use crate::peek::{channel, delete, runtime, seed, seed_with};

/// The management API's queue statistics are refreshed every few seconds: a reading waits
/// at most this long for them to show what was published.
const BOUND: Duration = Duration::from_secs(30);

fn rule(queue: &str, metric: Metric, comparison: Comparison, threshold: u64) -> WatchRule {
    WatchRule {
        id: 1,
        profile: "it".into(),
        vhost: "/".into(),
        queue: queue.into(),
        metric,
        comparison,
        threshold,
    }
}

/// Reads `rule` until the reading is `want` (statistics lag behind), feeding every reading to
/// the watcher; the alerts raised on the way.
async fn read_until(
    cluster: &OpenCluster,
    watcher: &mut Watcher,
    rule: &WatchRule,
    want: u64,
) -> Vec<u64> {
    let deadline = tokio::time::Instant::now() + BOUND;
    let mut alerted = Vec::new();
    loop {
        let reading = read_rule(cluster.api(), rule).await;
        let at = warren_core::session::now_ms();
        if let Some(alert) = watcher.observe_rule(rule, reading.clone(), at) {
            match alert.kind {
                AlertKind::Rule { value, .. } => alerted.push(value),
                other => panic!("a rule raised {other:?}"),
            }
        }
        if reading == Reading::Value(want) {
            return alerted;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{rule:?}: still {reading:?} after {BOUND:?}, waiting for {want}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn a_depth_rule_alerts_once_per_crossing_as_messages_are_published() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("notify.depth");
        seed(&cluster, &queue, "classic", 0).await;
        let depth = rule(&queue, Metric::Depth, Comparison::Above, 2);
        let mut watcher = Watcher::new();

        assert!(read_until(&cluster, &mut watcher, &depth, 0)
            .await
            .is_empty());
        seed(&cluster, &queue, "classic", 2).await;
        assert!(
            read_until(&cluster, &mut watcher, &depth, 2)
                .await
                .is_empty(),
            "2 is not above 2"
        );
        seed(&cluster, &queue, "classic", 3).await;
        assert_eq!(read_until(&cluster, &mut watcher, &depth, 5).await, vec![5]);
        // Still above: nothing more, however often it is read.
        for _ in 0..3 {
            let again = read_rule(cluster.api(), &depth).await;
            assert!(watcher.observe_rule(&depth, again, 0).is_none());
        }

        // Emptied, then past the threshold again: a second alert.
        let path = format!("/api/queues/%2F/{queue}/contents");
        api("DELETE", &path, None).unwrap();
        assert!(read_until(&cluster, &mut watcher, &depth, 0)
            .await
            .is_empty());
        seed(&cluster, &queue, "classic", 4).await;
        assert_eq!(read_until(&cluster, &mut watcher, &depth, 4).await, vec![4]);

        delete(&cluster, &queue).await;
        match read_rule(cluster.api(), &depth).await {
            Reading::Unavailable(why) => assert!(why.contains(&queue), "{why}"),
            other => panic!("a deleted queue read as {other:?}"),
        }
        cluster.close().await;
    });
}

#[test]
fn a_dead_letter_rule_counts_the_queue_bound_to_the_dead_letter_exchange() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("notify.dl");
        let dlx = unique("notify.dlx");
        let dlq = unique("notify.dlq");
        let ch = channel(&cluster).await;
        ch.exchange_declare(
            dlx.as_str().into(),
            ExchangeKind::Fanout,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        ch.queue_declare(
            dlq.as_str().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        ch.queue_bind(
            dlq.as_str().into(),
            dlx.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        // Messages expire at once and are dead-lettered to the exchange, and so to `dlq`.
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(dlx.as_str().into()),
        );
        args.insert("x-message-ttl".into(), AMQPValue::LongInt(0));
        seed_with(&cluster, &queue, "classic", args.clone(), 0).await;

        let dead = rule(&queue, Metric::DeadLetters, Comparison::Above, 1);
        let mut watcher = Watcher::new();
        assert!(read_until(&cluster, &mut watcher, &dead, 0)
            .await
            .is_empty());
        seed_with(&cluster, &queue, "classic", args, 3).await;
        assert_eq!(read_until(&cluster, &mut watcher, &dead, 3).await, vec![3]);
        // The watched queue itself holds nothing: the count is the dead-letter queue's.
        let depth = rule(&queue, Metric::Depth, Comparison::Above, 0);
        assert_eq!(read_rule(cluster.api(), &depth).await, Reading::Value(0));

        // A queue that dead-letters nowhere has no such reading, and says why.
        match read_rule(
            cluster.api(),
            &rule(&dlq, Metric::DeadLetters, Comparison::Above, 1),
        )
        .await
        {
            Reading::Unavailable(why) => assert!(why.contains("no dead-letter exchange"), "{why}"),
            other => panic!("{other:?}"),
        }

        delete(&cluster, &queue).await;
        delete(&cluster, &dlq).await;
        ch.exchange_delete(dlx.as_str().into(), ExchangeDeleteOptions::default())
            .await
            .unwrap();
        cluster.close().await;
    });
}
