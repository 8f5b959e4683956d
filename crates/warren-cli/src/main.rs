//! `warren`: Warren's core on the command line, for support staff at a terminal and for CI
//! pipelines. It reads the same profiles as the desktop app, or takes ad-hoc `--node` /
//! `--api` URIs. Every command that reports prints one JSON document with `--json`; errors
//! are one line on stderr and a non-zero exit status (see [`exit_code`]).

mod browse;
mod collections;
mod connections;
mod consume;
mod durations;
mod exit_code;
mod json;
mod ops;
mod progress;
mod publish;
mod render;

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use exit_code::Exit;
use tokio_util::sync::CancellationToken;
use warren_core::endpoint::AuthMechanism;
use warren_core::endpoint::ClusterTarget;
use warren_core::profiles::{saved, Keychain, NodeEndpoints, Profile, ProfileStore};
use warren_core::status::HealthLevel;
use warren_core::tls::TlsSettings;
use warren_core::{cluster, Error, Result};

#[derive(Parser)]
#[command(
    name = "warren",
    version,
    about = "Warren: inspect and operate RabbitMQ clusters"
)]
struct Cli {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: Command,
}

/// Where to connect: a saved profile, or ad-hoc endpoints.
#[derive(Args, Clone, Default)]
struct ConnectionArgs {
    /// A saved profile (shared with the desktop app).
    #[arg(long, short = 'p', global = true, env = "WARREN_PROFILE")]
    profile: Option<String>,
    /// An AMQP URI of one node, e.g. amqp://guest:guest@127.0.0.1:5781/%2f (repeatable).
    #[arg(long = "node", global = true, value_name = "URI")]
    nodes: Vec<String>,
    /// A management API URL of one node, e.g. http://guest:guest@127.0.0.1:15781 (repeatable).
    #[arg(long = "api", global = true, value_name = "URL")]
    apis: Vec<String>,
    /// The password for --node/--api, read from the first line of standard input rather than
    /// written into a URI, where the process list shows it. The environment variable
    /// WARREN_PASSWORD gives it too. The user is the URIs' (amqp://ops@host), else guest.
    #[arg(long, global = true)]
    password_stdin: bool,
    /// TLS (amqps://, https://): a PEM file of the CA(s) that signed the servers'
    /// certificates, trusted besides the system's trust store.
    #[arg(long, global = true, value_name = "PEM")]
    ca_file: Option<String>,
    /// TLS: a PEM client certificate (chain), for servers that require one (mutual TLS).
    #[arg(long, global = true, value_name = "PEM", requires = "client_key")]
    client_cert: Option<String>,
    /// TLS: the PEM private key of --client-cert.
    #[arg(long, global = true, value_name = "PEM", requires = "client_cert")]
    client_key: Option<String>,
    /// TLS: accept any server certificate (no CA or host name check). Every command then
    /// says so on standard error.
    #[arg(long, global = true)]
    insecure: bool,
    /// How to log in over AMQP: password (default) or external (the client certificate names
    /// the user; no password is sent).
    #[arg(long, global = true, value_enum, value_name = "MECHANISM")]
    auth: Option<Auth>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Auth {
    Password,
    External,
}

impl From<Auth> for AuthMechanism {
    fn from(a: Auth) -> Self {
        match a {
            Auth::Password => AuthMechanism::Password,
            Auth::External => AuthMechanism::External,
        }
    }
}

impl ConnectionArgs {
    fn tls(&self) -> TlsSettings {
        TlsSettings {
            ca_file: self.ca_file.clone(),
            client_cert_file: self.client_cert.clone(),
            client_key_file: self.client_key.clone(),
            verify_peer: !self.insecure,
        }
    }

