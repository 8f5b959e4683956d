//! `warren consume` and `warren tap`: take messages from a queue and settle each as told, or
//! watch an exchange's traffic without taking anything.
//!
//! Both print each delivery as it arrives (with `--json`, one object per line in the message
//! format plus `redelivered` and `delivery_tag`), and end after `--count` messages or when
//! nothing arrives for `--idle-timeout`. `consume` settles a delivery only after it
//! was written out, a batch at a time (one `multiple` frame where the settle allows it); what
//! it holds unsettled when it ends goes back to the queue. Fewer messages than `--count` is
//! [`Exit::Incomplete`]. Ctrl-C stops cleanly (the one handler in `main`).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgGroup, Args};
use tokio::time::Instant;
use warren_core::cluster::OpenCluster;
use warren_core::consume::{
    self, AckMode, ConsumeRequest, ConsumedMessage, ConsumerEvent, ConsumerHandle, EventReceiver,
    Settle, StopReport, TapRequest,
};
use warren_core::endpoint::ClusterTarget;
use warren_core::peek::StreamOffset;
use warren_core::{Error, Result};

use crate::browse::write_message_text;
use crate::exit_code::Exit;
use crate::json::{self, stdout_error};
use crate::progress::{Bar, Output, Taken};

#[derive(Args)]
#[command(group(ArgGroup::new("settle").required(true).args(["ack", "nack_requeue", "nack", "reject", "reject_requeue"])))]
pub struct ConsumeArgs {
    /// The queue to consume.
    queue: String,
    /// How many messages to take.
    #[arg(long, short = 'n')]
    count: u64,
    /// Acknowledge each message: it leaves the queue.
    #[arg(long)]
    ack: bool,
    /// Nack each message with requeue: it stays in the queue (marked redelivered). The
    /// requeue happens when the command ends, so no message is taken twice.
    #[arg(long)]
    nack_requeue: bool,
    /// Nack each message without requeue: dead-lettered if the queue has a dead-letter
    /// exchange, else dropped.
    #[arg(long)]
    nack: bool,
    /// Reject each message without requeue: dead-lettered if the queue has a dead-letter
    /// exchange, else dropped.
    #[arg(long)]
    reject: bool,
    /// Reject each message with requeue: it stays in the queue. The requeue happens when the
    /// command ends, so no message is taken twice.
    #[arg(long)]
    reject_requeue: bool,
    /// Unacknowledged messages the broker sends ahead (with a requeue flag, at least --count:
    /// every message is held until the end).
    #[arg(long, default_value_t = consume::DEFAULT_PREFETCH)]
    prefetch: u16,
    /// The queue's vhost (default: the profile's, or the --node URI's).
    #[arg(long)]
    vhost: Option<String>,
    /// Streams: where to start: first, last, next, an offset, @EPOCH-SECONDS, an RFC 3339 time,
    /// a date, or a duration ago (10m: ten minutes ago).
    #[arg(long, value_name = "OFFSET")]
    offset: Option<String>,
    /// End when no message arrives for this long (seconds, or a duration: 500ms, 2m).
    #[arg(long, value_name = "S|DURATION", default_value = "5", value_parser = crate::durations::positive_seconds)]
    idle_timeout: Duration,
    /// One JSON object per message per line: the message format plus `redelivered` and
    /// `delivery_tag`.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct TapArgs {
    /// The exchange to watch (`amq.rabbitmq.trace` on a vhost with tracing on).
    exchange: String,
    /// The binding key (default: `#` on a topic exchange, none on fanout and headers).
    #[arg(long, short = 'k')]
    key: Option<String>,
    /// End after this many messages (default: run until Ctrl-C or the idle timeout).
    #[arg(long, short = 'n')]
    count: Option<u64>,
    /// The exchange's vhost (default: the profile's, or the --node URI's).
    #[arg(long)]
    vhost: Option<String>,
    /// End when no message arrives for this long (seconds, or a duration: 500ms, 2m; default:
    /// never).
    #[arg(long, value_name = "S|DURATION", value_parser = crate::durations::positive_seconds)]
    idle_timeout: Option<Duration>,
    /// One JSON object per message per line, as `consume --json` prints them.
    #[arg(long)]
    json: bool,
}

impl ConsumeArgs {
    fn settle(&self) -> Settle {
        if self.ack {
            Settle::Ack
        } else if self.nack_requeue {
            Settle::Nack { requeue: true }
        } else if self.nack {
            Settle::Nack { requeue: false }
        } else if self.reject {
            Settle::Reject { requeue: false }
        } else {
            Settle::Reject { requeue: true }
        }
    }
}

/// The held bytes the CLI allows: what it printed and settled is let go as it goes.
const CLI_BUDGET: u64 = 16 * 1024 * 1024;

