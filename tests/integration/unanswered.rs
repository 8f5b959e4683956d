//! Nodes that accept connections and never answer, and logins the broker refuses: what a
//! production cluster with a paused or wedged node does to a client, and what Warren must do
//! about it (avoid the node within seconds, never send a write twice, never hammer a login).
//!
//! A "silent" endpoint here is a loopback listener that never accepts: the kernel completes
//! the TCP handshake and then nothing answers, exactly as with a node whose VM is paused.
//! It stands in for the first node of an otherwise real cluster, so these tests change no
//! node; the last two pause a real node (the second mid-peek) and take the cluster-wide lock.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use warren_core::cluster::OpenCluster;
use warren_core::endpoint::ClusterTarget;
use warren_core::lapin::options::{
    BasicPublishOptions, ExchangeDeclareOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use warren_core::lapin::types::FieldTable;
use warren_core::lapin::BasicProperties;
use warren_core::management::{ManagementClient, REQUEST_TIMEOUT};
use warren_core::peek;
use warren_core::session::{ClusterSession, LinkState};
use warren_core::{queues, Error, ErrorKind};

use crate::common::{
    cluster, cluster_node, declare_on, exclusive, home_of, ready_count, target, unique, warren,
    Restore,
};
use crate::peek::{drain, fill, runtime, seqs};

/// A listener that completes TCP handshakes and never answers.
fn silent_endpoint() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// The cluster's nodes as a target, with a silent endpoint listed first (AMQP and API).
fn target_behind_a_silent_node(amqp_port: u16, api_port: u16) -> ClusterTarget {
    let mut nodes = vec![format!("amqp://guest:guest@127.0.0.1:{amqp_port}/%2f")];
    let mut apis = vec![format!("http://guest:guest@127.0.0.1:{api_port}")];
    for n in &cluster().nodes {
        nodes.push(n.amqp());
        apis.push(n.api());
    }
    ClusterTarget::ad_hoc(&nodes, &apis).unwrap()
}

async fn queue_with_messages(queue: &str, count: u32) -> ClusterSession {
    let session = ClusterSession::open(target()).unwrap();
    session
        .run(Duration::from_secs(10), |ch| {
            let queue = queue.to_owned();
            async move {
                ch.queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions::default(),
                    FieldTable::default(),
                )
                .await?;
                for i in 0..count {
                    ch.basic_publish(
                        "".into(),
                        queue.as_str().into(),
                        BasicPublishOptions::default(),
                        format!("m{i}").as_bytes(),
                        BasicProperties::default(),
                    )
                    .await?;
                }
                Ok(())
            }
        })
        .await
        .unwrap();
    session
}

async fn ready(session: &ClusterSession, queue: &str) -> u32 {
    session
        .run(Duration::from_secs(10), |ch| {
            let queue = queue.to_owned();
            async move { ready_count(&ch, &queue).await }
        })
        .await
        .unwrap()
}

async fn delete(session: ClusterSession, queue: &str) {
    session
        .run(Duration::from_secs(10), |ch| {
            let queue = queue.to_owned();
            async move {
                ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                    .await?;
                Ok(())
            }
        })
        .await
        .unwrap();
    session.close().await;
}

#[tokio::test]
async fn a_purge_that_gets_no_answer_is_not_sent_to_another_node() {
    let queue = unique("unanswered.purge");
    let session = queue_with_messages(&queue, 3).await;
    let (_silent, api_port) = silent_endpoint();
    let api = ManagementClient::new(&target_behind_a_silent_node(1, api_port)).unwrap();

    // The purge reads the queue first (a read, which moves on to a node that answers), then
    // sends the purge itself where that read was answered.
    let purged = queues::purge(&api, "/", &queue).await;
    assert!(purged.is_ok(), "{purged:?}");
    assert_eq!(ready(&session, &queue).await, 0);

    // Now the silent node is where the write goes first (a new client starts there). It
    // received the purge, as far as anyone can tell, and never answered: the purge must not
    // be sent to the next node, and the error must say that it may or may not have happened.
    let session_queue = unique("unanswered.purge2");
    let refill = queue_with_messages(&session_queue, 4).await;
    let fresh = ManagementClient::new(&target_behind_a_silent_node(1, api_port)).unwrap();
    let path = format!(
        "queues/%2F/{}/contents",
        warren_core::management::encode_segment(&session_queue)
    );
    let started = Instant::now();
    let e = fresh.delete(&path).await.expect_err("no node answered it");
    assert!(matches!(e, Error::Unconfirmed { .. }), "{e}");
    assert!(e.to_string().contains("may or may not"), "{e}");
    assert!(
        started.elapsed() < REQUEST_TIMEOUT,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        ready(&refill, &session_queue).await,
        4,
        "the purge went to another node as well"
    );
    delete(refill, &session_queue).await;
    delete(session, &queue).await;
}

