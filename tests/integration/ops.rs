//! Message operations against the real cluster: delete selected messages, move, copy and send
//! dead letters back, through the real `warren` binary (`delete`, `move`, `copy`,
//! `dead-letters retry`) and warren-core's `ops`. Every test checks the exact contents of the
//! queues afterwards (bodies in order, by draining them with a plain consumer), not counts.
//!
//! Quorum queues follow `broker.rs`'s rules: before 4.3 giving back held messages counts a
//! delivery, so an operation that gives any back needs `--allow-side-effects` there.
//!
//! Each test declares its own uniquely named queues and deletes them; none stops a node.

use std::path::Path;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use warren_core::cluster::OpenCluster;
use warren_core::lapin::options::{BasicGetOptions, BasicRejectOptions};
use warren_core::lapin::types::{AMQPValue, FieldTable, LongString};
use warren_core::message::Message;
use warren_core::ops::{self, Action, ClusterRef, OpsRequest, OpsSelection, Target};

use crate::common::{cluster, declare_durable, target, unique, warren_on_cluster};
use crate::peek::{channel, cli_peek, delete, drain, fill, runtime, seqs};

fn queue_args(kind: &str, extra: &[(&str, AMQPValue)]) -> FieldTable {
    let mut args = FieldTable::default();
    if kind != "classic" {
        args.insert("x-queue-type".into(), AMQPValue::LongString(kind.into()));
    }
    for (k, v) in extra {
        args.insert((*k).into(), v.clone());
    }
    args
}

async fn declare(cluster: &OpenCluster, queue: &str, args: FieldTable) {
    declare_durable(&channel(cluster).await, queue, args).await;
}

/// The [`fill`] numbers of what `queue` holds, in order, taking them out.
async fn contents(cluster: &OpenCluster, queue: &str) -> Vec<u32> {
    let drained = drain(cluster, queue).await;
    seqs(drained.iter().map(|(m, _)| m))
}

