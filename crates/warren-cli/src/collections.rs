//! `warren save`, `warren replay`, `warren import` and `warren export`: collections on the
//! command line, for pipelines.
//!
//! `save` peeks a queue (harmlessly, by the browse rules; `--allow-side-effects` as for
//! `peek`) and adds the messages to a collection file, creating it when missing; the file is
//! written once, atomically, after the queue has its messages back. `replay` sends a
//! collection's messages again with confirms and prints a report (`--json`: one object with
//! `total`, `confirmed`, `returned`, `nacked`, `failed`, `maybe_sent`, `not_sent` and every
//! message that did not end confirmed); the report is also kept beside the collection. Exit
//! status 4 when any message was not confirmed. Progress goes to a terminal only. `import`
//! turns other tools' recordings into a collection file and `export` writes a collection's
//! messages (all or some) as plain message-format JSON Lines; neither needs a broker, and
//! neither replaces an existing file without `--force` (both write atomically).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use warren_core::cluster::OpenCluster;
use warren_core::collections::{
    format, replay, reports, save, Entry, Pacing, ReplayReport, ReplayRequest, ReplayTarget,
};
use warren_core::endpoint::ClusterTarget;
use warren_core::peek::PeekRequest;
use warren_core::publish::Outcome;
use warren_core::{Error, Result};

use crate::exit_code::Exit;
use crate::json;
use crate::progress::{Bar, Output};

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
    #[arg(long, value_name = "MS|DURATION", default_value = "1000", value_parser = crate::durations::millis)]
    idle_ms: Duration,
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

#[derive(Args)]
pub struct ImportArgs {
    /// What to import: rabtap's saved messages (a file, a folder of them, or its JSON stream)
    /// or the management API's "get messages" reply (a JSON array). Several are imported in
    /// the order given.
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<PathBuf>,
    /// The collection file to write.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// The collection's name (default: the file's name without extension).
    #[arg(long)]
    name: Option<String>,
    /// Replace FILE when it exists (otherwise an existing file is refused).
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The collection file (or any file that opens as one, such as `warren peek --json`'s).
    collection: PathBuf,
    /// Export only these messages (1-based positions, e.g. 1,3-5), in the order given.
    #[arg(long, value_name = "LIST")]
    select: Option<String>,
    /// Where to write the JSON Lines ("-": standard output, the default).
    #[arg(long, value_name = "FILE", default_value = "-")]
    to: String,
    /// Replace FILE when it exists (otherwise an existing file is refused).
    #[arg(long)]
    force: bool,
}

pub fn import(args: ImportArgs) -> Result<Exit> {
    // Refused before any source is read; the write itself refuses too, should the file
    // appear meanwhile.
    refuse_existing(&args.to, args.force, "--to")?;
    let mut collection = warren_core::collections::import::import_all(&args.sources)?;
    collection.name = match &args.name {
        Some(n) if n.trim().is_empty() => {
            return Err(Error::invalid("--name", "a collection needs a name"))
        }
        Some(n) => n.trim().to_owned(),
        None => format::name_from_path(&args.to),
    };
    if args.force {
        format::write(&args.to, &collection)?;
    } else {
        format::write_new(&args.to, &collection)?;
    }
    eprintln!(
        "imported {} message(s) into collection \"{}\" ({})",
        collection.messages.len(),
        collection.name,
        args.to.display()
    );
    Ok(Exit::Ok)
}

pub fn export(args: ExportArgs) -> Result<Exit> {
    let to = (args.to != "-").then(|| PathBuf::from(&args.to));
    if let Some(path) = &to {
        refuse_existing(path, args.force, "--to")?;
    }
    let collection = format::read(&args.collection)?;
    let entries: Vec<&Entry> = match args.select.as_deref() {
        Some(list) => {
            let indices = positions_of("--select", list)?;
            collection.check_indices(&indices)?;
            indices
                .iter()
                .map(|&i| &collection.messages[i as usize])
                .collect()
        }
        None => collection.messages.iter().collect(),
    };
    match &to {
        Some(path) if args.force => format::export(path, &entries)?,
        Some(path) => format::export_new(path, &entries)?,
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            format::export_to(&mut out, &entries)
                .and_then(|()| out.flush())
                .map_err(crate::json::stdout_error)?;
            entries.len() as u64
        }
    };
    eprintln!(
        "exported {} message(s) of collection \"{}\"{}",
        entries.len(),
        collection.name,
        to.map(|p| format!(" to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(Exit::Ok)
}

/// An existing `path` is an error unless `force` says to replace it.
fn refuse_existing(path: &std::path::Path, force: bool, flag: &str) -> Result<()> {
    if !force && path.exists() {
        return Err(Error::invalid(
            flag,
            format!("{} exists; give --force to replace it", path.display()),
        ));
    }
    Ok(())
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
    let bar = Bar::new(Output::Summary);
    let recorded = save::record_peek(
        cluster.session()?,
        cluster.api(),
        &request,
        args.idle_ms,
        cancel,
        |p| bar.update(&p),
    )
    .await;
    bar.finish();
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
    if let Some(note) = &report.returned_by_broker {
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
        selection: args
            .only
            .as_deref()
            .map(|l| positions_of("--only", l))
            .transpose()?,
        variables,
        pacing,
    };
    // Everything is checked before a connection is opened.
    let plan = replay::plan(&collection, &request)?;
    // The plan holds what it sends; the file's copy goes before the run.
    drop(collection);
    let target = connection.await?;
    let cluster = OpenCluster::open(target)?;
    let cancel = crate::interruptible();
    let bar = Bar::new(Output::Summary);
    let result = replay::run(cluster.session()?, cluster.api(), &plan, cancel, |p| {
        bar.update(&p)
    })
    .await;
    bar.finish();
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

/// `1,4-6` (given as `flag`) as 0-based positions, in the order given.
fn positions_of(flag: &str, list: &str) -> Result<Vec<u32>> {
    let bad = || {
        Error::invalid(
            flag,
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
        assert_eq!(positions_of("--only", "1,4-6, 2").unwrap(), [0, 3, 4, 5, 1]);
        for bad in ["0", "3-1", "a", "1,,2", ""] {
            let e = positions_of("--select", bad).unwrap_err().to_string();
            assert!(e.contains("--select"), "{bad}: {e}");
        }
    }
}