pub async fn consume(target: ClusterTarget, args: ConsumeArgs) -> Result<Exit> {
    if args.count == 0 {
        return Err(Error::invalid("count", "must be at least 1"));
    }
    let idle = args.idle_timeout;
    let how = args.settle();
    // A requeued message would come straight back to this consumer: requeues wait for the
    // end, and the window holds every message until then.
    let prefetch = if requeues(how) {
        let count = u16::try_from(args.count).map_err(|_| {
            Error::invalid(
                "count",
                "with a requeue flag every message is held until the end: at most 65535",
            )
        })?;
        args.prefetch.max(count)
    } else {
        args.prefetch
    };
    let request = ConsumeRequest {
        vhost: args.vhost.clone().unwrap_or_else(|| target.vhost.clone()),
        queue: args.queue.clone(),
        prefetch,
        exclusive: false,
        priority: None,
        offset: args
            .offset
            .as_deref()
            .map(StreamOffset::parse)
            .transpose()?,
        ack_mode: AckMode::Manual,
        budget_bytes: Some(CLI_BUDGET),
        auto_resume: true,
    };
    let cluster = Arc::new(OpenCluster::open(target)?);
    let cancel = crate::interruptible();
    let result = async {
        let (handle, events) = consume::start(cluster.started()?, request, cancel).await?;
        let how = Some(args.settle());
        drain(
            &handle,
            events,
            how,
            Some(args.count),
            Some(idle),
            args.json,
        )
        .await
    }
    .await;
    close(cluster).await;
    let (taken, report, interrupted) = result?;
    finish(
        "consumed",
        &args.queue,
        args.count,
        taken,
        &report,
        interrupted,
    )
}

pub async fn tap(target: ClusterTarget, args: TapArgs) -> Result<Exit> {
    if args.count == Some(0) {
        return Err(Error::invalid("count", "must be at least 1"));
    }
    let idle = args.idle_timeout;
    let request = TapRequest {
        vhost: args.vhost.clone().unwrap_or_else(|| target.vhost.clone()),
        exchange: args.exchange.clone(),
        binding_key: args.key.clone(),
        arguments: None,
        budget_bytes: Some(CLI_BUDGET),
        auto_resume: true,
    };
    let cluster = Arc::new(OpenCluster::open(target)?);
    let cancel = crate::interruptible();
    let result = async {
        let (handle, events) = consume::tap::start(cluster.started()?, request, cancel).await?;
        if std::io::stderr().is_terminal() {
            eprintln!("tapping exchange \"{}\"; Ctrl-C ends", args.exchange);
        }
        drain(&handle, events, None, args.count, idle, args.json).await
    }
    .await;
    close(cluster).await;
    let (taken, report, interrupted) = result?;
    if let Some(removed) = report.tap_queue_removed {
        if !removed {
            eprintln!("warren: the tap's temporary queue could not be deleted; it goes when the connection closes");
        }
    }
    match args.count {
        Some(count) => finish("tapped", &args.exchange, count, taken, &report, interrupted),
        // Without a count, Ctrl-C or the idle timeout is the normal end.
        None => {
            eprintln!("tapped {taken} message(s) from \"{}\"", args.exchange);
            Ok(Exit::Ok)
        }
    }
}

