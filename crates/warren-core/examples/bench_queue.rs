//! Benchmark helper for tests/bench/peek: fills a queue to an exact message count, and is
//! the "plain consumer" peer that `warren peek` is measured against.
//!
//!   bench_queue fill AMQP_URI QUEUE COUNT SIZE     top the classic queue up to COUNT messages
//!   bench_queue consume AMQP_URI QUEUE COUNT PREFETCH
//!                                                  consume COUNT messages with a prefetch
//!                                                  window, acking every 100 (drains them)
//!
//! Plain lapin, no Warren code: it is the baseline.

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_queue fill|consume AMQP_URI QUEUE COUNT SIZE|PREFETCH";
    let [_, cmd, uri, queue, count, n] = args.as_slice() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let count: u32 = count.parse().expect("COUNT");
    let n: u32 = n.parse().expect("SIZE or PREFETCH");
    let conn = Connection::connect(uri, ConnectionProperties::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    let q = ch
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("declare");
    match cmd.as_str() {
        "fill" => {
            ch.confirm_select(ConfirmSelectOptions::default())
                .await
                .expect("confirms");
            let body = vec![b'x'; n as usize];
            let missing = count.saturating_sub(q.message_count());
            let mut pending = Vec::new();
            for _ in 0..missing {
                pending.push(
                    ch.basic_publish(
                        "".into(),
                        queue.as_str().into(),
                        BasicPublishOptions::default(),
                        &body,
                        BasicProperties::default().with_delivery_mode(2),
                    )
                    .await
                    .expect("publish"),
                );
                if pending.len() >= 1000 {
                    for c in pending.drain(..) {
                        assert!(c.await.expect("confirm").is_ack());
                    }
                }
            }
            for c in pending {
                assert!(c.await.expect("confirm").is_ack());
            }
        }
        "consume" => {
            ch.basic_qos(n as u16, BasicQosOptions::default())
                .await
                .expect("qos");
            let mut consumer = ch
                .basic_consume(
                    queue.as_str().into(),
                    "bench".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .expect("consume");
            let mut got = 0;
            while got < count {
                let d = consumer.next().await.expect("stream").expect("delivery");
                got += 1;
                if got % 100 == 0 || got == count {
                    d.acker
                        .ack(BasicAckOptions { multiple: true })
                        .await
                        .expect("ack");
                }
            }
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
    let _ = conn.close(200, "bye".into()).await;
}
