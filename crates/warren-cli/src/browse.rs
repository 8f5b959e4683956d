//! `warren queues` and `warren peek`: the browse side of the CLI.
//!
//! Both print JSON Lines with `--json` (one object per queue, one per message, in queue order),
//! so a script can stream them into `jq` or a file that `warren publish --message-file` replays.
//! A peek that would change the queue (see warren-core's `peek` module) is refused unless
//! `--allow-side-effects` is given; Ctrl-C stops a peek and returns what it holds.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use warren_core::broker::DeliveryOrder;
use warren_core::cluster::OpenCluster;
use warren_core::endpoint::ClusterTarget;
use warren_core::inspector::Inspected;
use warren_core::message::budget::DEFAULT_BUDGET_BYTES;
use warren_core::operation::until_cancelled;
use warren_core::peek::{self, PeekEnd, PeekRequest, StreamOffset};
use warren_core::queues::{self, QueueQuery, QueueRow, QueueSort};
use warren_core::Result;

use crate::exit_code::Exit;
use crate::json::{self, stdout_error};
use crate::progress::{Bar, Output};

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
    /// Streams: where to start: first, last, next, an offset, @EPOCH-SECONDS, an RFC 3339 time,
    /// a date, or a duration ago (10m: ten minutes ago).
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
    #[arg(long, value_name = "MS|DURATION", default_value = "1000", value_parser = crate::durations::millis)]
    idle_ms: Duration,
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
        writeln!(out, "{}", queue_table(&rows, vhost.is_none())).map_err(stdout_error)?;
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

/// The queue list for a person: one row per queue, numbers aligned right.
fn queue_table(rows: &[QueueRow], with_vhost: bool) -> crate::render::TextTable {
    let mut header = vec![
        "NAME",
        "TYPE",
        "STATE",
        "READY",
        "UNACKED",
        "TOTAL",
        "PUBLISH",
        "DELIVER",
        "CONSUMERS",
        "NODE",
        "REPLICATION",
    ];
    let numbers = [3, 4, 5, 6, 7, 8];
    let shift = usize::from(with_vhost);
    if with_vhost {
        header.insert(0, "VHOST");
    }
    let right: Vec<usize> = numbers.iter().map(|i| i + shift).collect();
    let mut t = crate::render::table(&header, &right);
    for r in rows {
        let replication = r.replication.as_ref().map_or(String::new(), |rep| {
            let what = match rep.kind {
                queues::ReplicationKind::Mirrors => "mirrors synced",
                queues::ReplicationKind::Members => "members online",
            };
            format!("{}/{} {what}", rep.healthy, rep.total)
        });
        let mut row = vec![
            r.name.clone(),
            type_name(r.queue_type),
            r.state.as_deref().unwrap_or("?").to_owned(),
            num(r.messages_ready),
            num(r.messages_unacknowledged),
            num(r.messages),
            rate(r.publish_rate),
            rate(r.deliver_rate),
            num(r.consumers),
            r.node.as_deref().unwrap_or("?").to_owned(),
            replication,
        ];
        if with_vhost {
            row.insert(0, r.vhost.clone());
        }
        t.add_row(row);
    }
    t
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
    let bar = Bar::new(Output::Streamed);
    let json = args.json;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let report = peek::run(
        cluster.session()?,
        cluster.api(),
        request,
        args.idle_ms,
        cancel,
        |m| {
            if json {
                json::write_line(&mut out, &m)
            } else {
                write_message_text(&mut out, &format!("#{}", m.position), &m).map_err(stdout_error)
            }
        },
        |p| bar.update(&p),
    )
    .await?;
    bar.finish();
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
    if let Some(note) = &report.returned_by_broker {
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

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;
    use warren_core::broker::QueueType;

    fn row(name: &str, ready: u64) -> QueueRow {
        QueueRow {
            vhost: "/".into(),
            name: name.into(),
            queue_type: QueueType::Classic,
            state: Some("running".into()),
            messages_ready: Some(ready),
            messages_unacknowledged: Some(0),
            messages: Some(ready),
            publish_rate: None,
            deliver_rate: Some(1.5),
            consumers: Some(2),
            node: Some("warren-1@localhost".into()),
            replication: None,
            policy: None,
        }
    }

    /// The display column where each line's `needle` starts.
    fn columns_of(text: &str, needle: &str) -> Vec<usize> {
        text.lines()
            .skip(1)
            .map(|l| l[..l.find(needle).expect(needle)].width())
            .collect()
    }

    #[test]
    fn queue_names_of_any_script_and_length_line_up() {
        let long = format!("orders.{}", "x".repeat(70));
        let rows = [
            row("plain", 1),
            row("注文キュー.処理待ち", 22),
            row("café-crème", 333),
            row("📦-parcels", 4444),
            row(&long, 5),
        ];
        let text = queue_table(&rows, false).to_string();
        assert_eq!(text.lines().count(), 1 + rows.len(), "{text}");
        // Every row's TYPE starts at the same display column, after the longest name, whole.
        let types = columns_of(&text, "classic");
        assert!(types.iter().all(|c| *c == types[0]), "{types:?}\n{text}");
        assert!(types[0] > long.len(), "{text}");
        assert!(text.contains(&long));
        // Numbers are aligned right: their last digit ends in the same column.
        let ends: Vec<usize> = text
            .lines()
            .skip(1)
            .zip(["1", "22", "333", "4444", "5"])
            .map(|(l, n)| {
                let at = l.find(&format!(" {n} ")).expect(n) + 1 + n.len();
                l[..at].width()
            })
            .collect();
        assert!(ends.iter().all(|c| *c == ends[0]), "{ends:?}\n{text}");
    }

    #[test]
    fn with_every_vhost_the_vhost_comes_first() {
        let mut r = row("q", 1);
        r.vhost = "开发".into();
        let text = queue_table(&[r, row("q2", 2)], true).to_string();
        let first = text.lines().next().unwrap();
        assert!(first.trim_start().starts_with("VHOST"), "{text}");
        let names = columns_of(&text, "q");
        assert_eq!(names[0], names[1], "{text}");
    }
}