    fn has_tls_or_auth(&self) -> bool {
        self.tls() != TlsSettings::default() || self.auth.is_some()
    }
}

#[derive(Subcommand)]
enum Command {
    /// Nodes, alarms, partitions, replication and queues at risk.
    Status {
        /// Print one JSON object (schema: docs/status-json.md).
        #[arg(long)]
        json: bool,
        /// Exit with status 3 when the cluster's health is at this level or worse.
        #[arg(long, value_name = "LEVEL")]
        fail_on: Option<FailOn>,
    },
    /// Manage saved profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// List queues with their type, counts, rates, consumers, node and replication.
    Queues(browse::QueuesArgs),
    /// Read messages from the head of a queue and leave the queue as it was.
    Peek(browse::PeekArgs),
    /// Publish messages with confirms; every message ends confirmed, returned, nacked or failed.
    Publish(publish::PublishArgs),
    /// Take messages from a queue and settle each as told (ack, nack, reject).
    Consume(consume::ConsumeArgs),
    /// Watch an exchange's traffic through a temporary queue, taking nothing from anyone.
    Tap(consume::TapArgs),
    /// Delete selected messages (from `warren peek --json`) of a queue; the others stay in order.
    Delete(ops::DeleteArgs),
    /// Move messages to a queue or exchange; each leaves the source only once the target confirmed it.
    Move(ops::TransferArgs),
    /// Copy messages to a queue or exchange; the source keeps them.
    Copy(ops::TransferArgs),
    /// Dead letters: send them back where their x-death says they came from.
    #[command(subcommand)]
    DeadLetters(ops::DeadLettersCommand),
    /// Peek a queue (leaving it as it was) and save the messages into a collection file.
    Save(collections::SaveArgs),
    /// Replay a collection's messages with confirms, and report what became of each.
    Replay(collections::ReplayArgs),
    /// List client connections (name, client-provided name, user, channels, prefetch,
    /// unacked, rates), or close one with a reason its client receives.
    Connections(connections::ConnectionsArgs),
    /// Make a collection file of rabtap's saved messages or the management API's get-messages JSON.
    Import(collections::ImportArgs),
    /// Write a collection's messages (all or some) as JSON Lines in the message format.
    Export(collections::ExportArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Warning,
    Critical,
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// List saved profiles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one profile (never its password).
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Save a profile from the global --node/--api pairs (without credentials in them) and
    /// TLS options (--ca-file, --client-cert/--client-key, --insecure, --auth).
    Add {
        name: String,
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "/")]
        vhost: String,
        /// Read the password from standard input (otherwise it is asked for on a terminal).
        #[arg(long)]
        password_stdin: bool,
        /// Replace an existing profile of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// Delete a profile and its password.
    Remove { name: String },
    /// Try every node of a profile (AMQP and management API) and say what answered.
    Test {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    warren_core::logging::init("off", std::io::stderr);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors.
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            }
            .into();
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let exit = match runtime.block_on(run(cli)) {
        Ok(exit) => exit,
        Err(e @ Error::NeedsConsent { .. }) => {
            eprintln!("warren: {e} (--allow-side-effects)");
            Exit::of(&e)
        }
        Err(e) => {
            eprintln!("warren: {e}");
            Exit::of(&e)
        }
    };
    exit.into()
}

/// How long an interrupted command may take to stop cleanly (a publish awaiting its last
/// confirms, a peek giving its messages back) before the process ends anyway.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The one Ctrl-C handler, for the commands that can stop cleanly: the first Ctrl-C cancels
/// the returned token, a second one, or a stop that takes longer than [`STOP_WAIT`], ends the
/// process at once with [`Exit::Interrupted`] (a broker gives back what a closed connection
/// held). Other commands keep the default: Ctrl-C ends them at once.
pub(crate) fn interruptible() -> CancellationToken {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        on_signal.cancel();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = tokio::time::sleep(STOP_WAIT) => {}
        }
        std::process::exit(i32::from(Exit::Interrupted as u8));
    });
    cancel
}

async fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Status { json, fail_on } => {
            let target = resolve(&cli.connection).await?;
            let status = cluster::status_once(&target).await?;
            if json {
                json::print(&status)?;
            } else {
                print!("{}", render::status_text(&status));
            }
            let failing = match fail_on {
                Some(FailOn::Warning) => status.health.level != HealthLevel::Ok,
                Some(FailOn::Critical) => status.health.level >= HealthLevel::Critical,
                None => false,
            };
            Ok(if failing { Exit::Unhealthy } else { Exit::Ok })
        }
        Command::Profile(cmd) => profile(cmd, &cli.connection).await,
        Command::Queues(args) => browse::queues(resolve(&cli.connection).await?, args).await,
        Command::Peek(args) => browse::peek(resolve(&cli.connection).await?, args).await,
        Command::Publish(args) => publish::publish(resolve(&cli.connection), args).await,
        Command::Consume(args) => consume::consume(resolve(&cli.connection).await?, args).await,
        Command::Tap(args) => consume::tap(resolve(&cli.connection).await?, args).await,
        Command::Delete(args) => ops::delete(resolve(&cli.connection).await?, args).await,
        Command::Move(args) => ops::transfer(resolve(&cli.connection).await?, args, false).await,
        Command::Copy(args) => ops::transfer(resolve(&cli.connection).await?, args, true).await,
        Command::DeadLetters(cmd) => ops::dead_letters(resolve(&cli.connection).await?, cmd).await,
        Command::Save(args) => collections::save(resolve(&cli.connection).await?, args).await,
        Command::Replay(args) => collections::replay(resolve(&cli.connection), args).await,
        Command::Connections(args) => connections::run(resolve(&cli.connection).await?, args).await,
        Command::Import(args) => collections::import(args),
        Command::Export(args) => collections::export(args),
    }
}