/// Peeks `count` messages of `queue` through the CLI and writes the lines at `positions` to
/// a file, as a user would filter a `warren peek --json` output.
fn peek_file(dir: &Path, queue: &str, count: u32, positions: &[u32]) -> String {
    let (_, out) = cli_peek(queue, &["-n", &count.to_string(), "--allow-side-effects"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            positions.contains(&(v["position"].as_u64().unwrap() as u32))
        })
        .collect();
    assert_eq!(lines.len(), positions.len());
    let path = dir.join(format!("{queue}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

/// Runs the CLI; returns the exit status and the JSON report (if it printed one).
fn warren_json(args: &[&str]) -> (i32, Value, String) {
    let out = warren_on_cluster(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// Before 4.3, giving back messages held from a quorum queue counts a delivery.
fn returns_need_consent(kind: &str) -> bool {
    kind == "quorum" && !cluster().at_least(4, 3)
}

fn delete_selected(kind: &str) {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let q = unique(&format!("ops.delete.{kind}"));
        fill(&c, &q, kind, 10).await;
        let dir = tempfile::tempdir().unwrap();
        let file = peek_file(dir.path(), &q, 10, &[2, 5, 9]);
        let args = ["delete", q.as_str(), "--messages", file.as_str(), "--json"];
        if returns_need_consent(kind) {
            let (code, _, stderr) = warren_json(&args);
            assert_eq!(code, 5, "consent is asked first: {stderr}");
            assert!(stderr.contains("delivery count"), "{stderr}");
        }
        let mut with_consent = args.to_vec();
        with_consent.push("--allow-side-effects");
        let (code, report, stderr) = warren_json(&with_consent);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(report["deleted"], 3, "{report}");
        assert_eq!(report["failed"], 0);
        // Positions 1-9 are read, 3 deleted; from a quorum queue, which serves messages
        // returned earlier (by the peek) first, the whole queue is read so that all go back at
        // once, in order.
        let read = if kind == "quorum" { 10 } else { 9 };
        assert_eq!(report["returned_to_source"], read - 3, "{report}");
        assert_eq!(contents(&c, &q).await, [1, 3, 4, 6, 7, 8, 10]);
        delete(&c, &q).await;
        c.close().await;
    });
}

#[test]
fn delete_of_selected_messages_removes_exactly_those_and_keeps_the_others_in_order() {
    delete_selected("classic");
}

#[test]
fn delete_of_selected_messages_of_a_quorum_queue_follows_the_version_rules() {
    delete_selected("quorum");
}

#[test]
fn a_queue_changed_since_the_peek_is_left_alone() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let q = unique("ops.changed");
        fill(&c, &q, "classic", 5).await;
        let dir = tempfile::tempdir().unwrap();
        let file = peek_file(dir.path(), &q, 5, &[3]);
        // A consumer takes the head: position 3 now holds message 4.
        let ch = channel(&c).await;
        let got = ch
            .basic_get(q.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
            .expect("a message");
        assert_eq!(got.delivery.data, b"1");
        let (code, _, stderr) = warren_json(&["delete", &q, "--messages", &file, "--json"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("changed since it was peeked") && stderr.contains("position 3"),
            "{stderr}"
        );
        assert_eq!(contents(&c, &q).await, [2, 3, 4, 5]);
        delete(&c, &q).await;
        c.close().await;
    });
}

#[test]
fn move_and_copy_lose_nothing_and_duplicate_nothing() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let (src, dst) = (unique("ops.move.src"), unique("ops.move.dst"));
        fill(&c, &src, "classic", 8).await;
        fill(&c, &dst, "quorum", 0).await;
        let dir = tempfile::tempdir().unwrap();
        // Selected messages, through the CLI.
        let file = peek_file(dir.path(), &src, 8, &[2, 4, 7]);
        let (code, report, stderr) = warren_json(&[
            "move",
            &src,
            "--to-queue",
            &dst,
            "--messages",
            &file,
            "--json",
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(
            (report["moved"].clone(), report["failed"].clone()),
            (3.into(), 0.into())
        );
        // Copy the first two of what is left, then move all.
        let (code, report, stderr) =
            warren_json(&["copy", &src, "--to-queue", &dst, "--count", "2", "--json"]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(report["copied"], 2);
        assert_eq!(report["returned_to_source"], 2);
        let (code, report, stderr) =
            warren_json(&["move", &src, "--to-queue", &dst, "--all", "--json"]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(report["moved"], 5);
        assert_eq!(contents(&c, &src).await, Vec::<u32>::new());
        assert_eq!(contents(&c, &dst).await, [2, 4, 7, 1, 3, 1, 3, 5, 6, 8]);
        delete(&c, &src).await;
        delete(&c, &dst).await;
        c.close().await;
    });
}

#[test]
fn a_move_to_a_missing_target_changes_nothing() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let src = unique("ops.missing.src");
        fill(&c, &src, "classic", 3).await;
        let nowhere = unique("ops.missing.dst");
        let (code, _, stderr) =
            warren_json(&["move", &src, "--to-queue", &nowhere, "--all", "--json"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains(&format!("no queue \"{nowhere}\"")),
            "{stderr}"
        );
        let (code, _, stderr) =
            warren_json(&["move", &src, "--to-exchange", &nowhere, "--all", "--json"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains(&format!("no exchange \"{nowhere}\"")),
            "{stderr}"
        );
        assert_eq!(contents(&c, &src).await, [1, 2, 3]);
        delete(&c, &src).await;
        c.close().await;
    });
}

#[test]
fn a_target_that_refuses_leaves_the_messages_in_the_source_and_says_why() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let (src, full) = (unique("ops.refused.src"), unique("ops.refused.full"));
        fill(&c, &src, "classic", 5).await;
        declare(
            &c,
            &full,
            queue_args(
                "classic",
                &[
                    ("x-max-length", AMQPValue::LongInt(2)),
                    ("x-overflow", AMQPValue::LongString("reject-publish".into())),
                ],
            ),
        )
        .await;
        let (code, report, stderr) =
            warren_json(&["move", &src, "--to-queue", &full, "--all", "--json"]);
        assert_eq!(code, 7, "some messages were not moved: {stderr}");
        assert_eq!(report["moved"], 2, "{report}");
        assert_eq!(report["failed"], 3);
        let failures = report["failures"].as_array().unwrap();
        let positions: Vec<u64> = failures
            .iter()
            .map(|f| f["position"].as_u64().unwrap())
            .collect();
        assert_eq!(positions, [3, 4, 5]);
        assert!(failures[0]["reason"].as_str().unwrap().contains("refused"));
        // Unroutable: an exchange with no binding for the key returns them.
        let (code, report, stderr) = warren_json(&[
            "move",
            &src,
            "--to-exchange",
            "amq.direct",
            "--routing-key",
            &unique("nobody"),
            "--all",
            "--json",
        ]);
        assert_eq!(code, 7, "{stderr}");
        assert_eq!(
            (report["moved"].clone(), report["failed"].clone()),
            (0.into(), 3.into())
        );
        assert!(report["failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("NO_ROUTE"));
        assert_eq!(contents(&c, &src).await, [3, 4, 5]);
        assert_eq!(contents(&c, &full).await, [1, 2]);
        delete(&c, &src).await;
        delete(&c, &full).await;
        c.close().await;
    });
}

/// A work queue whose rejected messages go to a dead-letter queue; `count` messages
/// published to the work queue and rejected into it.
async fn dead_letters(c: &OpenCluster, work: &str, dlq: &str, count: u32) {
    declare(c, dlq, FieldTable::default()).await;
    fill(c, work, "classic", 0).await;
    crate::peek::delete(c, work).await;
    declare(
        c,
        work,
        queue_args(
            "classic",
            &[
                ("x-dead-letter-exchange", AMQPValue::LongString("".into())),
                (
                    "x-dead-letter-routing-key",
                    AMQPValue::LongString(LongString::from(dlq)),
                ),
            ],
        ),
    )
    .await;
    fill_existing(c, work, count).await;
    let ch = channel(c).await;
    for _ in 0..count {
        let got = ch
            .basic_get(work.into(), BasicGetOptions::default())
            .await
            .unwrap()
            .expect("a message to reject");
        got.delivery
            .acker
            .reject(BasicRejectOptions { requeue: false })
            .await
            .unwrap();
    }
}

/// [`fill`] into a queue already declared with its own arguments.
async fn fill_existing(c: &OpenCluster, queue: &str, count: u32) {
    use warren_core::lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
    use warren_core::lapin::BasicProperties;
    let ch = channel(c).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for seq in 1..=count {
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                seq.to_string().as_bytes(),
                BasicProperties::default()
                    .with_message_id(seq.to_string().into())
                    .with_delivery_mode(2),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack());
    }
}

