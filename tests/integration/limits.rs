//! Bounds on what Warren takes in: a peek stops at its memory budget and gives every message
//! back; a publish count past the bound, and message or body files that are not regular files
//! or are too large, are refused before anything is sent; a publish whose confirms stop coming
//! (a paused quorum queue leader) ends within bounds, each message confirmed or maybe sent.
//!
//! Each test uses its own queues. The last one pauses a node: run it alone, under the
//! cluster-wide exclusive lock.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    cluster, cluster_node, declare_durable, exclusive, node_args, ready_count, target, unique,
};
use crate::peek::{channel, delete, drain, runtime};
use warren_core::cluster::OpenCluster;
use warren_core::endpoint::ClusterTarget;
use warren_core::lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use warren_core::lapin::types::{AMQPValue, FieldTable};
use warren_core::lapin::BasicProperties;
use warren_core::publish::{self, Plan, PublishRequest};

const MIB: usize = 1024 * 1024;

/// `warren <node args> <args>`, killed (and the test failed) if it runs longer than `limit`:
/// a read that blocks on a FIFO must not hang the suite.
fn warren_within(args: &[&str], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warren"));
    cmd.args(node_args())
        .args(args)
        .env(
            "WARREN_CONFIG_DIR",
            std::env::temp_dir().join("warren-it-no-profiles"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run warren");
    // Read both pipes as the child writes (a full pipe would stall it).
    let pipe = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = pipe(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "warren {args:?} did not end within {limit:?}: {}",
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Ready messages in `queue`, from the queue itself.
async fn ready(cluster: &OpenCluster, queue: &str) -> u32 {
    try_ready(cluster, queue).await.expect("the queue answers")
}

/// [`ready`], or `None` when the queue does not answer (yet).
async fn try_ready(cluster: &OpenCluster, queue: &str) -> Option<u32> {
    let ch = cluster
        .session()
        .ok()?
        .channel(Duration::from_secs(10))
        .await
        .ok()?
        .0;
    let count = ready_count(&ch, queue).await.ok()?;
    let _ = ch.close(200, "".into()).await;
    Some(count)
}

#[test]
fn a_peek_stops_at_its_memory_budget_and_gives_every_message_back() {
    const COUNT: u8 = 20;
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("budget.peek");
        let ch = channel(&cluster).await;
        declare_durable(&ch, &queue, FieldTable::default()).await;
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        // 20 messages of 8 MiB, each body filled with its number.
        for seq in 1..=COUNT {
            let confirm = ch
                .basic_publish(
                    "".into(),
                    queue.as_str().into(),
                    BasicPublishOptions::default(),
                    &vec![seq; 8 * MIB],
                    BasicProperties::default().with_message_id(seq.to_string().into()),
                )
                .await
                .unwrap()
                .await
                .unwrap();
            assert!(confirm.is_ack());
        }

        let out = warren_within(
            &[
                "peek",
                &queue,
                "--count",
                "20",
                "--budget-mib",
                "64",
                "--json",
                "--idle-ms",
                "5000",
            ],
            Duration::from_secs(120),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let shown: Vec<serde_json::Value> = String::from_utf8(out.stdout.clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // 8 bodies of 8 MiB are exactly 64 MiB; the ninth would go past it.
        assert_eq!(shown.len(), 8, "{}", stderr(&out));
        let ids: Vec<&str> = shown
            .iter()
            .map(|m| m["properties"]["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["1", "2", "3", "4", "5", "6", "7", "8"]);
        let why = stderr(&out);
        assert!(
            why.contains("memory budget of 64 MiB") && why.contains("stopped at 8 messages"),
            "{why}"
        );

        // Nothing lost, nothing reordered: the held and the unheld went back. And the broker
        // sent the peek only what the budget had room for, plus the one that found it full:
        // every window is cut to the budget, so messages 10 to 20 never left the queue (a
        // message delivered and given back comes back redelivered). With one window of 20
        // they all did, and a queue of large messages could fill memory before the budget
        // was even looked at.
        let drained = drain(&cluster, &queue).await;
        assert_eq!(drained.len(), usize::from(COUNT));
        let redelivered: Vec<bool> = drained.iter().map(|(_, r)| *r).collect();
        assert_eq!(
            redelivered,
            (1..=COUNT).map(|seq| seq <= 9).collect::<Vec<_>>(),
            "which messages the broker had sent to the peek"
        );
        for (i, (m, _)) in drained.iter().enumerate() {
            let seq = i as u8 + 1;
            assert_eq!(
                m.properties.message_id.as_deref(),
                Some(seq.to_string().as_str())
            );
            assert_eq!(m.body.len(), 8 * MIB);
            assert!(
                m.body.iter().all(|b| *b == seq),
                "message {seq}'s body changed"
            );
        }
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn a_publish_count_past_the_bound_is_refused_before_anything_is_sent() {
    runtime().block_on(async {
        let cluster = OpenCluster::open(target()).unwrap();
        let queue = unique("budget.count");
        crate::peek::seed(&cluster, &queue, "classic", 0).await;
        for count in ["10000001", "9007199254740993"] {
            let out = warren_within(
                &[
                    "publish", "-e", "", "-k", &queue, "--body", "x", "--count", count,
                ],
                Duration::from_secs(30),
            );
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            assert!(
                stderr(&out).contains("invalid count: must be 1 to 10000000"),
                "{}",
                stderr(&out)
            );
        }
        assert_eq!(ready(&cluster, &queue).await, 0, "something was sent");
        delete(&cluster, &queue).await;
        cluster.close().await;
    });
}

#[test]
fn message_and_body_files_must_be_regular_files_of_a_bounded_size() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("messages.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    // Larger than the most Warren reads, without taking the disk space (a sparse file).
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(600 * MIB as u64)
        .unwrap();
    let big = big.to_str().unwrap();
    let folder = dir.path().to_str().unwrap();
    let queue = unique("budget.files");
    let limit = Duration::from_secs(30);

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["publish", "--message-file", fifo],
            "not a regular file",
        ),
        (
            vec!["publish", "-e", "", "-k", &queue, "--body-file", fifo],
            "not a regular file",
        ),
        (
            vec![
                "publish",
                "-e",
                "",
                "-k",
                &queue,
                "--body-file",
                "/dev/zero",
            ],
            "not a regular file",
        ),
        (vec!["publish", "--message-file", folder], "a folder"),
        (
            vec!["publish", "--message-file", big],
            "the most Warren reads is 512 MiB",
        ),
        (
            vec!["publish", "-e", "", "-k", &queue, "--body-file", big],
            "the most Warren reads is 512 MiB",
        ),
        (
            vec!["delete", &queue, "--messages", fifo],
            "not a regular file",
        ),
        (
            vec!["replay", fifo, "--to-exchange", ""],
            "not a regular file",
        ),
    ];
    for (args, expected) in cases {
        let out = warren_within(&args, limit);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A regular file still reads.
    let good = dir.path().join("good.json");
    let mut f = std::fs::File::create(&good).unwrap();
    writeln!(
        f,
        "{{\"routing_key\": \"nowhere-{queue}\", \"body\": \"hi\"}}"
    )
    .unwrap();
    let out = warren_within(
        &[
            "publish",
            "--message-file",
            good.to_str().unwrap(),
            "--json",
        ],
        limit,
    );
    // Unroutable (no such queue): returned, exit 4, but read and sent.
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
}

/// Pauses the leader of a quorum queue while a publish through another node is under way:
/// confirms stop coming (the leader cannot answer, and no new one is elected until its peers
/// give up on it). The run must end within bounds, with every message confirmed, maybe sent
/// or failed, never left waiting, and the queue must hold at least the confirmed ones and at
/// most those plus the maybe sent (nothing sent twice).
#[test]
fn a_publish_whose_confirms_stop_ends_within_bounds() {
    let _lock = exclusive();
    if cluster().nodes.len() < 3 {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(confirms_stop());
}

async fn confirms_stop() {
    const TOTAL: u64 = 20_000;
    let leader = cluster().node(1).clone();
    let others: Vec<_> = cluster()
        .nodes
        .iter()
        .filter(|n| n.n != leader.n)
        .cloned()
        .collect();
    let queue = unique("budget.confirms");
    // Declared through the leader-to-be: quorum queues are led by the declaring node.
    let on_leader =
        OpenCluster::open(ClusterTarget::ad_hoc(&[leader.amqp()], &[leader.api()]).unwrap())
            .unwrap();
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    declare_durable(&channel(&on_leader).await, &queue, args).await;
    on_leader.close().await;

    // The publisher knows only the other nodes.
    let amqp: Vec<String> = others.iter().map(|n| n.amqp()).collect();
    let api: Vec<String> = others
        .iter()
        .map(|n| format!("http://guest:guest@127.0.0.1:{}", n.api_port))
        .collect();
    let publisher = OpenCluster::open(ClusterTarget::ad_hoc(&amqp, &api).unwrap()).unwrap();
    let request: PublishRequest = serde_json::from_value(serde_json::json!({
        "message": {"exchange": "", "routing_key": queue, "body": "m {{seq}}"},
        "count": TOTAL,
        "rate": 2000.0,
    }))
    .unwrap();
    let plan = Plan::from_request(&request).unwrap();

    let n = leader.n;
    let pausing = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        tokio::task::spawn_blocking(move || cluster_node("pause", n))
            .await
            .unwrap();
    });
    let resume = crate::common::Restore(leader.n);
    let started = Instant::now();
    let summary = tokio::time::timeout(
        Duration::from_secs(300),
        publish::run(
            publisher.session().unwrap(),
            publisher.api(),
            &plan,
            tokio_util::sync::CancellationToken::new(),
            |_| {},
        ),
    )
    .await
    .expect("the publish never ended: a confirm wait without bound")
    .unwrap();
    let took = started.elapsed();
    pausing.await.unwrap();
    drop(resume);
    eprintln!(
        "confirms stopped: {} confirmed, {} maybe sent, {} failed, {} not sent of {TOTAL} in {took:?}",
        summary.confirmed, summary.maybe_sent, summary.failed, summary.not_sent
    );
    if let Some(p) = summary.problems.first() {
        eprintln!("first problem: message {}: {:?}", p.seq, p.outcome);
    }
    assert_eq!(
        summary.confirmed + summary.maybe_sent + summary.failed + summary.returned + summary.nacked,
        TOTAL,
        "{summary:?}"
    );
    assert_eq!(summary.not_sent, 0);

    // Once the leader is back, the queue holds every confirmed message and at most the maybe
    // sent on top: none was sent twice.
    let check = OpenCluster::open(target()).unwrap();
    let mut held = 0;
    for _ in 0..60 {
        if let Ok(Some(n)) =
            tokio::time::timeout(Duration::from_secs(5), try_ready(&check, &queue)).await
        {
            held = u64::from(n);
            if held >= summary.confirmed {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        held >= summary.confirmed && held <= summary.confirmed + summary.maybe_sent,
        "the queue holds {held}: {summary:?}"
    );
    delete(&check, &queue).await;
    check.close().await;
    publisher.close().await;
}