/// Closes the connections once the consumer task has let go of the cluster (it does right
/// after its stop); a cluster still held is dropped, which closes them too.
async fn close(mut cluster: Arc<OpenCluster>) {
    for _ in 0..100 {
        match Arc::try_unwrap(cluster) {
            Ok(c) => return c.close().await,
            Err(still_held) => cluster = still_held,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn finish(
    verb: &str,
    from: &str,
    count: u64,
    taken: u64,
    report: &StopReport,
    interrupted: bool,
) -> Result<Exit> {
    let mut line = format!("{verb} {taken} of {count} message(s) from \"{from}\"");
    if report.returned > 0 {
        line += &format!(
            "; {} held unsettled went back to the queue",
            report.returned
        );
    }
    if let Some(effect) = &report.return_effect {
        line += &format!(" ({effect})");
    }
    if report.stale > 0 {
        line += &format!(
            "; {} were unsettled when a connection was lost (the broker requeued them)",
            report.stale
        );
    }
    eprintln!("{line}");
    if let Some(e) = &report.error {
        eprintln!("warren: {}", e.message);
    }
    Ok(if interrupted {
        Exit::Interrupted
    } else if taken < count {
        eprintln!("warren: only {taken} of {count} message(s) arrived");
        Exit::Incomplete
    } else {
        Exit::Ok
    })
}

fn requeues(how: Settle) -> bool {
    matches!(
        how,
        Settle::Nack { requeue: true } | Settle::Reject { requeue: true }
    )
}

/// Settles `seqs` (printed, in order) as `how`: one frame for all where the settle allows it.
async fn settle(handle: &ConsumerHandle, seqs: &[u64], how: Settle) -> Result<u64> {
    let Some(&last) = seqs.last() else {
        return Ok(0);
    };
    let report = match how {
        Settle::Ack | Settle::Nack { .. } => handle.settle_up_to(last, how).await?,
        Settle::Reject { .. } => handle.settle(seqs.to_vec(), how).await?,
    };
    Ok(report.settled.len() as u64)
}

/// Prints deliveries as they come and settles each batch after it was written (`how`; none
/// for a tap, whose copies are not settled; requeues wait for the end). Returns how many were
/// taken as told, the stop report and whether Ctrl-C ended it.
///
/// What counts toward `count` is a message settled as told (a tap's: printed). A delivery
/// whose channel was lost before it was settled went back to the queue and comes again,
/// redelivered: it is printed again but counted once, so a queue of 5 never makes a
/// `--count 10` look complete.
async fn drain(
    handle: &ConsumerHandle,
    mut events: EventReceiver,
    how: Option<Settle>,
    count: Option<u64>,
    idle: Option<Duration>,
    json: bool,
) -> Result<(u64, StopReport, bool)> {
    let progress = std::io::stderr().is_terminal();
    // A bar only where a count says how far along the run is.
    let bar = count.map(|_| Bar::new(Output::Streamed));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut taken: u64 = 0;
    let mut last_arrival = Instant::now();
    let wanted = count.unwrap_or(u64::MAX);
    let defer = how.is_some_and(requeues);
    let mut deferred: Vec<u64> = Vec::new();
    let mut cancelled_by_broker = false;
    loop {
        let deadline = idle.map(|d| last_arrival + d);
        let next = match deadline {
            Some(at) => match tokio::time::timeout_at(at, events.recv()).await {
                Ok(batch) => batch,
                Err(_) => break,
            },
            None => events.recv().await,
        };
        let Some(batch) = next else { break };
        for event in batch {
            match event {
                ConsumerEvent::Deliveries {
                    first_seq,
                    last_seq,
                    ..
                } => {
                    last_arrival = Instant::now();
                    let take = (wanted - taken).min(last_seq - first_seq + 1);
                    if take == 0 {
                        continue;
                    }
                    let messages = handle.messages(first_seq, first_seq + take - 1);
                    for m in &messages {
                        print_delivery(&mut out, m, json)?;
                    }
                    out.flush().map_err(stdout_error)?;
                    let seqs = messages.iter().map(|m| m.seq);
                    taken += match how {
                        Some(_) if defer => {
                            deferred.extend(seqs);
                            messages.len() as u64
                        }
                        Some(how) => settle(handle, &seqs.collect::<Vec<_>>(), how).await?,
                        None => messages.len() as u64,
                    };
                    if let Some(bar) = &bar {
                        bar.update(&Taken { taken, wanted });
                    }
                }
                ConsumerEvent::CancelledByBroker { reason } => {
                    say(&bar, &format!("warren: {reason}"));
                    cancelled_by_broker = true;
                }
                ConsumerEvent::ChannelLost { stale, reason } => {
                    say(&bar, &format!("warren: connection lost ({reason}); {stale} unsettled message(s) went back to the queue; resuming on another node"));
                    // Requeues waiting for the end: the broker has done them, and the
                    // messages come again.
                    taken -= deferred.len() as u64;
                    deferred.clear();
                }
                ConsumerEvent::ResumeFailed { error } => {
                    say(&bar, &format!("warren: resume failed: {}", error.message));
                }
                ConsumerEvent::Started { endpoint, .. } if progress => {
                    say(&bar, &format!("consuming via {endpoint}"));
                }
                ConsumerEvent::Stopped { report } => {
                    // Stopped by Ctrl-C.
                    return Ok((taken, report, true));
                }
                _ => {}
            }
        }
        if taken >= wanted || cancelled_by_broker {
            break;
        }
    }
    if let Some(bar) = &bar {
        bar.finish();
    }
    if let Some(how) = how.filter(|_| defer) {
        settle(handle, &deferred, how).await?;
    }
    let report = handle.stop().await?;
    Ok((taken, report, false))
}

/// A line on standard error, with the bar (if any) out of its way.
fn say(bar: &Option<Bar>, line: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// The JSON form of a delivery: the message format plus `redelivered`, `delivery_tag` and the
/// counts the broker set.
fn print_delivery(out: &mut impl Write, m: &ConsumedMessage, json: bool) -> Result<()> {
    if json {
        json::write_line(out, m)
    } else {
        let label = format!("#{} delivery_tag={}", m.seq, m.delivery_tag);
        write_message_text(out, &label, m).map_err(stdout_error)
    }
}
