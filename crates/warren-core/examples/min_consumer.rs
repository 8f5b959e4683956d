//! Baseline for tests/bench/consume: the minimal consumer that `warren consume --ack` is
//! measured against. Plain lapin, no Warren code: one channel, a prefetch window of PREFETCH,
//! COUNT deliveries acknowledged with one `multiple` ack every ACK_EVERY (and one for the
//! rest), as `warren consume --ack` settles a batch at a time; a non-zero exit unless COUNT
//! arrived (waiting at most 5 s for each).
//!
//!   min_consumer AMQP_URI QUEUE COUNT PREFETCH [ACK_EVERY=PREFETCH/2]

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (uri, queue, count, prefetch, every) = match args.as_slice() {
        [_, uri, queue, count, prefetch] => (uri, queue, count, prefetch, None),
        [_, uri, queue, count, prefetch, every] => {
            (uri, queue, count, prefetch, Some(every.as_str()))
        }
        _ => {
            eprintln!("usage: min_consumer AMQP_URI QUEUE COUNT PREFETCH [ACK_EVERY]");
            std::process::exit(2);
        }
    };
    let count: u64 = count.parse().expect("COUNT");
    let prefetch: u16 = prefetch.parse().expect("PREFETCH");
    let every: u64 = every.map_or((u64::from(prefetch) / 2).max(1), |e| {
        e.parse().expect("ACK_EVERY")
    });
    let conn = Connection::connect(uri, ConnectionProperties::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    ch.basic_qos(prefetch, BasicQosOptions::default())
        .await
        .expect("qos");
    let mut consumer = ch
        .basic_consume(
            queue.as_str().into(),
            "min-consumer".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut got: u64 = 0;
    let mut unacked: u64 = 0;
    let mut last_tag = 0;
    while got < count {
        match tokio::time::timeout(Duration::from_secs(5), consumer.next()).await {
            Ok(Some(Ok(d))) => {
                got += 1;
                unacked += 1;
                last_tag = d.delivery_tag;
                if unacked == every || got == count {
                    ch.basic_ack(last_tag, BasicAckOptions { multiple: true })
                        .await
                        .expect("ack");
                    unacked = 0;
                }
            }
            _ => break,
        }
    }
    if unacked > 0 {
        ch.basic_ack(last_tag, BasicAckOptions { multiple: true })
            .await
            .expect("ack");
    }
    let _ = ch.close(200, "done".into()).await;
    let _ = conn.close(200, "done".into()).await;
    if got < count {
        eprintln!("only {got} of {count} arrived");
        std::process::exit(1);
    }
}
