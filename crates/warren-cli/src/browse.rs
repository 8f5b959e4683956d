//! `warren queues` and `warren peek`: the browse side of the CLI.
//!
//! Both print JSON Lines with `--json` (one object per queue, one per message, in queue order),
//! so a script can stream them into `jq` or a file that `warren publish --message-file` replays.
//! A peek that would change the queue (see warren-core's `peek` module) is refused unless
//! `--allow-side-effects` is given; Ctrl-C stops a peek and returns what it holds.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use warren_core::broker::DeliveryOrder;
use warren_core::cluster::OpenCluster;
use warren_core::endpoint::ClusterTarget;
use warren_core::inspector::Inspected;
use warren_core::message::budget::DEFAULT_BUDGET_BYTES;
use warren_core::operation::until_cancelled;
use warren_core::peek::{self, PeekEnd, PeekPhase, PeekRequest, StreamOffset};
use warren_core::queues::{self, QueueQuery, QueueRow, QueueSort};
use warren_core::Result;

use crate::exit_code::Exit;
use crate::json::{self, stdout_error};

#[derive(Args)]
pub struct QueuesArgs {
    /// The vhost to list (default: the profile's, or the --node URI's).
    #[arg(long)]
    vhost: Option<String>,
    /// List the queues of every vhost.
    #[arg(long, conflicts_with = "vhost")]
    all_vhosts: bool,
    /// Only queues whose name matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    filter: Option<String>,
    /// One JSON object per queue per line.
    #[arg(long)]
    json: bool,
    /// Print only this page (1-based), sorted and filtered by the management API: the quick
    /// way to look at a vhost with tens of thousands of queues.
    #[arg(long)]
    page: Option<u32>,
    /// Queues per page (at most 500).
    #[arg(long, default_value_t = 100, requires = "page")]
    page_size: u32,
    /// The column a page is sorted by.
    #[arg(long, value_enum, default_value_t = SortColumn::Name, requires = "page")]
    sort: SortColumn,
    /// Sort a page in descending order.
    #[arg(long, requires = "page")]
    reverse: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SortColumn {
    Name,
    Type,
    State,
    Ready,
    Unacked,
    Messages,
    PublishRate,
    DeliverRate,
    Consumers,
    Node,
}

impl From<SortColumn> for QueueSort {
    fn from(c: SortColumn) -> QueueSort {
        match c {
            SortColumn::Name => QueueSort::Name,
            SortColumn::Type => QueueSort::Type,
            SortColumn::State => QueueSort::State,
            SortColumn::Ready => QueueSort::MessagesReady,
            SortColumn::Unacked => QueueSort::MessagesUnacknowledged,
            SortColumn::Messages => QueueSort::Messages,
            SortColumn::PublishRate => QueueSort::PublishRate,
            SortColumn::DeliverRate => QueueSort::DeliverRate,
            SortColumn::Consumers => QueueSort::Consumers,
            SortColumn::Node => QueueSort::Node,
        }
    }
}

#[derive(Args)]
pub struct PeekArgs {
    /// The queue to read.
    queue: String,
    /// How many messages to read from the head of the queue.
    #[arg(long, short = 'n', default_value_t = 10)]
    count: u32,
    /// The queue's vhost (default: the profile's, or the --node URI's).
    #[arg(long)]
    vhost: Option<String>,
    /// Streams: where to start: first, last, next, an offset, @EPOCH-SECONDS or an RFC 3339 time.
    #[arg(long, value_name = "OFFSET")]
    offset: Option<String>,
    /// Go ahead when the peek changes the queue (quorum queues before RabbitMQ 4.3: delivery
    /// counts grow, and a message over its delivery limit is dead-lettered or dropped).
    #[arg(long)]
    allow_side_effects: bool,
    /// Print what the peek would do and change, and stop.
    #[arg(long)]
    plan: bool,
    /// How long to wait for another message before the queue counts as read to its end.
    #[arg(long, value_name = "MS", default_value_t = peek::DEFAULT_IDLE.as_millis() as u64)]
    idle_ms: u64,
    /// The most the held messages' bodies and headers may take, in MiB: the peek stops before
    /// the message that would go past it and leaves that one and the rest in the queue.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_BUDGET_BYTES / (1024 * 1024))]
    budget_mib: u64,
    /// One JSON object per message per line, in the message format (docs/message-format.md).
    #[arg(long)]
    json: bool,
}

pub async fn queues(target: ClusterTarget, args: QueuesArgs) -> Result<Exit> {
    let api = warren_core::management::ManagementClient::new(&target)?;
    let vhost = if args.all_vhosts {
        None
    } else {
        Some(args.vhost.unwrap_or_else(|| target.vhost.clone()))
    };
    let rows = match args.page {
        None => queues::list_all(&api, vhost.as_deref(), args.filter.as_deref()).await?,
        Some(page) => {
            let p = queues::list_page(
                &api,
                &QueueQuery {
                    vhost: vhost.clone(),
                    filter: args.filter.clone().unwrap_or_default(),
                    regex: args.filter.is_some(),
                    page,
                    page_size: args.page_size,
                    sort: args.sort.into(),
                    sort_reverse: args.reverse,
                },
            )
            .await?;
            eprintln!(
                "page {} of {} ({} of {} queues match)",
                p.page, p.page_count, p.filtered_count, p.total_count
            );
            p.items
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        for r in &rows {
            json::write_line(&mut out, r)?;
        }
    } else {
        write_table(&mut out, &rows, vhost.is_none()).map_err(stdout_error)?;
    }
    Ok(Exit::Ok)
}

fn num(v: Option<u64>) -> String {
    v.map_or("?".into(), |n| n.to_string())
}

fn rate(v: Option<f64>) -> String {
    v.map_or("-".into(), |r| format!("{r:.1}/s"))
}

/// The order a peek shows (a consumer's order), as `--plan` prints it.
fn order_text(order: DeliveryOrder) -> &'static str {
    match order {
        DeliveryOrder::Publication => "as a consumer gets them: publication order (first in, first out)",
        DeliveryOrder::HighestPriorityFirst => {
            "as a consumer gets them: highest priority first, first in first out within a priority"
        }
        DeliveryOrder::HighThenNormalTwoToOne => {
            "as a consumer gets them: priority above 4 first, two of those for each other one; otherwise first in, first out"
        }
        DeliveryOrder::Offset => "stream offset order (publication order)",
    }
}

fn type_name(t: warren_core::broker::QueueType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn write_table(out: &mut impl Write, rows: &[QueueRow], with_vhost: bool) -> std::io::Result<()> {
    let width = rows
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    if with_vhost {
        write!(out, "{:<12} ", "VHOST")?;
    }
    writeln!(
        out,
        "{:<width$} {:<8} {:<8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9}  {:<24} REPLICATION",
        "NAME",
        "TYPE",
        "STATE",
        "READY",
        "UNACKED",
        "TOTAL",
        "PUBLISH",
        "DELIVER",
        "CONSUMERS",
        "NODE"
    )?;
    for r in rows {
        if with_vhost {
            write!(out, "{:<12} ", r.vhost)?;
        }
        let kind = type_name(r.queue_type);
        let replication = r.replication.as_ref().map_or(String::new(), |rep| {
            let what = match rep.kind {
                queues::ReplicationKind::Mirrors => "mirrors synced",
                queues::ReplicationKind::Members => "members online",
            };
            format!("{}/{} {what}", rep.healthy, rep.total)
        });
        writeln!(
            out,
            "{:<width$} {:<8} {:<8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9}  {:<24} {}",
            r.name,
            kind,
            r.state.as_deref().unwrap_or("?"),
            num(r.messages_ready),
            num(r.messages_unacknowledged),
            num(r.messages),
            rate(r.publish_rate),
            rate(r.deliver_rate),
            num(r.consumers),
            r.node.as_deref().unwrap_or("?"),
            replication
        )?;
    }
    Ok(())
}

pub async fn peek(target: ClusterTarget, args: PeekArgs) -> Result<Exit> {
    let request = PeekRequest {
        vhost: args.vhost.clone().unwrap_or_else(|| target.vhost.clone()),
        queue: args.queue.clone(),
        count: args.count,
        offset: args
            .offset
            .as_deref()
            .map(StreamOffset::parse)
            .transpose()?,
        allow_side_effects: args.allow_side_effects,
        budget_bytes: Some(args.budget_mib.saturating_mul(1024 * 1024)),
    };
    let cluster = OpenCluster::open(target)?;
    let result = run_peek(&cluster, &request, &args).await;
    cluster.close().await;
    result
}

async fn run_peek(cluster: &OpenCluster, request: &PeekRequest, args: &PeekArgs) -> Result<Exit> {
    let cancel = crate::interruptible();
    if args.plan {
        let plan = until_cancelled(
            &cancel,
            peek::make_plan(cluster.session()?, cluster.api(), request),
        )
        .await??;
        if args.json {
            json::print(&plan)?;
        } else {
            println!(
                "{} queue \"{}\" on RabbitMQ {}: {:?}; harmless: {}",
                type_name(plan.queue_type),
                plan.queue,
                plan.broker_version.as_deref().unwrap_or("?"),
                plan.method,
                plan.harmless
            );
            println!("  order: {}", order_text(plan.order));
            for e in &plan.effects {
                let mark = if e.needs_consent { "!" } else { "-" };
                println!("  {mark} {}", e.description);
            }
        }
        return Ok(Exit::Ok);
    }
    let show_progress = std::io::stderr().is_terminal();
    let json = args.json;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let report = peek::run(
        cluster.session()?,
        cluster.api(),
        request,
        Duration::from_millis(args.idle_ms),
        cancel,
        |m| {
            if json {
                json::write_line(&mut out, &m)
            } else {
                write_message_text(&mut out, &format!("#{}", m.position), &m).map_err(stdout_error)
            }
        },
        |p| {
            if show_progress {
                let phase = match p.phase {
                    PeekPhase::Receiving => "reading",
                    PeekPhase::Returning => "returning",
                    PeekPhase::Done => "done",
                };
                eprint!("\r{phase}: {}/{} ", p.received, p.expected);
                if p.phase == PeekPhase::Done {
                    eprintln!();
                }
            }
        },
    )
    .await?;
    out.flush().map_err(stdout_error)?;
    drop(out);
    let end = match report.end {
        PeekEnd::CountReached => "as many as asked for",
        PeekEnd::QueueExhausted => "the queue held no more",
        PeekEnd::Cancelled => "interrupted; the messages went back",
        PeekEnd::BudgetReached => "the memory budget was reached",
    };
    eprintln!(
        "peeked {} message(s) from \"{}\" ({end}) in {} ms via {}",
        report.received, request.queue, report.elapsed_ms, report.endpoint
    );
    if let Some(note) = report.budget_note() {
        eprintln!("warren: {note}");
    }
    Ok(if report.end == PeekEnd::Cancelled {
        Exit::Interrupted
    } else {
        Exit::Ok
    })
}

/// A message as text: a heading line, its properties, its body (base64 when not UTF-8).
pub(crate) fn write_message_text(
    out: &mut impl Write,
    label: &str,
    m: &impl Inspected,
) -> std::io::Result<()> {
    let message = m.message();
    write!(
        out,
        "{label} exchange={:?} routing_key={:?} size={}",
        message.exchange,
        message.routing_key,
        m.size()
    )?;
    if m.redelivered() {
        write!(out, " redelivered")?;
    }
    if let Some(o) = m.offset() {
        write!(out, " offset={o}")?;
    }
    if let Some(c) = m.delivery_count() {
        write!(out, " delivery_count={c}")?;
    }
    writeln!(out)?;
    let props = warren_core::message::PropertiesJson::from(message.properties.clone());
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(&props) {
        for (k, v) in map {
            writeln!(out, "  {k}: {v}")?;
        }
    }
    match std::str::from_utf8(&message.body) {
        Ok(text) => writeln!(out, "  body: {text}")?,
        Err(_) => writeln!(
            out,
            "  body (base64): {}",
            warren_core::message::base64_encode(&message.body)
        )?,
    }
    Ok(())
}
