//! Queues with odd names against the real cluster: dots, slashes, `%`, spaces, `#`, `?` and
//! non-ASCII in `/`, and exactly `.` and `..` in a fresh vhost of their own. Listing, the peek
//! plan and a purge must each address exactly the queue named, never another one (a path that
//! collapses would: `/api/queues/V/%2E/contents` is `/api/queues/V/contents`, the queue
//! `contents`).
//!
//! Each test declares its own queues (and vhost) and deletes them at the end; none of them
//! stops a node.

use std::time::Duration;

use crate::common::{cluster, ready_count, target, unique, warren};
use crate::peek::runtime;
use serde_json::Value;
use warren_core::lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use warren_core::lapin::types::FieldTable;
use warren_core::lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use warren_core::management::{encode_segment, ManagementClient};
use warren_core::{queues, Error};

/// The first node's AMQP URI on `vhost`.
fn amqp_on(vhost: &str) -> String {
    format!(
        "amqp://guest:guest@127.0.0.1:{}/{}",
        cluster().node(1).amqp_port,
        encode_segment(vhost)
    )
}

/// A channel on `vhost` of the first node.
async fn channel_on(vhost: &str) -> (Connection, Channel) {
    let uri = amqp_on(vhost);
    let conn = Connection::connect(&uri, ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    (conn, ch)
}

/// Declares `queue` and puts `count` confirmed messages in it.
async fn fill(ch: &Channel, queue: &str, count: u32) {
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    for i in 0..count {
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                i.to_string().as_bytes(),
                BasicProperties::default(),
            )
            .await
            .unwrap();
        assert!(confirm.await.unwrap().is_ack());
    }
}

/// The queue's ready count, asked of the broker itself (a passive declare).
async fn ready(ch: &Channel, queue: &str) -> u32 {
    ready_count(ch, queue)
        .await
        .unwrap_or_else(|e| panic!("queue {queue:?}: {e}"))
}

/// `warren ... queues --vhost V --json`: the names listed.
fn listed(args: Vec<String>) -> Vec<String> {
    let out = warren(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

/// `warren ... peek QUEUE --plan --json`.
fn plan(mut args: Vec<String>, queue: &str) -> Value {
    args.extend(["peek", queue, "--plan", "--json"].map(String::from));
    let out = warren(&args);
    assert!(
        out.status.success(),
        "{queue:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn with_node_args(extra: &[&str]) -> Vec<String> {
    let mut args = crate::common::node_args();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn odd_characters_address_exactly_their_queue() {
    runtime().block_on(async {
        let tag = unique("odd");
        // Queue i holds i + 1 messages, so each count tells which queue was reached.
        let names: Vec<String> = [
            "a.b",
            "...",
            "a/b",
            "/",
            "50%",
            "%2E",
            "with space",
            "#hash",
            "why?",
            "é-キュー",
        ]
        .iter()
        .map(|n| format!("{tag}{n}"))
        .collect();
        let (conn, ch) = channel_on("/").await;
        for (i, name) in names.iter().enumerate() {
            fill(&ch, name, i as u32 + 1).await;
        }

        let filter = format!("^{}", tag.replace('.', "\\."));
        let mut want = names.clone();
        want.sort();
        assert_eq!(
            listed(with_node_args(&["queues", "--filter", &filter, "--json"])),
            want
        );

        for (i, name) in names.iter().enumerate() {
            let p = plan(crate::common::node_args(), name);
            assert_eq!(p["queue"], name.as_str());
            assert_eq!(p["vhost"], "/");
            assert_eq!(p["messages_ready"], i as u64 + 1, "{name:?}: {p}");
        }

        // Purging each in turn empties it and leaves every later one as it was.
        let api = ManagementClient::new(&target()).unwrap();
        for (i, name) in names.iter().enumerate() {
            queues::purge(&api, "/", name).await.unwrap();
            assert_eq!(ready(&ch, name).await, 0, "{name:?}");
            for (j, later) in names.iter().enumerate().skip(i + 1) {
                assert_eq!(ready(&ch, later).await, j as u32 + 1, "{later:?}");
            }
        }

        for name in &names {
            ch.queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                .await
                .unwrap();
        }
        conn.close(200, "done".into()).await.unwrap();
    });
}

#[test]
fn queues_named_dot_and_dot_dot_are_never_mistaken_for_others() {
    runtime().block_on(async {
        let vhost = unique("odd-names");
        let node = cluster().node(1);
        let http = reqwest::Client::new();
        let vhost_url = format!(
            "http://127.0.0.1:{}/api/vhosts/{}",
            node.api_port,
            encode_segment(&vhost)
        );
        let created = http
            .put(&vhost_url)
            .basic_auth("guest", Some("guest"))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
        let granted = http
            .put(format!(
                "http://127.0.0.1:{}/api/permissions/{}/guest",
                node.api_port,
                encode_segment(&vhost)
            ))
            .basic_auth("guest", Some("guest"))
            .json(&serde_json::json!({"configure": ".*", "write": ".*", "read": ".*"}))
            .send()
            .await
            .unwrap();
        assert!(granted.status().is_success(), "{}", granted.status());

        // "contents" is what a collapsed purge path of "." would address.
        let (conn, ch) = channel_on(&vhost).await;
        let queues_held = [(".", 1), ("..", 2), ("contents", 3)];
        for (name, count) in queues_held {
            fill(&ch, name, count).await;
        }

        // One node, its AMQP URI on the vhost, so the plan's exact counts come from there.
        let on_vhost = vec![
            "--node".to_owned(),
            amqp_on(&vhost),
            "--api".to_owned(),
            format!("http://guest:guest@127.0.0.1:{}", node.api_port),
        ];
        let mut args = on_vhost.clone();
        args.extend(["queues", "--json"].map(String::from));
        assert_eq!(listed(args), [".", "..", "contents"]);

        for (name, count) in queues_held {
            let p = plan(on_vhost.clone(), name);
            assert_eq!(p["queue"], name, "{p}");
            assert_eq!(p["vhost"], vhost.as_str(), "{p}");
            assert_eq!(p["messages_ready"], count, "{name:?}: {p}");
        }

        // No management path can name "." or "..": the purge is refused, and nothing changes.
        let api = ManagementClient::new(&target()).unwrap();
        for name in [".", ".."] {
            let refused = queues::purge(&api, &vhost, name).await;
            assert!(
                matches!(refused, Err(Error::InvalidInput { .. })),
                "{name:?}: {refused:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        for (name, count) in queues_held {
            assert_eq!(ready(&ch, name).await, count, "{name:?}");
        }
        // The detail of each is its own.
        for (name, _) in queues_held {
            let d = queues::detail(&api, &vhost, name).await.unwrap();
            assert_eq!(
                (d.row.name.as_str(), d.row.vhost.as_str()),
                (name, vhost.as_str())
            );
        }
        // A purge of the neighbour "contents" takes only its messages.
        queues::purge(&api, &vhost, "contents").await.unwrap();
        assert_eq!(ready(&ch, "contents").await, 0);
        assert_eq!((ready(&ch, ".").await, ready(&ch, "..").await), (1, 2));

        conn.close(200, "done".into()).await.unwrap();
        let deleted = http
            .delete(&vhost_url)
            .basic_auth("guest", Some("guest"))
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success(), "{}", deleted.status());
    });
}