fn has_death(m: &Message) -> bool {
    m.properties
        .headers
        .as_ref()
        .is_some_and(|h| h.inner().contains_key("x-death"))
}

#[test]
fn dead_letters_go_back_where_they_came_from_with_or_without_their_history() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let (work, dlq) = (unique("ops.dl.work"), unique("ops.dl.dlq"));
        dead_letters(&c, &work, &dlq, 4).await;
        // The second one, selected, keeps its x-death.
        let dir = tempfile::tempdir().unwrap();
        let file = peek_file(dir.path(), &dlq, 4, &[2]);
        let (code, report, stderr) =
            warren_json(&["dead-letters", "retry", &dlq, "--messages", &file, "--json"]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(report["sent_back"], 1, "{report}");
        // The rest, without their history.
        let (code, report, stderr) = warren_json(&[
            "dead-letters",
            "retry",
            &dlq,
            "--all",
            "--strip-death",
            "--json",
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(report["sent_back"], 3, "{report}");
        assert_eq!(contents(&c, &dlq).await, Vec::<u32>::new());
        let back = drain(&c, &work).await;
        let order: Vec<u32> = seqs(back.iter().map(|(m, _)| m));
        assert_eq!(order, [2, 1, 3, 4]);
        let deaths: Vec<bool> = back.iter().map(|(m, _)| has_death(m)).collect();
        assert_eq!(deaths, [true, false, false, false]);
        delete(&c, &work).await;
        delete(&c, &dlq).await;
        c.close().await;
    });
}

#[test]
fn dead_letters_whose_queue_is_gone_stay_where_they_are() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let (work, dlq) = (unique("ops.dlgone.work"), unique("ops.dlgone.dlq"));
        dead_letters(&c, &work, &dlq, 3).await;
        delete(&c, &work).await;
        let (code, report, stderr) =
            warren_json(&["dead-letters", "retry", &dlq, "--all", "--json"]);
        assert_eq!(code, 7, "{stderr}");
        assert_eq!(
            (report["sent_back"].clone(), report["failed"].clone()),
            (0.into(), 3.into())
        );
        let kept = drain(&c, &dlq).await;
        assert_eq!(seqs(kept.iter().map(|(m, _)| m)), [1, 2, 3]);
        assert!(kept.iter().all(|(m, _)| has_death(m)));
        delete(&c, &dlq).await;
        c.close().await;
    });
}

