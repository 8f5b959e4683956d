//! Baseline for tests/bench/publish: the minimal confirmed publisher that `warren publish
//! --count` is measured against. Plain lapin, no Warren code: one channel in confirm mode,
//! COUNT persistent messages of SIZE bytes to the default exchange with routing key QUEUE,
//! at most WINDOW unconfirmed at a time, and a non-zero exit unless every one was acked.
//!
//!   min_publisher AMQP_URI QUEUE COUNT SIZE [WINDOW=1024]

use std::collections::VecDeque;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (uri, queue, count, size, window) = match args.as_slice() {
        [_, uri, queue, count, size] => (uri, queue, count, size, "1024"),
        [_, uri, queue, count, size, window] => (uri, queue, count, size, window.as_str()),
        _ => {
            eprintln!("usage: min_publisher AMQP_URI QUEUE COUNT SIZE [WINDOW]");
            std::process::exit(2);
        }
    };
    let count: u64 = count.parse().expect("COUNT");
    let size: usize = size.parse().expect("SIZE");
    let window: usize = window.parse().expect("WINDOW");
    let conn = Connection::connect(uri, ConnectionProperties::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm.select");
    let body = vec![b'x'; size];
    let props = BasicProperties::default().with_delivery_mode(2);
    let mut pending = VecDeque::with_capacity(window);
    let mut acked = 0u64;
    let settle = |c: lapin::Result<Confirmation>| matches!(c, Ok(Confirmation::Ack(None)));
    for _ in 0..count {
        if pending.len() >= window {
            let c = pending.pop_front().expect("non-empty").await;
            acked += u64::from(settle(c));
        }
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                &body,
                props.clone(),
            )
            .await
            .expect("publish");
        pending.push_back(confirm);
    }
    for c in pending {
        acked += u64::from(settle(c.await));
    }
    let _ = conn.close(200, "OK".into()).await;
    if acked != count {
        eprintln!("only {acked} of {count} confirmed");
        std::process::exit(1);
    }
}