#[tokio::test]
async fn a_read_moves_past_a_node_that_does_not_answer_within_seconds() {
    let (_silent, api_port) = silent_endpoint();
    let api = ManagementClient::new(&target_behind_a_silent_node(1, api_port)).unwrap();
    let started = Instant::now();
    let overview = api.read_overview().await.unwrap();
    let took = started.elapsed();
    assert!(overview.version().is_some());
    // It gave up on the silent node once a liveness probe went unanswered, not after the
    // whole request timeout.
    assert!(took < REQUEST_TIMEOUT / 2, "took {took:?}");
    assert!(!api.current_endpoint().contains(&api_port.to_string()));
}

#[test]
fn status_with_a_first_node_that_does_not_answer_reports_it_within_seconds() {
    let (_amqp, amqp_port) = silent_endpoint();
    let (_api, api_port) = silent_endpoint();
    let mut args = vec![
        "--node".to_owned(),
        format!("amqp://guest:guest@127.0.0.1:{amqp_port}/%2f"),
        "--api".to_owned(),
        format!("http://guest:guest@127.0.0.1:{api_port}"),
    ];
    for n in &cluster().nodes {
        args.extend(["--node".to_owned(), n.amqp(), "--api".to_owned(), n.api()]);
    }
    args.extend(["status".to_owned(), "--json".to_owned()]);
    let started = Instant::now();
    let out = warren(&args);
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let silent = &status["endpoints"][0];
    assert_eq!(silent["ok"], false, "{silent}");
    assert_eq!(silent["management_reachable"], false, "{silent}");
    assert_eq!(silent["amqp"]["state"], "down", "{silent}");
    assert!(
        status["endpoints"].as_array().unwrap()[1..]
            .iter()
            .all(|e| e["ok"] == true),
        "{}",
        status["endpoints"]
    );
    assert!(took < REQUEST_TIMEOUT, "took {took:?}");
}

#[tokio::test]
async fn a_refused_login_is_not_tried_again() {
    let one = cluster().node(1);
    let nodes = [format!(
        "amqp://guest:not-the-password@127.0.0.1:{}/%2f",
        one.amqp_port
    )];
    let session = ClusterSession::open(ClusterTarget::ad_hoc(&nodes, &[]).unwrap()).unwrap();
    let mut links = session.watch_links();
    let refused = tokio::time::timeout(
        Duration::from_secs(10),
        links.wait_for(|l| l[0].state == LinkState::LoginRefused),
    )
    .await
    .expect("the link reports the refused login")
    .unwrap()
    .clone();
    assert_eq!(refused[0].failed_attempts, 1);
    // Retrying with backoff would have made several more attempts by now.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let later = session.links();
    assert_eq!(later[0].state, LinkState::LoginRefused, "{later:?}");
    assert_eq!(later[0].failed_attempts, 1, "{later:?}");
    let e = session
        .wait_connected(Duration::from_millis(100))
        .await
        .expect_err("never connected");
    assert!(matches!(e, Error::Auth { .. }), "{e}");
    assert!(!e.to_string().contains("not-the-password"));
    session.close().await;
}

#[test]
fn work_moves_off_a_paused_node_within_seconds() {
    let _lock = exclusive();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(off_a_paused_node());
}

async fn off_a_paused_node() {
    let session = ClusterSession::open(target()).unwrap();
    crate::common::every_node_connected(&session).await;
    assert!(exchange_exists(&session).await);
    let active = session.links().iter().position(|l| l.active).unwrap();
    let victim = (active + 1) as u8;

    // Pause the node the session works through; the script returns once its peers noticed,
    // which takes longer than Warren may, so the work starts right after the SIGSTOP.
    let pausing = tokio::task::spawn_blocking(move || cluster_node("pause", victim));
    let _resume = Restore(victim);
    tokio::time::sleep(Duration::from_millis(700)).await;

    // Work that any node can answer (no queue lives on one node): it must leave the paused
    // node and finish on another within seconds.
    let started = Instant::now();
    assert!(exchange_exists(&session).await);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let now_active = session.links().iter().position(|l| l.active).unwrap();
    assert_ne!(now_active, active);
    pausing.await.unwrap();
    session.close().await;
}

