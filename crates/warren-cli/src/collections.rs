//! `warren save` and `warren replay`: collections on the command line, for pipelines.
//!
//! `save` peeks a queue (harmlessly, by the browse rules; `--allow-side-effects` as for
//! `peek`) and adds the messages to a collection file, creating it when missing; the file is
//! written once, atomically, after the queue has its messages back. `replay` sends a
//! collection's messages again with confirms and prints a report (`--json`: one object with
//! `total`, `confirmed`, `returned`, `nacked`, `failed`, `maybe_sent`, `not_sent` and every
//! message that did not end confirmed); the report is also kept beside the collection. Exit
//! status 4 when any message was not confirmed. Progress goes to a terminal only.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use warren_core::cluster::OpenCluster;
use warren_core::collections::{
    format, replay, reports, save, Pacing, ReplayReport, ReplayRequest, ReplayTarget,
};
use warren_core::endpoint::ClusterTarget;
use warren_core::peek::{self, PeekPhase, PeekRequest};
use warren_core::publish::Outcome;
use warren_core::{Error, Result};

use crate::exit_code::Exit;
use crate::json;

#[derive(Args)]
pub struct SaveArgs {
    /// The queue to read (a peek: the queue is left as it was).
    queue: String,
    /// How many messages to read from the head of the queue.
    #[arg(long, short = 'n', default_value_t = 10)]
    count: u32,
    /// The collection file to write (created when missing, else the messages are added).
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// The collection's name (default: the file's name without extension).
    #[arg(long)]
    name: Option<String>,
    /// The queue's vhost (default: the profile's, or the --node URI's).
    #[arg(long)]
    vhost: Option<String>,
    /// Go ahead when the peek changes the queue (see `warren peek --help`).
    #[arg(long)]
    allow_side_effects: bool,
    /// How long to wait for another message before the queue counts as read to its end.
    #[arg(long, value_name = "MS", default_value_t = peek::DEFAULT_IDLE.as_millis() as u64)]
    idle_ms: u64,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// The collection file (a `warren save` or `warren peek --json` file, or any collection).
    file: PathBuf,
    /// Send to this exchange instead of each message's own ("" is the default exchange).
    #[arg(long, value_name = "EXCHANGE")]
    to_exchange: Option<String>,
    /// Send with this routing key instead of each message's own (templates allowed).
    #[arg(long, short = 'k')]
    routing_key: Option<String>,
    /// A variable, used as {{name}}; wins over the collection's. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Messages per second (default: as fast as the broker confirms).
    #[arg(long, conflicts_with = "original_timing")]
    rate: Option<f64>,
    /// Follow the recorded timing (the gaps between the messages' recorded_at).
    #[arg(long)]
    original_timing: bool,
    /// With --original-timing: 2 replays twice as fast, 0.5 half as fast.
    #[arg(long, requires = "original_timing", default_value_t = 1.0)]
    speed: f64,
    /// Replay only these messages (1-based positions, e.g. 1,4-6), in the order given.
    #[arg(long, value_name = "LIST")]
    only: Option<String>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn save(target: ClusterTarget, args: SaveArgs) -> Result<Exit> {
    let request = PeekRequest {
        vhost: args.vhost.clone().unwrap_or_else(|| target.vhost.clone()),
        queue: args.queue.clone(),
        count: args.count,
        offset: None,
        allow_side_effects: args.allow_side_effects,
        budget_bytes: None,
    };
    // A file that cannot be added to is refused before the queue is touched.
    if args.to.exists() {
        format::read(&args.to)?;
    }
    let cluster = OpenCluster::open(target)?;
    let cancel = crate::interruptible();
    let show_progress = std::io::stderr().is_terminal();
    let recorded = save::record_peek(
        cluster.session()?,
        cluster.api(),
        &request,
        Duration::from_millis(args.idle_ms),
        cancel,
        |p| {
            if show_progress {
                let phase = match p.phase {
                    PeekPhase::Receiving => "reading",
                    PeekPhase::Returning => "returning",
                    PeekPhase::Done => "done",
                };
                eprint!("\r{phase}: {}/{} \x1b[K", p.received, p.expected);
                if p.phase == PeekPhase::Done {
                    eprintln!();
                }
            }
        },
    )
    .await;
    cluster.close().await;
    let (entries, report) = recorded?;
    if save::interrupted(&report) {
        eprintln!("warren: interrupted; the messages went back and nothing was saved");
        return Ok(Exit::Interrupted);
    }
    let n = entries.len();
    let collection = save::save_to_file(&args.to, args.name.as_deref(), entries)?;
    eprintln!(
        "saved {n} message(s) from \"{}\" to collection \"{}\" ({}, {} message(s) in all)",
        request.queue,
        collection.name,
        args.to.display(),
        collection.messages.len()
    );
    if let Some(note) = report.budget_note() {
        eprintln!("warren: {note}");
    }
    Ok(Exit::Ok)
}

pub async fn replay(
    connection: impl std::future::Future<Output = Result<ClusterTarget>>,
    args: ReplayArgs,
) -> Result<Exit> {
    let collection = format::read(&args.file)?;
    let mut variables = BTreeMap::new();
    for v in &args.vars {
        match v.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                variables.insert(k.to_owned(), v.to_owned());
            }
            _ => {
                return Err(Error::invalid(
                    "--var",
                    format!("\"{v}\" is not NAME=VALUE"),
                ))
            }
        }
    }
    let pacing = match (args.rate, args.original_timing) {
        (Some(per_second), _) => Pacing::Rate { per_second },
        (None, true) => Pacing::Original { speed: args.speed },
        (None, false) => Pacing::AsFastAsConfirms,
    };
    let request = ReplayRequest {
        target: ReplayTarget {
            exchange: args.to_exchange.clone(),
            routing_key: args.routing_key.clone(),
        },
        selection: args.only.as_deref().map(positions).transpose()?,
        variables,
        pacing,
    };
    // Everything is checked before a connection is opened.
    let plan = replay::plan(&collection, &request)?;
    let target = connection.await?;
    let cluster = OpenCluster::open(target)?;
    let cancel = crate::interruptible();
    let show_progress = std::io::stderr().is_terminal() && !args.json;
    let result = replay::run(cluster.session()?, cluster.api(), &plan, cancel, |p| {
        if show_progress {
            eprint!(
                "\r{}/{} sent, {} confirmed, {} returned, {} nacked, {} failed, {} maybe sent{}\x1b[K",
                p.published,
                p.total,
                p.confirmed,
                p.returned,
                p.nacked,
                p.failed,
                p.maybe_sent,
                if p.blocked { " BLOCKED" } else { "" }
            );
        }
    })
    .await;
    if show_progress {
        eprintln!();
    }
    cluster.close().await;
    let report = result?;
    if let Err(e) = reports::keep(&args.file, &report) {
        eprintln!("warren: the report could not be kept beside the collection: {e}");
    }
    if args.json {
        json::print(&report)?;
    } else {
        print!("{}", report_text(&report));
    }
    Ok(if report.confirmed == report.total {
        Exit::Ok
    } else {
        Exit::NotAllConfirmed
    })
}

