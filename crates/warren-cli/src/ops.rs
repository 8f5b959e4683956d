//! `warren delete`, `warren move`, `warren copy` and `warren dead-letters retry`: message
//! operations on the command line, over warren-core's `ops`.
//!
//! Selected messages come from a `warren peek --json` file (possibly filtered with `jq` or
//! `grep`): each line names a message by its position and, through its content, proves it is
//! still the one peeked; `--positions` narrows the file further. Every command prints what it
//! did (`--json`: one report object with `deleted`/`moved`/`copied`/`sent_back`, `failed`,
//! `returned_to_source` and `failures`), and exits non-zero when some message was not acted
//! on (see `exit_code`). An operation whose returns change a quorum queue is refused unless
//! `--allow-side-effects` is given; `--plan` shows the plan and changes nothing.

use clap::{Args, Subcommand};
use warren_core::cluster::OpenCluster;
use warren_core::endpoint::ClusterTarget;
use warren_core::message::file;
use warren_core::operation::until_cancelled;
use warren_core::ops::{
    self, Action, ClusterRef, OpsPlan, OpsReport, OpsRequest, OpsSelection, SelectedMessage, Target,
};
use warren_core::peek::PeekedMessage;
use warren_core::{Error, Result};

use crate::exit_code::Exit;
use crate::json;
use crate::progress::{Bar, Output};

/// Which messages of the queue.
#[derive(Args)]
pub struct SelectionArgs {
    /// Every message ready when the command starts.
    #[arg(long, conflicts_with_all = ["count", "messages"])]
    all: bool,
    /// The first N messages of the queue.
    #[arg(long, short = 'n', conflicts_with = "messages")]
    count: Option<u32>,
    /// The messages of this `warren peek --json` file (JSON Lines), matched by position and
    /// content: if the queue changed since the peek, nothing is changed.
    #[arg(long, value_name = "FILE")]
    messages: Option<String>,
    /// Only these positions of the --messages file (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "messages")]
    positions: Vec<u32>,
}

/// What every operation takes besides its selection.
#[derive(Args)]
pub struct CommonArgs {
    /// The queue to take the messages from.
    queue: String,
    /// Go ahead when giving held messages back changes the queue (quorum queues before
    /// RabbitMQ 4.3: delivery counts grow, a message over its delivery limit is dropped).
    #[arg(long)]
    allow_side_effects: bool,
    /// Print what the operation would do and change, and stop.
    #[arg(long)]
    plan: bool,
    /// Print the report (or the plan) as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    selection: SelectionArgs,
}

#[derive(Args)]
pub struct TransferArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    selection: SelectionArgs,
    /// Publish to this queue (through the default exchange).
    #[arg(
        long,
        value_name = "QUEUE",
        conflicts_with = "to_exchange",
        required_unless_present = "to_exchange"
    )]
    to_queue: Option<String>,
    /// Publish to this exchange.
    #[arg(long, value_name = "EXCHANGE")]
    to_exchange: Option<String>,
    /// The routing key for --to-exchange (default: each message's own).
    #[arg(long, value_name = "KEY", requires = "to_exchange")]
    routing_key: Option<String>,
    /// Publish to the cluster of this saved profile (default: the source's).
    #[arg(long, value_name = "PROFILE")]
    to_profile: Option<String>,
}

#[derive(Subcommand)]
pub enum DeadLettersCommand {
    /// Send dead letters back to the exchange and routing key their x-death names.
    Retry(RetryArgs),
}

#[derive(Args)]
pub struct RetryArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    selection: SelectionArgs,
    /// Send them back without their x-death, x-first-death-* and x-last-death-* headers.
    #[arg(long)]
    strip_death: bool,
}

/// Reads the selection from the arguments (and the --messages file).
fn selection(args: &SelectionArgs) -> Result<OpsSelection> {
    if args.all {
        return Ok(OpsSelection::All);
    }
    if let Some(count) = args.count {
        return Ok(OpsSelection::First { count });
    }
    let Some(path) = &args.messages else {
        return Err(Error::invalid(
            "selection",
            "say which messages: --messages FILE (from warren peek --json), --count N or --all",
        ));
    };
    let text = file::read_text(std::path::Path::new(path), file::MAX_READ_BYTES)?;
    let mut messages = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let m: PeekedMessage = serde_json::from_str(line).map_err(|e| Error::File {
            path: path.into(),
            reason: format!("line {}: not a message of warren peek --json: {e}", n + 1),
        })?;
        if args.positions.is_empty() || args.positions.contains(&m.position) {
            messages.push(SelectedMessage::of(&m));
        }
    }
    if let Some(missing) = args
        .positions
        .iter()
        .find(|p| !messages.iter().any(|m| m.position == **p))
    {
        return Err(Error::invalid(
            "positions",
            format!("position {missing} is not in {path}"),
        ));
    }
    Ok(OpsSelection::Messages { messages })
}