async fn exchange_exists(session: &ClusterSession) -> bool {
    session
        .run(Duration::from_secs(10), |ch| async move {
            ch.exchange_declare(
                "amq.direct".into(),
                warren_core::lapin::ExchangeKind::Direct,
                ExchangeDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
            Ok(true)
        })
        .await
        .unwrap()
}

/// A peek holds its messages on one node's connection. When that node pauses mid-peek the
/// peek must end within seconds with a clear error (the session's pings give the node up; a
/// wait on the broker alone would run to its bound), and the messages it held must come back:
/// the broker puts them back once the queue's home node drops the paused one.
#[test]
fn a_peek_whose_node_pauses_ends_within_seconds_and_loses_nothing() {
    const COUNT: u32 = 200;
    let _lock = exclusive();
    runtime().block_on(async {
        let cluster = Arc::new(OpenCluster::open(target()).unwrap());
        let session = cluster.session().unwrap();
        // The node the session works through, so the peek's; the queue lives on another, so
        // it stays readable while that node is paused.
        let (node, home) = crate::common::active_and_another(session).await;
        let queue = unique("unanswered.peek-pause");
        declare_on(home, &queue).await;
        fill(&cluster, &queue, "classic", COUNT).await;
        assert_eq!(home_of(cluster.api(), &queue).await, home.name);

        // The peek stops at its first message until the node is paused: the broker's first
        // window is small (a budget's worth of the largest possible message), so the peek
        // still has to ask the paused node for the rest.
        let at_first = Arc::new(AtomicBool::new(false));
        let go_on = Arc::new(AtomicBool::new(false));
        let shown = Arc::new(Mutex::new(Vec::new()));
        let peeking = {
            let (at_first, go_on, shown) = (at_first.clone(), go_on.clone(), shown.clone());
            let cluster = cluster.clone();
            let request = crate::peek::request(&queue, COUNT);
            tokio::spawn(async move {
                peek::run(
                    cluster.session().unwrap(),
                    cluster.api(),
                    &request,
                    peek::DEFAULT_IDLE,
                    CancellationToken::new(),
                    move |m| {
                        shown.lock().unwrap().push(seqs([&m.message])[0]);
                        if m.position == 1 {
                            at_first.store(true, Ordering::SeqCst);
                            tokio::task::block_in_place(|| {
                                let deadline = Instant::now() + Duration::from_secs(60);
                                while !go_on.load(Ordering::SeqCst) && Instant::now() < deadline {
                                    std::thread::sleep(Duration::from_millis(10));
                                }
                            });
                        }
                        Ok(())
                    },
                    |_| {},
                )
                .await
            })
        };
        while !at_first.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let n = node.n;
        let _restore = Restore(n);
        let pausing = tokio::task::spawn_blocking(move || cluster_node("pause", n));
        // The script sends SIGSTOP at once, then waits for the peers to notice.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let paused = Instant::now();
        go_on.store(true, Ordering::SeqCst);
        let ended = tokio::time::timeout(Duration::from_secs(60), peeking)
            .await
            .expect("the peek ends")
            .unwrap();
        let took = paused.elapsed();
        let e = ended.expect_err("the peek cannot finish on a paused node");
        assert_eq!(e.kind(), ErrorKind::Unreachable, "{e}");
        assert!(e.to_string().contains("given up"), "{e}");
        // A request to the broker would have run to its 15 s bound.
        assert!(took < Duration::from_secs(10), "ended after {took:?}: {e}");
        let shown = shown.lock().unwrap().clone();
        assert_eq!(shown, (1..=shown.len() as u32).collect::<Vec<_>>());

        // Nothing lost: once the home node drops the paused one, a peek through another node
        // shows every message, in order.
        pausing.await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let got = Arc::new(Mutex::new(Vec::new()));
            let sink = got.clone();
            let report = peek::run(
                session,
                cluster.api(),
                &crate::peek::request(&queue, COUNT),
                peek::DEFAULT_IDLE,
                CancellationToken::new(),
                move |m| {
                    sink.lock().unwrap().push(seqs([&m.message])[0]);
                    Ok(())
                },
                |_| {},
            )
            .await;
            let got = got.lock().unwrap().clone();
            if report.is_ok_and(|r| r.received == COUNT) {
                assert_eq!(got, (1..=COUNT).collect::<Vec<_>>());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the held messages did not come back: {} shown",
                got.len()
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        drop(_restore);
        let left = drain(&cluster, &queue).await;
        assert_eq!(
            seqs(left.iter().map(|(m, _)| m)),
            (1..=COUNT).collect::<Vec<_>>()
        );
        crate::peek::delete(&cluster, &queue).await;
    });
}
