//! `warren connections`: who is connected (a table, or one JSON object per connection per
//! line with `--json`), and `warren connections close NAME --reason TEXT`, which closes one
//! connection and tells its client why.

use clap::{Args, Subcommand};
use warren_core::connections::{self, ConnectionRow};
use warren_core::endpoint::ClusterTarget;
use warren_core::management::ManagementClient;
use warren_core::Result;

use crate::exit_code::Exit;
use crate::json;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConnectionsArgs {
    #[command(subcommand)]
    command: Option<ConnectionsCommand>,
    /// One JSON object per connection per line: `name` as the broker names it,
    /// `client_provided_name` as the client named itself.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ConnectionsCommand {
    /// Close a connection; its client is told the reason.
    Close {
        /// The broker's name of the connection, or the name its client gave itself (when only
        /// one connection has it).
        name: String,
        /// Why: the client receives it (printable ASCII, one line).
        #[arg(long)]
        reason: String,
        /// Print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(target: ClusterTarget, args: ConnectionsArgs) -> Result<Exit> {
    match args.command {
        None => {
            let api = ManagementClient::new(&target)?;
            let rows = connections::list(&api).await?;
            if args.json {
                let mut out = std::io::stdout().lock();
                for r in &rows {
                    json::write_line(&mut out, r)?;
                }
            } else {
                println!("{}", table(&rows));
            }
        }
        Some(ConnectionsCommand::Close { name, reason, json }) => {
            // A bad reason is refused before the cluster is asked anything.
            connections::check_reason(&reason)?;
            let api = ManagementClient::new(&target)?;
            let closed = connections::close(&api, &name, &reason).await?;
            if json {
                json::print(&serde_json::json!({"closed": closed, "reason": reason}))?;
            } else {
                println!("closed connection \"{closed}\": {reason}");
            }
        }
    }
    Ok(Exit::Ok)
}

fn table(rows: &[ConnectionRow]) -> crate::render::TextTable {
    let mut t = crate::render::table(
        &[
            "NAME",
            "CLIENT NAME",
            "USER",
            "CLIENT HOST",
            "PROTOCOL",
            "STATE",
            "CHANNELS",
            "PREFETCH",
            "UNACKED",
            "PUBLISH",
            "DELIVER",
            "NODE",
        ],
        &[6, 7, 8, 9, 10],
    );
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    let num = |v: Option<u64>| v.map_or("?".into(), |n| n.to_string());
    let rate = |v: Option<f64>| v.map_or("-".into(), |r| format!("{r:.1}/s"));
    for r in rows {
        t.add_row(vec![
            r.name.clone(),
            r.client_provided_name.clone().unwrap_or_default(),
            opt(&r.user),
            match (&r.client_host, r.client_port) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (h, _) => opt(h),
            },
            opt(&r.protocol),
            opt(&r.state),
            num(r.channels),
            num(r.prefetch),
            num(r.unacked),
            rate(r.publish_rate),
            rate(r.deliver_rate),
            opt(&r.node),
        ]);
    }
    t
}
