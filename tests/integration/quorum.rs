//! Peeking quorum queues, whose returned messages are treated differently by each RabbitMQ
//! version. Each test proves the peek plan by draining the queue afterwards: order, counts,
//! headers and the dead-letter queue's contents.
//!
//! - 3.10: the peek closes its channel (a nack would move messages to the back); every
//!   returned message's `x-delivery-count` grows by 1; no default delivery limit.
//! - 4.0: the same, with a default delivery limit of 20; a message over the limit is
//!   dead-lettered or dropped. Priorities: above 4 is "high", served two to one with the rest.
//! - 4.3: the peek nacks; returns do not count toward the limit, but each one adds 1 to an
//!   `x-acquired-count` header; only a lost connection would count (the plan's caveat).
//!   Priorities: served highest first.
//!
//! The test messages have priorities, so every test expects the version's consumer order, and
//! the plan states that order (`order`): the tests check the stated order against what the peek
//! shows and a consumer gets.
//!
//! These run on every cluster, the single 4.0 node included (`WARREN_RABBITMQ=4.0 ...
//! --test integration quorum::`). Each test uses its own queues and deletes them.

use serde_json::Value;
use warren_core::cluster::OpenCluster;
use warren_core::lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
};
use warren_core::lapin::types::{AMQPValue, FieldTable, LongString};
use warren_core::lapin::{BasicProperties, ExchangeKind};
use warren_core::message::Message;

use crate::common::{cluster, declare_durable, target, unique, warren_on_cluster};
use crate::peek::{
    assert_same, channel, cli_peek, delete, drain, fill, runtime, seed, seed_with, seqs,
    without_broker_headers,
};