#[test]
fn a_move_through_the_core_to_an_exchange_keeps_each_routing_key() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let (src, dst) = (unique("ops.core.src"), unique("ops.core.dst"));
        fill(&c, &src, "quorum", 4).await;
        fill(&c, &dst, "classic", 0).await;
        // Messages published to the default exchange carry the source queue's name as their
        // routing key; bind the target by it on amq.direct.
        channel(&c)
            .await
            .queue_bind(
                dst.as_str().into(),
                "amq.direct".into(),
                src.as_str().into(),
                Default::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let source = ClusterRef {
            session: c.session().unwrap(),
            api: c.api(),
        };
        let request = OpsRequest {
            vhost: "/".into(),
            queue: src.clone(),
            action: Action::Move {
                target: Target::Exchange {
                    name: "amq.direct".into(),
                    routing_key: None,
                },
            },
            selection: OpsSelection::First { count: 3 },
            allow_side_effects: false,
        };
        if returns_need_consent("quorum") {
            // A message the target refused would go back, counted as a delivery.
            let refused = ops::run(source, None, &request, CancellationToken::new(), |_| {}).await;
            assert!(
                matches!(&refused, Err(warren_core::Error::NeedsConsent { effects, .. }) if effects.contains("delivery count")),
                "{refused:?}"
            );
        }
        let request = OpsRequest {
            allow_side_effects: returns_need_consent("quorum"),
            ..request
        };
        let mut phases = Vec::new();
        let report = ops::run(source, None, &request, CancellationToken::new(), |p| {
            phases.push(p.phase)
        })
        .await
        .unwrap();
        assert_eq!((report.moved, report.failed), (3, 0));
        assert_eq!(phases.last(), Some(&ops::OpsPhase::Done));
        assert_eq!(contents(&c, &src).await, [4]);
        assert_eq!(contents(&c, &dst).await, [1, 2, 3]);
        delete(&c, &src).await;
        delete(&c, &dst).await;
        c.close().await;
    });
}

#[test]
fn a_copy_to_another_cluster_connection_publishes_there_and_keeps_the_source() {
    runtime().block_on(async {
        // The target is a second open cluster (its own session and API client), as a move to
        // another profile's cluster is; here it reaches the same nodes.
        let c = OpenCluster::open(target()).unwrap();
        let other = OpenCluster::open(target()).unwrap();
        let (src, dst) = (unique("ops.other.src"), unique("ops.other.dst"));
        fill(&c, &src, "classic", 3).await;
        fill(&c, &dst, "classic", 0).await;
        let request = OpsRequest {
            vhost: "/".into(),
            queue: src.clone(),
            action: Action::Copy {
                target: Target::Queue { name: dst.clone() },
            },
            selection: OpsSelection::All,
            allow_side_effects: false,
        };
        let source = ClusterRef {
            session: c.session().unwrap(),
            api: c.api(),
        };
        let there = ClusterRef {
            session: other.session().unwrap(),
            api: other.api(),
        };
        let plan = ops::plan(source, Some(there), &request).await.unwrap();
        assert_eq!(
            plan.summary,
            format!("Copy 3 messages of queue \"{src}\" to queue \"{dst}\"; the queue keeps them")
        );
        let report = ops::run(
            source,
            Some(there),
            &request,
            CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(
            (report.copied, report.failed, report.returned_to_source),
            (3, 0, 3)
        );
        assert_eq!(contents(&c, &dst).await, [1, 2, 3]);
        assert_eq!(contents(&c, &src).await, [1, 2, 3]);
        delete(&c, &src).await;
        delete(&c, &dst).await;
        other.close().await;
        c.close().await;
    });
}

#[test]
fn a_cancelled_move_keeps_every_message_exactly_once() {
    runtime().block_on(async {
        let c = OpenCluster::open(target()).unwrap();
        let (src, dst) = (unique("ops.cancel.src"), unique("ops.cancel.dst"));
        let total = ops::CHUNK * 2 + 500;
        fill(&c, &src, "classic", total).await;
        fill(&c, &dst, "classic", 0).await;
        let request = OpsRequest {
            vhost: "/".into(),
            queue: src.clone(),
            action: Action::Move {
                target: Target::Queue { name: dst.clone() },
            },
            selection: OpsSelection::All,
            allow_side_effects: false,
        };
        let source = ClusterRef {
            session: c.session().unwrap(),
            api: c.api(),
        };
        // Cancelled while the first chunk's copies are acknowledged in the source: that chunk
        // completes (each acknowledgement follows its confirm), the next is never read.
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let report = ops::run(source, None, &request, cancel, |p| {
            if p.phase == ops::OpsPhase::Acknowledging {
                stop.cancel();
            }
        })
        .await
        .unwrap();
        assert!(report.cancelled);
        assert_eq!((report.moved, report.failed), (ops::CHUNK, 0));
        let moved = contents(&c, &dst).await;
        let kept = contents(&c, &src).await;
        assert_eq!(moved, (1..=ops::CHUNK).collect::<Vec<u32>>());
        assert_eq!(kept, (ops::CHUNK + 1..=total).collect::<Vec<u32>>());
        delete(&c, &src).await;
        delete(&c, &dst).await;
        c.close().await;
    });
}