/// `1,4-6` as 0-based positions, in the order given.
fn positions(list: &str) -> Result<Vec<u32>> {
    let bad = || {
        Error::invalid(
            "--only",
            format!("\"{list}\" is not a list of positions like 1,4-6"),
        )
    };
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (u32, u32) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a == 0 || b < a {
            return Err(bad());
        }
        out.extend((a..=b).map(|p| p - 1));
    }
    Ok(out)
}

fn report_text(r: &ReplayReport) -> String {
    let mut out = format!(
        "replayed {} of \"{}\": {} confirmed, {} returned, {} nacked, {} failed, {} maybe sent, {} not sent in {:.2} s ({:.0} msg/s) via {}{}{}\n",
        r.total,
        r.collection,
        r.confirmed,
        r.returned,
        r.nacked,
        r.failed,
        r.maybe_sent,
        r.not_sent,
        r.elapsed_ms as f64 / 1000.0,
        r.rate,
        r.endpoint,
        if r.failovers > 0 {
            format!(" after {} failover(s)", r.failovers)
        } else {
            String::new()
        },
        if r.cancelled { " (cancelled)" } else { "" }
    );
    for o in r.outcomes.iter().take(100) {
        let what = match &o.outcome {
            Outcome::Confirmed => "confirmed".to_owned(),
            Outcome::Returned {
                reply_code,
                reply_text,
            } => format!("returned: {reply_code} {reply_text}"),
            Outcome::Nacked => "nacked by the broker".to_owned(),
            Outcome::Failed { reason } => format!("failed: {reason}"),
            Outcome::MaybeSent { reason } => format!("maybe sent: {reason}"),
        };
        out.push_str(&format!("  message {}: {what}\n", o.index + 1));
    }
    if r.outcomes.len() > 100 {
        out.push_str(&format!(
            "  ... and {} more (--json lists them all)\n",
            r.outcomes.len() - 100
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lists_and_ranges() {
        assert_eq!(positions("1,4-6, 2").unwrap(), [0, 3, 4, 5, 1]);
        for bad in ["0", "3-1", "a", "1,,2", ""] {
            assert!(positions(bad).is_err(), "{bad}");
        }
    }
}