/// `warren peek QUEUE --plan --json`.
fn plan_of(queue: &str) -> Value {
    let out = warren_on_cluster(&["peek", queue, "--plan", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn effect_kinds(plan: &Value) -> Vec<String> {
    plan["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn header(m: &Message, key: &str) -> Option<AMQPValue> {
    m.properties
        .headers
        .as_ref()
        .and_then(|h| h.inner().get(key).cloned())
}

/// 4.3 and later: returns by nack, counted in `x-acquired-count` only.
fn nack_era() -> bool {
    cluster().at_least(4, 3)
}

/// The plan's effects on this version, for a queue whose delivery limit is `limit` (explicit
/// or the 4.x default).
fn expected_effects(limit: Option<u64>) -> Vec<&'static str> {
    if nack_era() {
        vec![
            "redelivered_flag",
            "acquired_count",
            "connection_loss_counts",
        ]
    } else if limit.is_some() {
        vec!["redelivered_flag", "delivery_count", "limit_exceeded"]
    } else {
        vec!["redelivered_flag", "delivery_count"]
    }
}

/// The header a return adds to on this version, and the one it leaves alone.
fn counted_header() -> (&'static str, &'static str) {
    if nack_era() {
        ("x-acquired-count", "x-delivery-count")
    } else {
        ("x-delivery-count", "x-acquired-count")
    }
}

#[test]
fn quorum_queue_peek_changes_exactly_what_the_plan_says() {
    runtime().block_on(async {
        let cluster_ = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.quorum");
        let sent = in_consumer_order(seed(&cluster_, &queue, "quorum", 8).await);

        // No explicit limit: none on 3.x, the default of 20 on 4.x.
        let default_limit = (cluster().major >= 4).then_some(20);
        let plan = plan_of(&queue);
        assert_eq!(
            plan["method"],
            if nack_era() {
                "nack_requeue"
            } else {
                "close_channel"
            },
            "{plan}"
        );
        assert_eq!(plan["delivery_limit"].as_u64(), default_limit, "{plan}");
        assert_eq!(
            effect_kinds(&plan),
            expected_effects(default_limit),
            "{plan}"
        );
        assert_eq!(plan["harmless"], nack_era(), "{plan}");
        assert_eq!(plan["order"], quorum_order(), "{plan}");

        if !nack_era() {
            // Without consent: refused (exit 5), nothing read.
            let (none, out) = cli_peek(&queue, &["--count", "5"]);
            assert_eq!(
                out.status.code(),
                Some(5),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(none.is_empty());
            assert!(String::from_utf8_lossy(&out.stderr).contains("delivery count"));
        }

        let (peeked, out) = cli_peek(&queue, &["--count", "5", "--allow-side-effects"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same(&peeked, &sent[..5]);

        // Afterwards: the same 8 messages in the same order; the 5 peeked ones carry
        // redelivered and a count of 1 in the version's header, the other 3 are untouched.
        let (counted, untouched) = counted_header();
        let drained = drain(&cluster_, &queue).await;
        assert_eq!(drained.len(), 8);
        for (i, ((m, redelivered), s)) in drained.iter().zip(&sent).enumerate() {
            assert_eq!(without_broker_headers(m.clone()), *s, "message {}", i + 1);
            assert_eq!(header(m, untouched), None, "message {}", i + 1);
            if i < 5 {
                assert!(
                    *redelivered,
                    "message {} should be marked redelivered",
                    i + 1
                );
                assert_eq!(
                    header(m, counted),
                    Some(AMQPValue::LongLongInt(1)),
                    "{counted} of message {}",
                    i + 1
                );
            } else {
                assert!(
                    !*redelivered && header(m, counted).is_none(),
                    "message {} was touched",
                    i + 1
                );
            }
        }
        delete(&cluster_, &queue).await;
        cluster_.close().await;
    });
}

/// A peek of more than a 16-bit prefetch can say (65,535), with consent: exactly the first
/// 70,000 of 70,001 are shown, and only they are delivered to Warren: afterwards each of them
/// carries a count of 1 in the version's header, the last message none, and the order holds.
#[test]
fn quorum_queue_peek_past_65535_counts_exactly_the_peeked_messages() {
    const COUNT: u32 = 70_000;
    runtime().block_on(async {
        let cluster_ = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.quorum.large");
        fill(&cluster_, &queue, "quorum", COUNT + 1).await;
        let (peeked, out) = cli_peek(
            &queue,
            // The count is reached before any idle wait; a long one only keeps a slow start (the
            // machine is shared) from ending the peek early.
            &[
                "--count",
                &COUNT.to_string(),
                "--allow-side-effects",
                "--idle-ms",
                "5000",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown = seqs(peeked.iter().map(|p| &p.message));
        assert_eq!(shown.len(), COUNT as usize, "messages shown");
        assert!(
            shown.into_iter().eq(1..=COUNT),
            "not the first {COUNT} in order"
        );

        let (counted, untouched) = counted_header();
        let drained = drain(&cluster_, &queue).await;
        assert!(
            seqs(drained.iter().map(|(m, _)| m))
                .into_iter()
                .eq(1..=COUNT + 1),
            "the queue changed: lost or reordered messages"
        );
        let once = Some(AMQPValue::LongLongInt(1));
        let wrong: Vec<usize> = drained[..COUNT as usize]
            .iter()
            .enumerate()
            .filter(|(_, (m, redelivered))| !redelivered || header(m, counted) != once)
            .map(|(i, _)| i + 1)
            .collect();
        assert!(
            wrong.is_empty(),
            "{} peeked message(s) without {counted} 1, first {:?}",
            wrong.len(),
            wrong.first()
        );
        assert!(drained.iter().all(|(m, _)| header(m, untouched).is_none()));
        let (last, redelivered) = &drained[COUNT as usize];
        assert!(
            !redelivered && header(last, counted).is_none(),
            "the message after the count was delivered to the peek"
        );
        delete(&cluster_, &queue).await;
        cluster_.close().await;
    });
}

/// A quorum queue with delivery limit 1 and a dead-letter exchange. Before 4.3 a peek needs
/// consent, the first peek counts one delivery and the second dead-letters every message it
/// read, as the plan says; from 4.3 peeking changes no count, however often.
#[test]
fn quorum_queue_with_delivery_limit_one_loses_exactly_what_the_plan_says() {
    runtime().block_on(async {
        let cluster_ = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.limit");
        let dlx = unique("peek.limit.dlx");
        let dead = unique("peek.limit.dead");
        let ch = channel(&cluster_).await;
        ch.exchange_declare(
            dlx.as_str().into(),
            ExchangeKind::Fanout,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        declare_durable(&ch, &dead, FieldTable::default()).await;
        ch.queue_bind(
            dead.as_str().into(),
            dlx.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        let mut args = FieldTable::default();
        args.insert("x-delivery-limit".into(), AMQPValue::LongInt(1));
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(dlx.as_str().into()),
        );
        let sent = in_consumer_order(seed_with(&cluster_, &queue, "quorum", args, 3).await);

        let plan = plan_of(&queue);
        assert_eq!(plan["delivery_limit"], 1, "{plan}");
        assert_eq!(
            plan["over_limit"],
            format!("dead-lettered to exchange \"{dlx}\"").as_str(),
            "{plan}"
        );
        assert_eq!(effect_kinds(&plan), expected_effects(Some(1)), "{plan}");

        if nack_era() {
            // Harmless: no consent needed, and two peeks leave all three in place.
            for round in 1..=2u64 {
                let (peeked, out) = cli_peek(&queue, &["--count", "3"]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_same(&peeked, &sent);
                for p in &peeked {
                    let acquired = header(&p.message, "x-acquired-count");
                    let want = (round > 1).then(|| AMQPValue::LongLongInt((round - 1) as i64));
                    assert_eq!(acquired, want, "round {round}");
                }
            }
            let drained = drain(&cluster_, &queue).await;
            assert_eq!(drained.len(), 3, "a 4.3 peek lost messages");
            for (m, _) in &drained {
                assert_eq!(
                    header(m, "x-acquired-count"),
                    Some(AMQPValue::LongLongInt(2))
                );
                assert_eq!(header(m, "x-delivery-count"), None);
            }
            assert!(drain(&cluster_, &dead).await.is_empty());
        } else {
            let (none, out) = cli_peek(&queue, &["--count", "3"]);
            assert_eq!(out.status.code(), Some(5), "refused without consent");
            assert!(none.is_empty());

            // First peek: every message delivered once, returned, counted; none lost.
            let (first, out) = cli_peek(&queue, &["--count", "3", "--allow-side-effects"]);
            assert!(out.status.success());
            assert_same(&first, &sent);
            assert!(first.iter().all(|p| p.delivery_count.is_none()));
            // Second peek: each message has been delivered once (the limit), so returning it
            // dead-letters it: the queue is empty and the dead-letter queue holds all three.
            let (second, out) = cli_peek(&queue, &["--count", "3", "--allow-side-effects"]);
            assert!(out.status.success());
            assert_same(&second, &sent);
            assert!(second.iter().all(|p| p.delivery_count == Some(1)));
            let mut dead_lettered = Vec::new();
            for _ in 0..20 {
                dead_lettered.extend(drain(&cluster_, &dead).await);
                if dead_lettered.len() >= 3 {
                    break;
                }
            }
            let left = drain(&cluster_, &queue).await;
            assert!(
                left.is_empty(),
                "{} message(s) left in the queue",
                left.len()
            );
            assert_eq!(dead_lettered.len(), 3);
            for ((m, _), s) in dead_lettered.iter().zip(&sent) {
                assert_eq!(m.body, s.body);
                assert_eq!(m.properties.message_id, s.properties.message_id);
                let Some(AMQPValue::FieldArray(deaths)) = header(m, "x-death") else {
                    panic!("no x-death header: {:?}", m.properties.headers)
                };
                let Some(AMQPValue::FieldTable(death)) = deaths.as_slice().first() else {
                    panic!("empty x-death")
                };
                assert_eq!(
                    death.inner().get("reason"),
                    Some(&AMQPValue::LongString(LongString::from("delivery_limit")))
                );
            }
        }
        delete(&cluster_, &queue).await;
        delete(&cluster_, &dead).await;
        channel(&cluster_)
            .await
            .exchange_delete(dlx.as_str().into(), Default::default())
            .await
            .unwrap();
        cluster_.close().await;
    });
}

/// The delivery order this version's quorum queues have: publication order on 3.x; on 4.0-4.2
/// "high" (above 4) and normal messages two to one; from 4.3 the highest priority first.
fn quorum_order() -> &'static str {
    if cluster().major < 4 {
        "publication"
    } else if !nack_era() {
        "high_then_normal_two_to_one"
    } else {
        "highest_priority_first"
    }
}

/// The order a consumer gets messages of these priorities (published in this order) in, by
/// the rule a plan states (`order`). Within one priority, first in first out.
fn ordered_by(order: &str, priorities: &[u8]) -> Vec<usize> {
    let seqs = 0..priorities.len();
    match order {
        "publication" => seqs.collect(),
        "high_then_normal_two_to_one" => {
            let (mut high, mut normal): (Vec<usize>, Vec<usize>) =
                seqs.partition(|&i| priorities[i] > 4);
            let (mut high, mut normal) = (high.drain(..), normal.drain(..));
            let mut order = Vec::new();
            loop {
                let (a, b, c) = (high.next(), high.next(), normal.next());
                if a.is_none() && c.is_none() {
                    break order;
                }
                order.extend([a, b, c].into_iter().flatten());
            }
        }
        "highest_priority_first" => {
            let mut order: Vec<usize> = seqs.collect();
            order.sort_by_key(|&i| std::cmp::Reverse(priorities[i]));
            order
        }
        other => panic!("unexpected order {other}"),
    }
}

fn consumer_order(priorities: &[u8]) -> Vec<usize> {
    ordered_by(quorum_order(), priorities)
}

/// `sent` (in publication order) in the order a consumer gets it.
fn in_consumer_order(sent: Vec<Message>) -> Vec<Message> {
    let priorities: Vec<u8> = sent
        .iter()
        .map(|m| m.properties.priority.unwrap_or(0))
        .collect();
    consumer_order(&priorities)
        .into_iter()
        .map(|i| sent[i].clone())
        .collect()
}

#[test]
fn quorum_queue_peek_shows_the_order_a_consumer_gets_priorities_included() {
    runtime().block_on(async {
        let cluster_ = OpenCluster::open(target()).unwrap();
        let queue = unique("peek.priorities");
        seed(&cluster_, &queue, "quorum", 0).await;
        peek_shows_the_stated_order(&cluster_, &queue, quorum_order()).await;
        delete(&cluster_, &queue).await;
        cluster_.close().await;
    });
}

/// Publishes messages of mixed priorities to the empty `queue`, then checks that the peek
/// plan states `order` and that the peek shows, and a consumer afterwards gets, the messages
/// in that order. The queue is left empty.
pub(crate) async fn peek_shows_the_stated_order(cluster_: &OpenCluster, queue: &str, order: &str) {
    let priorities = [0u8, 7, 3, 9, 1, 5, 0, 8];
    let ch = channel(cluster_).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut sent = Vec::new();
    for (i, &priority) in priorities.iter().enumerate() {
        let mut headers = FieldTable::default();
        headers.insert("seq".into(), AMQPValue::LongLongInt(i as i64));
        let properties = BasicProperties::default()
            .with_priority(priority)
            .with_message_id(format!("prio-{i}").into())
            .with_delivery_mode(2)
            .with_headers(headers);
        let body = format!("message {i}, priority {priority}").into_bytes();
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                &body,
                properties.clone(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack());
        sent.push(Message::from_amqp(
            &"".into(),
            &queue.into(),
            &properties,
            body,
        ));
    }
    // The plan states the order, and that stated order is the one a peek shows and a
    // consumer gets.
    let plan = plan_of(queue);
    assert_eq!(plan["order"], order, "{plan}");
    let expected: Vec<Message> = ordered_by(order, &priorities)
        .into_iter()
        .map(|i| sent[i].clone())
        .collect();

    let (peeked, out) = cli_peek(queue, &["--count", "8", "--allow-side-effects"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same(&peeked, &expected);
    // A consumer afterwards gets them in the very order the peek showed.
    let drained: Vec<Message> = drain(cluster_, queue)
        .await
        .into_iter()
        .map(|(m, _)| without_broker_headers(m))
        .collect();
    assert_eq!(drained, expected);
}