async fn profile(cmd: ProfileCommand, connection: &ConnectionArgs) -> Result<Exit> {
    let store = ProfileStore::default_location()?;
    let keychain = Keychain::default();
    match cmd {
        ProfileCommand::List { json } => {
            let profiles = store.list()?;
            if json {
                json::print(&profiles)?;
            } else {
                for p in &profiles {
                    println!(
                        "{}\t{} node(s)\t{}@{}",
                        p.name,
                        p.nodes.len(),
                        p.username,
                        p.vhost
                    );
                }
            }
        }
        ProfileCommand::Show { name, json } => {
            let p = store.get(&name)?;
            warn_tls(&p.tls);
            if json {
                json::print(&p)?;
            } else {
                print!("{}", render::profile_text(&p));
            }
        }
        ProfileCommand::Add {
            name,
            username,
            vhost,
            password_stdin,
            replace,
        } => {
            if connection.nodes.len() != connection.apis.len() {
                return Err(Error::invalid(
                    "--node/--api",
                    "give one --api URL for each --node URI, in the same order",
                ));
            }
            let profile = Profile {
                name: name.clone(),
                nodes: connection
                    .nodes
                    .iter()
                    .zip(&connection.apis)
                    .map(|(amqp, management)| NodeEndpoints {
                        amqp: amqp.clone(),
                        management: management.clone(),
                    })
                    .collect(),
                vhost,
                username,
                tls: connection.tls(),
                auth: connection.auth.map(AuthMechanism::from),
            };
            profile.validate()?;
            let password = match profile.auth() {
                AuthMechanism::External if !password_stdin => None,
                _ => Some(read_password(password_stdin, &name)?),
            };
            let existing = store.list()?.iter().any(|p| p.name == name);
            let replacing = (replace && existing).then_some(name.as_str());
            saved::save(&store, &keychain, &profile, password.as_deref(), replacing).await?;
            eprintln!("saved profile \"{name}\" in {}", store.path().display());
            warn_tls(&profile.tls);
        }
        ProfileCommand::Remove { name } => {
            saved::delete(&store, &keychain, &name).await?;
            eprintln!("removed profile \"{name}\"");
        }
        ProfileCommand::Test { name, json } => {
            let target = saved::target(&store, &keychain, &name).await?;
            let endpoints = cluster::test_endpoints(&target).await?;
            let all_ok = endpoints.iter().all(|e| e.ok);
            if json {
                json::print(&endpoints)?;
            } else {
                print!("{}", render::endpoints_text(&endpoints));
            }
            return Ok(if all_ok { Exit::Ok } else { Exit::Failed });
        }
    }
    Ok(Exit::Ok)
}

fn read_password(from_stdin: bool, profile: &str) -> Result<String> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::invalid("password", format!("cannot read standard input: {e}")))?;
        s.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        rpassword::prompt_password(format!("password for profile \"{profile}\": "))
            .map_err(|e| Error::invalid("password", e.to_string()))?
    };
    if password.is_empty() {
        return Err(Error::invalid("password", "the password is empty"));
    }
    Ok(password)
}

async fn resolve(c: &ConnectionArgs) -> Result<ClusterTarget> {
    let target = match &c.profile {
        Some(name) if c.nodes.is_empty() && c.apis.is_empty() && !c.has_tls_or_auth() => {
            saved::target(
                &ProfileStore::default_location()?,
                &Keychain::default(),
                name,
            )
            .await?
        }
        Some(_) => {
            return Err(Error::invalid(
                "connection",
                "give either --profile or --node/--api (with their TLS options), not both",
            ))
        }
        None => {
            let mut target = ClusterTarget::ad_hoc(&c.nodes, &c.apis)?;
            target.tls = c.tls();
            target.auth = c.auth.map(AuthMechanism::from).unwrap_or_default();
            match ad_hoc_password(c)? {
                Some(password) => target.with_password(&password),
                None => target,
            }
        }
    };
    warn_tls(&target.tls);
    Ok(target)
}

/// The warning of a profile (or ad-hoc options) with certificate verification off, on
/// standard error, wherever one is used or shown.
fn warn_tls(tls: &TlsSettings) {
    if let Some(warning) = tls.warning() {
        eprintln!("warren: warning: {warning}");
    }
}

/// The password of ad-hoc endpoints given outside the command line: `--password-stdin`, else
/// `WARREN_PASSWORD`.
fn ad_hoc_password(c: &ConnectionArgs) -> Result<Option<String>> {
    if c.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::invalid("--password-stdin", e.to_string()))?;
        let password = line.trim_end_matches(['\r', '\n']);
        if password.is_empty() {
            return Err(Error::invalid(
                "--password-stdin",
                "standard input held no password",
            ));
        }
        return Ok(Some(password.to_owned()));
    }
    Ok(std::env::var("WARREN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty()))
}