pub async fn delete(target: ClusterTarget, args: DeleteArgs) -> Result<Exit> {
    let request = request(&target, &args.common, Action::Delete, &args.selection)?;
    operate(target, None, &args.common, request).await
}

pub async fn transfer(target: ClusterTarget, args: TransferArgs, copy: bool) -> Result<Exit> {
    let to = match (&args.to_queue, &args.to_exchange) {
        (Some(name), _) => Target::Queue { name: name.clone() },
        (None, Some(name)) => Target::Exchange {
            name: name.clone(),
            routing_key: args.routing_key.clone(),
        },
        (None, None) => {
            return Err(Error::invalid(
                "target",
                "say where: --to-queue QUEUE or --to-exchange EXCHANGE",
            ))
        }
    };
    let action = if copy {
        Action::Copy { target: to }
    } else {
        Action::Move { target: to }
    };
    let request = request(&target, &args.common, action, &args.selection)?;
    let other = match &args.to_profile {
        Some(profile) => Some(
            crate::resolve(&crate::ConnectionArgs {
                profile: Some(profile.clone()),
                ..crate::ConnectionArgs::default()
            })
            .await?,
        ),
        None => None,
    };
    operate(target, other, &args.common, request).await
}

pub async fn dead_letters(target: ClusterTarget, cmd: DeadLettersCommand) -> Result<Exit> {
    let DeadLettersCommand::Retry(args) = cmd;
    let action = Action::SendBack {
        strip_death: args.strip_death,
    };
    let request = request(&target, &args.common, action, &args.selection)?;
    operate(target, None, &args.common, request).await
}

fn request(
    target: &ClusterTarget,
    common: &CommonArgs,
    action: Action,
    selection_args: &SelectionArgs,
) -> Result<OpsRequest> {
    Ok(OpsRequest {
        vhost: target.vhost.clone(),
        queue: common.queue.clone(),
        action,
        selection: selection(selection_args)?,
        allow_side_effects: common.allow_side_effects,
    })
}

async fn operate(
    source: ClusterTarget,
    other: Option<ClusterTarget>,
    common: &CommonArgs,
    request: OpsRequest,
) -> Result<Exit> {
    let source = OpenCluster::open(source)?;
    let other = match other.map(OpenCluster::open).transpose() {
        Ok(o) => o,
        Err(e) => {
            source.close().await;
            return Err(e);
        }
    };
    let result = run(&source, other.as_ref(), common, &request).await;
    source.close().await;
    if let Some(o) = other {
        o.close().await;
    }
    result
}

async fn run(
    source: &OpenCluster,
    other: Option<&OpenCluster>,
    common: &CommonArgs,
    request: &OpsRequest,
) -> Result<Exit> {
    let cancel = crate::interruptible();
    let source_ref = ClusterRef {
        session: source.session()?,
        api: source.api(),
    };
    let target_ref = match other {
        Some(o) => Some(ClusterRef {
            session: o.session()?,
            api: o.api(),
        }),
        None => None,
    };
    if common.plan {
        let plan = until_cancelled(&cancel, ops::plan(source_ref, target_ref, request)).await??;
        if common.json {
            json::print(&plan)?;
        } else {
            print_plan(&plan);
        }
        return Ok(Exit::Ok);
    }
    let bar = Bar::new(Output::Summary);
    let report = ops::run(source_ref, target_ref, request, cancel, |p| bar.update(&p)).await?;
    bar.finish();
    if common.json {
        json::print(&report)?;
    } else {
        print_report(request, &report);
    }
    Ok(if report.cancelled {
        Exit::Interrupted
    } else if report.failed > 0 {
        Exit::NotAllDone
    } else {
        Exit::Ok
    })
}

fn print_plan(plan: &OpsPlan) {
    println!("{}; harmless: {}", plan.summary, plan.harmless);
    for e in &plan.effects {
        let mark = if e.needs_consent { "!" } else { "-" };
        println!("  {mark} {}", e.description);
    }
}

fn print_report(request: &OpsRequest, r: &OpsReport) {
    let what = match request.action {
        Action::Delete => format!("deleted {}", r.deleted),
        Action::Move { .. } => format!("moved {}", r.moved),
        Action::Copy { .. } => format!("copied {}", r.copied),
        Action::SendBack { .. } => format!("sent back {}", r.sent_back),
    };
    println!(
        "{what} message(s) of \"{}\"; failed {}; returned to the queue {}{} ({} ms via {})",
        request.queue,
        r.failed,
        r.returned_to_source,
        if r.cancelled { "; interrupted" } else { "" },
        r.elapsed_ms,
        r.endpoint
    );
    for f in &r.failures {
        println!("  #{}: {}", f.position, f.reason);
    }
}
