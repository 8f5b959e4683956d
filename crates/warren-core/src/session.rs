//! AMQP connections to every node of a cluster, kept alive, with failover between them.
//!
//! lapin's own recovery reconnects to the same URI only, and a node that died may stay dead.
//! So a [`ClusterSession`] runs one supervisor task per node. Each one connects (every attempt
//! bounded by [`CONNECT_TIMEOUT`] and cancellable), then pings the node with a `basic.qos`
//! round trip every [`PING_INTERVAL`] to measure latency and notice a node that stopped
//! answering (a paused VM sends no RST), and listens to lapin's connection events to notice a
//! closed socket at once. A lost connection is retried with bounded, jittered exponential
//! backoff. Work runs through [`ClusterSession::run`], which picks a connected node (staying
//! on the current one while it is healthy) and, when the node fails under it, retries the
//! operation on another node.
//!
//! Every wait on a node is bounded: a paused node accepts TCP and never answers, so opening a
//! channel ([`CHANNEL_WAIT`]) and each attempt of [`ClusterSession::run`]
//! ([`operation::BROKER_REPLY_WAIT`]) time out, and a timed-out attempt moves to another node.
//!
//! A refused login is not retried. Directory-backed accounts lock after a few failed logins,
//! and the same password fails the same way every time; so a supervisor whose login was
//! refused stops in [`LinkState::LoginRefused`]. Trying again is a new session: the user
//! changed the profile or asked to reconnect.
//!
//! The state of every link is published through a `watch` channel, so the app and the CLI
//! show per-node connection state and latency without polling the supervisors.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use lapin::options::BasicQosOptions;
use lapin::uri::{
    AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo, SASLMechanism,
};
use lapin::{AsyncTcpStream, Channel, Connection, ConnectionProperties, Event};
use rand::Rng;
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;
use url::Url;

use crate::endpoint::{host_port, AuthMechanism, ClusterTarget, Credentials};
use crate::error::{Error, ErrorReport, Result};
use crate::operation::BROKER_REPLY_WAIT;
use crate::tls;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const PING_INTERVAL: Duration = Duration::from_secs(2);
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// How long opening a channel on a connected node may take before the node counts as not
/// answering.
pub const CHANNEL_WAIT: Duration = Duration::from_secs(5);
/// AMQP heartbeat asked of the broker: a second line of defence behind the pings.
const HEARTBEAT_SECS: u16 = 10;
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LinkState {
    Connecting,
    Connected,
    /// Not connected; a new attempt follows after a backoff.
    Down,
    /// The broker refused the credentials. No new attempt on this session: repeated failed
    /// logins lock directory-backed accounts. A new session (the profile changed, the user
    /// asked to reconnect) tries again.
    LoginRefused,
    /// The session was closed.
    Closed,
}

/// Warren's own AMQP connection to one node, as the UI and `warren status` show it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LinkStatus {
    /// `host:port` of the node's AMQP listener.
    pub endpoint: String,
    pub state: LinkState,
    /// Round trip of the last ping, in milliseconds.
    pub latency_ms: Option<f64>,
    /// When the link entered its current state (Unix epoch milliseconds).
    #[ts(type = "number")]
    pub since_ms: u64,
    /// Why the link is down, or the last failure before it came back.
    pub last_error: Option<ErrorReport>,
    /// Failed connection attempts since the link was last connected.
    pub failed_attempts: u32,
    /// The broker blocked publishing on this connection (memory or disk alarm).
    pub blocked: bool,
    /// This link is the one the session works through.
    pub active: bool,
    /// When the node last answered (its connection opened, or a ping came back): work that
    /// waits on the node and hears nothing can tell a node that answers from one that stopped.
    #[serde(skip)]
    #[ts(skip)]
    pub answered_at: Option<Instant>,
}

impl LinkStatus {
    /// Why work on the link to `endpoint` must stop, when the session has given that node up
    /// (a failed ping: a paused node is noticed in seconds, long before its socket or the AMQP
    /// heartbeat fails). A link held back by a publishing alarm cannot answer pings and is not
    /// given up for it.
    pub fn lost(links: &[LinkStatus], endpoint: &str) -> Option<String> {
        let link = links.iter().find(|l| l.endpoint == endpoint)?;
        if link.blocked || !matches!(link.state, LinkState::Down | LinkState::Connecting) {
            return None;
        }
        Some(match &link.last_error {
            Some(e) => e.message.clone(),
            None => format!("the connection to {endpoint} was lost"),
        })
    }

    /// Waits until the session gives up the link to `endpoint` (see [`LinkStatus::lost`]) and
    /// says why. Never ends once the session is gone: its work ends another way then.
    /// Cancel-safe, for a `select!` beside the work on that link.
    pub async fn given_up(links: &mut watch::Receiver<Vec<LinkStatus>>, endpoint: &str) -> String {
        let mut reason = None;
        let lost = links.wait_for(|l| {
            reason = LinkStatus::lost(l, endpoint);
            reason.is_some()
        });
        // The session gone: its work ends another way.
        if lost.await.is_err() {
            return std::future::pending().await;
        }
        reason.unwrap_or_default()
    }

    /// Waits until the node at `endpoint` answers a ping after `after`: it is alive, whatever
    /// else did not come. Cancel-safe; never ends once the session is gone.
    pub async fn answered(
        links: &mut watch::Receiver<Vec<LinkStatus>>,
        endpoint: &str,
        after: Instant,
    ) {
        let answered = links.wait_for(|l| {
            l.iter()
                .any(|l| l.endpoint == endpoint && l.answered_at.is_some_and(|t| t > after))
        });
        let session_gone = answered.await.is_err();
        if session_gone {
            std::future::pending::<()>().await;
        }
    }

    fn new(endpoint: String) -> Self {
        LinkStatus {
            endpoint,
            state: LinkState::Connecting,
            latency_ms: None,
            since_ms: now_ms(),
            last_error: None,
            failed_attempts: 0,
            blocked: false,
            active: false,
            answered_at: None,
        }
    }
}

struct Link {
    url: Url,
    status: LinkStatus,
    connection: Option<Arc<Connection>>,
    /// The last attempt's refused TLS handshake, typed (the status keeps only its text).
    tls_refused: Option<Error>,
}

struct Shared {
    target: ClusterTarget,
    links: Mutex<Vec<Link>>,
    changes: watch::Sender<Vec<LinkStatus>>,
}

impl Shared {
    /// Applies `f` to link `i` and publishes the new snapshot. The lock is never held across
    /// an await.
    fn update(&self, i: usize, f: impl FnOnce(&mut Link)) {
        let snapshot = {
            let mut links = self.links.lock().expect("link table poisoned");
            f(&mut links[i]);
            links.iter().map(|l| l.status.clone()).collect::<Vec<_>>()
        };
        self.changes.send_replace(snapshot);
    }

    fn set_state(&self, i: usize, state: LinkState, error: Option<&Error>) {
        self.update(i, |l| {
            if l.status.state != state {
                l.status.since_ms = now_ms();
            }
            l.status.state = state;
            if let Some(e) = error {
                l.status.last_error = Some(e.into());
                l.tls_refused = match e {
                    Error::TlsRefused { endpoint, failure } => Some(Error::TlsRefused {
                        endpoint: endpoint.clone(),
                        failure: failure.clone(),
                    }),
                    _ => None,
                };
            }
            if state == LinkState::Connected {
                l.tls_refused = None;
            }
            if state != LinkState::Connected {
                l.status.latency_ms = None;
                l.status.active = false;
                l.status.blocked = false;
                l.connection = None;
            }
        });
    }

    /// The connection to work through: the active one while it is connected, else the first
    /// connected node in profile order, which becomes active.
    fn pick(&self, avoid: &[usize]) -> Option<(usize, Arc<Connection>)> {
        let picked = {
            let mut links = self.links.lock().expect("link table poisoned");
            let usable =
                |l: &Link| l.status.state == LinkState::Connected && l.connection.is_some();
            let current = links
                .iter()
                .position(|l| l.status.active && usable(l))
                .filter(|i| !avoid.contains(i));
            let chosen = current
                .or_else(|| (0..links.len()).find(|i| !avoid.contains(i) && usable(&links[*i])));
            chosen.map(|i| {
                for (k, l) in links.iter_mut().enumerate() {
                    l.status.active = k == i;
                }
                (
                    i,
                    links[i]
                        .connection
                        .clone()
                        .expect("usable link has a connection"),
                )
            })
        };
        if picked.is_some() {
            let snapshot = self.snapshot();
            self.changes.send_replace(snapshot);
        }
        picked
    }

    fn snapshot(&self) -> Vec<LinkStatus> {
        let links = self.links.lock().expect("link table poisoned");
        links.iter().map(|l| l.status.clone()).collect()
    }
}

/// Connections to the nodes of one cluster. Dropping it (or [`ClusterSession::close`]) stops
/// the supervisors and closes the connections.
pub struct ClusterSession {
    shared: Arc<Shared>,
    cancel: CancellationToken,
}

impl ClusterSession {
    /// Starts connecting to every node with an AMQP endpoint. Returns at once; use
    /// [`ClusterSession::wait_connected`] or [`ClusterSession::run`] to wait for a node.
    pub fn open(target: ClusterTarget) -> Result<Self> {
        let urls: Vec<Url> = target.amqp_nodes().map(|(_, u)| u.clone()).collect();
        if urls.is_empty() {
            return Err(Error::invalid(
                "AMQP URI",
                "no AMQP endpoint given (--node URI, or a profile's nodes)",
            ));
        }
        if urls.iter().any(|u| u.scheme() == "amqps") {
            tls::AmqpTls::new(&target.tls)?;
        }
        let links: Vec<Link> = urls
            .iter()
            .map(|u| Link {
                url: u.clone(),
                status: LinkStatus::new(host_port(u)),
                connection: None,
                tls_refused: None,
            })
            .collect();
        let (changes, _) = watch::channel(links.iter().map(|l| l.status.clone()).collect());
        let shared = Arc::new(Shared {
            target,
            links: Mutex::new(links),
            changes,
        });
        let cancel = CancellationToken::new();
        for i in 0..urls.len() {
            tokio::spawn(supervise(shared.clone(), i, cancel.child_token()));
        }
        Ok(ClusterSession { shared, cancel })
    }

    pub fn target(&self) -> &ClusterTarget {
        &self.shared.target
    }

    pub fn links(&self) -> Vec<LinkStatus> {
        self.shared.snapshot()
    }

    /// A receiver that sees every change of any link.
    pub fn watch_links(&self) -> watch::Receiver<Vec<LinkStatus>> {
        self.shared.changes.subscribe()
    }

    /// Waits until at least one node is connected, or `timeout` passes.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<()> {
        let mut rx = self.watch_links();
        let ready = |links: &Vec<LinkStatus>| links.iter().any(|l| l.state == LinkState::Connected);
        let connected = matches!(
            tokio::time::timeout(timeout, rx.wait_for(ready)).await,
            Ok(Ok(_))
        );
        if connected {
            Ok(())
        } else {
            Err(self.unavailable())
        }
    }

    fn unavailable(&self) -> Error {
        // Every node refused by TLS: that is the error, with its reason.
        {
            let links = self.shared.links.lock().expect("link table poisoned");
            if links.iter().all(|l| l.tls_refused.is_some()) {
                if let Some(Error::TlsRefused { endpoint, failure }) = &links[0].tls_refused {
                    return Error::TlsRefused {
                        endpoint: endpoint.clone(),
                        failure: failure.clone(),
                    };
                }
            }
        }
        let links = self.links();
        // A refusal of our credentials is the same on every node: report it as such.
        if let Some(link) = links.iter().find(|l| {
            l.last_error
                .as_ref()
                .is_some_and(|e| e.kind == crate::error::ErrorKind::Auth)
        }) {
            return Error::Auth {
                endpoint: link.endpoint.clone(),
                user: self.shared.target.amqp_credentials.username.clone(),
            };
        }
        Error::NoNodeAvailable(
            links
                .iter()
                .map(|l| match &l.last_error {
                    Some(e) => e.message.clone(),
                    None => format!("{}: {:?}", l.endpoint, l.state),
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// A connected node not in `failed`, waiting until `deadline` for one. Once every node has
    /// failed, `failed` is cleared so that nodes which have since reconnected are tried again.
    async fn pick_until(
        &self,
        deadline: Instant,
        failed: &mut Vec<usize>,
    ) -> Result<(usize, Arc<Connection>)> {
        loop {
            if let Some(picked) = self.shared.pick(failed) {
                return Ok(picked);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.unavailable());
            }
            // Wait for any link to change, then look again.
            let mut rx = self.watch_links();
            let _ = tokio::time::timeout(left.min(Duration::from_millis(500)), rx.changed()).await;
            if failed.len() >= self.shared.links.lock().map(|l| l.len()).unwrap_or(0) {
                failed.clear();
            }
        }
    }

    /// Runs `op` on a fresh channel of a connected node. When the node fails under it (socket
    /// error, connection closed, no answer within [`BROKER_REPLY_WAIT`]), the operation is
    /// retried on another node, so `op` must be safe to repeat. Errors of the operation itself
    /// (404, 403, 406...) are returned as they are. Waits up to `wait` for some node to be
    /// connected; once `wait` has passed, a failed attempt is the last one.
    pub async fn run<T, F, Fut>(&self, wait: Duration, mut op: F) -> Result<T>
    where
        F: FnMut(Channel) -> Fut,
        Fut: Future<Output = std::result::Result<T, lapin::Error>>,
    {
        let deadline = Instant::now() + wait;
        let mut failed: Vec<usize> = Vec::new();
        loop {
            let (i, connection) = self.pick_until(deadline, &mut failed).await?;
            let endpoint = self.links()[i].endpoint.clone();
            let attempt = async {
                let channel = self.open_channel(&connection, &endpoint).await?;
                let out = tokio::time::timeout(BROKER_REPLY_WAIT, op(channel.clone())).await;
                if channel.status().connected() {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        channel.close(200, "OK".into()),
                    )
                    .await;
                }
                match out {
                    Ok(r) => r.map_err(|e| self.classify(&endpoint, e)),
                    Err(_) => Err(Attempt::NodeFailed(Error::Timeout {
                        endpoint: endpoint.clone(),
                        after: BROKER_REPLY_WAIT,
                    })),
                }
            };
            match attempt.await {
                Ok(v) => return Ok(v),
                Err(Attempt::NodeFailed(e)) => {
                    // The node's supervisor, the only writer of link state, sees the same
                    // failure on the connection and reconnects; here we only move on.
                    tracing::warn!(node = %endpoint, error = %e, "node failed during an operation; trying another");
                    if Instant::now() >= deadline {
                        return Err(e);
                    }
                    failed.push(i);
                }
                Err(Attempt::Refused(e)) => return Err(e),
            }
        }
    }

    /// A channel on `connection`, bounded by [`CHANNEL_WAIT`].
    async fn open_channel(
        &self,
        connection: &Connection,
        endpoint: &str,
    ) -> std::result::Result<Channel, Attempt> {
        match tokio::time::timeout(CHANNEL_WAIT, connection.create_channel()).await {
            Ok(Ok(channel)) => Ok(channel),
            Ok(Err(e)) => Err(self.classify(endpoint, e)),
            Err(_) => Err(Attempt::NodeFailed(Error::Timeout {
                endpoint: endpoint.to_owned(),
                after: CHANNEL_WAIT,
            })),
        }
    }

    fn classify(&self, endpoint: &str, e: lapin::Error) -> Attempt {
        let node_failed = is_connection_failure(&e);
        let e = amqp_error(endpoint, &self.shared.target.amqp_credentials, e, false);
        if node_failed {
            Attempt::NodeFailed(e)
        } else {
            Attempt::Refused(e)
        }
    }

    /// A fresh channel on a connected node, for work that must not be repeated on another
    /// node behind the caller's back (a peek holding messages, a publish awaiting confirms):
    /// the caller sees a node failure as an error and decides. Returns the node's endpoint
    /// (redacted) with the channel. Waits up to `wait` for some node to be connected.
    pub async fn channel(&self, wait: Duration) -> Result<(Channel, String)> {
        let deadline = Instant::now() + wait;
        let mut failed: Vec<usize> = Vec::new();
        loop {
            let (i, connection) = self.pick_until(deadline, &mut failed).await?;
            let endpoint = self.links()[i].endpoint.clone();
            match self.open_channel(&connection, &endpoint).await {
                Ok(channel) => return Ok((channel, endpoint)),
                Err(Attempt::NodeFailed(e)) if Instant::now() >= deadline => return Err(e),
                Err(Attempt::NodeFailed(_)) => failed.push(i),
                Err(Attempt::Refused(e)) => return Err(e),
            }
        }
    }

    /// Maps an error of an operation on a channel from [`Self::channel`] to Warren's.
    pub fn operation_error(&self, endpoint: &str, e: lapin::Error) -> Error {
        amqp_error(endpoint, &self.shared.target.amqp_credentials, e, false)
    }

    pub async fn close(self) {
        self.cancel.cancel();
        let connections: Vec<Arc<Connection>> = {
            let links = self.shared.links.lock().expect("link table poisoned");
            links.iter().filter_map(|l| l.connection.clone()).collect()
        };
        for c in connections {
            let _ = tokio::time::timeout(Duration::from_secs(2), c.close(200, "OK".into())).await;
        }
        let n = self.shared.snapshot().len();
        for i in 0..n {
            self.shared.set_state(i, LinkState::Closed, None);
        }
    }
}

/// How one attempt on a node failed: the node (try another) or the operation (final).
enum Attempt {
    NodeFailed(Error),
    Refused(Error),
}

impl Drop for ClusterSession {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn supervise(shared: Arc<Shared>, i: usize, cancel: CancellationToken) {
    let url = shared.links.lock().expect("link table poisoned")[i]
        .url
        .clone();
    let mut failures: u32 = 0;
    loop {
        shared.set_state(i, LinkState::Connecting, None);
        let attempt = tokio::select! {
            () = cancel.cancelled() => return,
            r = connect_node(&shared.target, &url) => r,
        };
        match attempt {
            Ok((connection, ping_channel, latency)) => {
                failures = 0;
                let connection = Arc::new(connection);
                shared.update(i, |l| {
                    l.connection = Some(connection.clone());
                    l.status.state = LinkState::Connected;
                    l.status.since_ms = now_ms();
                    l.status.latency_ms = Some(latency);
                    l.status.answered_at = Some(Instant::now());
                    l.status.failed_attempts = 0;
                });
                let reason =
                    watch_connection(&shared, i, &connection, &ping_channel, &cancel).await;
                match reason {
                    None => {
                        let _ = tokio::time::timeout(
                            Duration::from_secs(2),
                            connection.close(200, "OK".into()),
                        )
                        .await;
                        return;
                    }
                    Some(e) => {
                        tracing::info!(node = %host_port(&url), error = %e, "connection lost");
                        shared.set_state(i, LinkState::Down, Some(&e));
                    }
                }
            }
            Err(e @ Error::Auth { .. }) => {
                tracing::info!(node = %host_port(&url), "login refused; not trying again");
                shared.set_state(i, LinkState::LoginRefused, Some(&e));
                shared.update(i, |l| l.status.failed_attempts = failures + 1);
                return;
            }
            Err(e) => {
                failures += 1;
                tracing::debug!(node = %host_port(&url), error = %e, "connect failed");
                shared.set_state(i, LinkState::Down, Some(&e));
                shared.update(i, |l| l.status.failed_attempts = failures);
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff(failures)) => {}
        }
    }
}

/// Watches a live connection until it fails (returns the reason) or the session is cancelled
/// (returns `None`).
async fn watch_connection(
    shared: &Shared,
    i: usize,
    connection: &Connection,
    ping_channel: &Channel,
    cancel: &CancellationToken,
) -> Option<Error> {
    let endpoint = shared.links.lock().expect("link table poisoned")[i]
        .status
        .endpoint
        .clone();
    let credentials = &shared.target.amqp_credentials;
    let mut events = Box::pin(connection.events_listener());
    let mut ticker = tokio::time::interval(PING_INTERVAL);
    ticker.tick().await;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return None,
            event = events.next() => match event {
                // lapin reports a channel the broker closed (a 404, 403, 406 of someone's
                // operation) here too, on a connection that is fine: only an error that took
                // the connection with it is a lost node.
                Some(Event::Error(e)) if connection.status().connected() => {
                    tracing::debug!(node = %endpoint, error = %e, "a channel was closed; the connection stays");
                }
                Some(Event::Error(e)) => return Some(amqp_error(&endpoint, credentials, e, false)),
                Some(Event::ConnectionBlocked(_)) => shared.update(i, |l| l.status.blocked = true),
                Some(Event::ConnectionUnblocked) => shared.update(i, |l| l.status.blocked = false),
                Some(_) => {}
                None => return Some(Error::Unreachable { endpoint, reason: "connection closed".into() }),
            },
            _ = ticker.tick() => {
                if !connection.status().connected() {
                    return Some(Error::Unreachable { endpoint, reason: "connection closed".into() });
                }
                match ping(ping_channel, &endpoint, credentials).await {
                    Ok(ms) => shared.update(i, |l| {
                        l.status.latency_ms = Some(ms);
                        l.status.answered_at = Some(Instant::now());
                    }),
                    Err(e) => return Some(e),
                }
            }
        }
    }
}

/// One `basic.qos` round trip on `channel`, in milliseconds.
async fn ping(channel: &Channel, endpoint: &str, credentials: &Credentials) -> Result<f64> {
    let start = Instant::now();
    match tokio::time::timeout(
        PING_TIMEOUT,
        channel.basic_qos(0, BasicQosOptions::default()),
    )
    .await
    {
        Ok(Ok(())) => Ok(start.elapsed().as_secs_f64() * 1000.0),
        Ok(Err(e)) => Err(amqp_error(endpoint, credentials, e, false)),
        Err(_) => Err(Error::Timeout {
            endpoint: endpoint.to_owned(),
            after: PING_TIMEOUT,
        }),
    }
}

/// Opens a connection to one node and a channel for pings, and measures one ping. The whole
/// attempt is bounded by [`CONNECT_TIMEOUT`].
async fn connect_node(target: &ClusterTarget, url: &Url) -> Result<(Connection, Channel, f64)> {
    let endpoint = host_port(url);
    let credentials = &target.amqp_credentials;
    let attempt = async {
        let uri = AMQPUri {
            scheme: if url.scheme() == "amqps" {
                AMQPScheme::AMQPS
            } else {
                AMQPScheme::AMQP
            },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: credentials.username.clone(),
                    password: credentials.password().to_owned(),
                },
                host: url
                    .host_str()
                    .unwrap_or_default()
                    .trim_matches(['[', ']'])
                    .to_owned(),
                port: url.port_or_known_default().unwrap_or(5672),
            },
            vhost: target.vhost.clone(),
            query: AMQPQueryString {
                heartbeat: Some(HEARTBEAT_SECS),
                connection_timeout: Some(CONNECT_TIMEOUT.as_millis() as u64),
                auth_mechanism: match target.auth {
                    AuthMechanism::Password => None,
                    AuthMechanism::External => Some(SASLMechanism::External),
                },
                ..Default::default()
            },
        };
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("warren {}", env!("CARGO_PKG_VERSION")).into());
        let runtime = lapin::runtime::default_runtime()
            .map_err(|e| amqp_error(&endpoint, credentials, e, true))?;
        let connection = if url.scheme() == "amqps" {
            // Warren's own TLS configuration (tls.rs), the same the management API uses.
            let tls = Arc::new(tls::AmqpTls::new(&target.tls)?);
            let connector = tls.clone();
            Connection::connector(
                uri,
                runtime,
                async move |uri: AMQPUri, runtime| {
                    let host = uri.authority.host.clone();
                    let addrs = runtime.to_socket_addrs((host.clone(), uri.authority.port));
                    let plain = AsyncTcpStream::connect(&runtime, addrs).await?;
                    Ok(plain.into_rustls(&connector.connector, &host).await?)
                },
                properties,
            )
            .await
            .map_err(|e| connect_error(&endpoint, target, Some(&tls), e))?
        } else {
            Connection::connect_uri_with_runtime(uri, properties, runtime)
                .await
                .map_err(|e| connect_error(&endpoint, target, None, e))?
        };
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| amqp_error(&endpoint, credentials, e, false))?;
        let latency = ping(&channel, &endpoint, credentials).await?;
        Ok((connection, channel, latency))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            endpoint,
            after: CONNECT_TIMEOUT,
        }),
    }
}

/// One connection attempt to a node, reported like a session's link: used by `warren status`
/// and the profile test, which need an answer now rather than a long-lived session.
pub async fn probe_node(target: &ClusterTarget, url: &Url) -> LinkStatus {
    let mut status = LinkStatus::new(host_port(url));
    match connect_node(target, url).await {
        Ok((connection, _, latency)) => {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), connection.close(200, "OK".into()))
                    .await;
            status.state = LinkState::Connected;
            status.latency_ms = Some(latency);
        }
        Err(e) => {
            status.state = LinkState::Down;
            status.failed_attempts = 1;
            status.last_error = Some((&e).into());
        }
    }
    status
}

/// Connection-level failures, after which the node (not the operation) is at fault.
/// True for a lapin error that means the connection to the node failed (as opposed to a
/// refusal on a healthy connection): the work may go on on another node.
pub(crate) fn is_connection_failure(e: &lapin::Error) -> bool {
    use lapin::ErrorKind as K;
    match e.kind() {
        K::IOError(_)
        | K::RuntimeShutdownError(_)
        | K::InvalidConnectionState(_)
        | K::MissingHeartbeatError
        | K::ParsingError(_)
        | K::SerialisationError(_) => true,
        K::ProtocolError(amqp) => {
            matches!(amqp.kind(), lapin::protocol::AMQPErrorKind::Hard(_))
                // 320 CONNECTION_FORCED: the node is shutting down (stop_app).
                || amqp.get_id() == 320
        }
        _ => false,
    }
}

/// True when the connection to the node is gone (the socket failed, the node stopped
/// answering, or it is shutting down: 320), as opposed to the broker answering with an error,
/// even one that closes a channel with a "hard" code (a stream refusing a header closes the
/// channel with 541). Work in flight on a lost node may or may not have been done; an answer
/// is a refusal.
pub(crate) fn is_node_lost(e: &lapin::Error) -> bool {
    use lapin::ErrorKind as K;
    match e.kind() {
        K::ProtocolError(amqp) => amqp.get_id() == 320,
        _ => is_connection_failure(e),
    }
}

/// Maps a lapin error to ours. `during_connect` tells a 403 at login (wrong credentials) from
/// a 403 on an operation (missing permission).
/// A failed connection attempt: a refused TLS handshake with its reason, a refused EXTERNAL
/// login as such, otherwise as [`amqp_error`] reads it.
fn connect_error(
    endpoint: &str,
    target: &ClusterTarget,
    tls: Option<&tls::AmqpTls>,
    e: lapin::Error,
) -> Error {
    if let (lapin::ErrorKind::IOError(io), Some(tls)) = (e.kind(), tls) {
        if let Some(failure) = tls.failure(io) {
            return Error::TlsRefused {
                endpoint: endpoint.to_owned(),
                failure,
            };
        }
        // A server that does not offer EXTERNAL closes the connection without a word
        // (RabbitMQ: "invalid authentication mechanism"), which lapin reports as a lost socket.
        use std::io::ErrorKind as K;
        if target.auth == AuthMechanism::External
            && matches!(
                io.kind(),
                K::ConnectionAborted | K::ConnectionReset | K::UnexpectedEof | K::BrokenPipe
            )
        {
            return Error::Unreachable {
                endpoint: endpoint.to_owned(),
                reason: "the server closed the connection at the EXTERNAL login: does it offer \
                         EXTERNAL (RabbitMQ: the rabbitmq_auth_mechanism_ssl plugin) on this \
                         listener?"
                    .into(),
            };
        }
    }
    match amqp_error(endpoint, &target.amqp_credentials, e, true) {
        Error::Auth { endpoint, .. } if target.auth == AuthMechanism::External => Error::Auth {
            endpoint,
            user: "named by the client certificate (EXTERNAL)".into(),
        },
        e => e,
    }
}

fn amqp_error(
    endpoint: &str,
    credentials: &Credentials,
    e: lapin::Error,
    during_connect: bool,
) -> Error {
    use lapin::ErrorKind as K;
    let endpoint = endpoint.to_owned();
    let user = credentials.username.clone();
    match e.kind() {
        K::ProtocolError(amqp) => {
            let code = amqp.get_id();
            let text = amqp.get_message().to_string();
            match code {
                403 if during_connect || text.contains("Login was refused") => {
                    Error::Auth { endpoint, user }
                }
                403 | 530 => Error::AccessRefused {
                    endpoint,
                    user,
                    what: refused_resource(&text),
                },
                _ => Error::Amqp {
                    endpoint,
                    reason: format!("{code} {text}"),
                },
            }
        }
        K::IOError(io) => {
            // RabbitMQ without authentication_failure_close just drops the socket after a bad
            // login; lapin then reports an IO error during the handshake.
            Error::Unreachable {
                endpoint,
                reason: io.to_string(),
            }
        }
        K::MissingHeartbeatError => Error::Timeout {
            endpoint,
            after: Duration::from_secs(u64::from(HEARTBEAT_SECS) * 2),
        },
        K::InvalidConnectionState(_) | K::RuntimeShutdownError(_) => Error::Unreachable {
            endpoint,
            reason: e.to_string(),
        },
        _ => Error::Amqp {
            endpoint,
            reason: e.to_string(),
        },
    }
}

/// What the broker's refusal names: "ACCESS_REFUSED - access to exchange 'x' in vhost '/'
/// refused for user 'u'" becomes "exchange 'x' in vhost '/'"; any other text stays whole.
fn refused_resource(text: &str) -> String {
    let bare = text.split_once(" - ").map_or(text, |(_, rest)| rest);
    bare.strip_prefix("access to ")
        .and_then(|rest| rest.split_once(" refused for user"))
        .map_or_else(|| bare.to_owned(), |(what, _)| what.to_owned())
}

fn backoff(failures: u32) -> Duration {
    let exp = BACKOFF_FIRST.saturating_mul(1u32 << failures.saturating_sub(1).min(8));
    let capped = exp.min(BACKOFF_MAX);
    // ±25 % jitter so that many clients do not reconnect in lockstep.
    let factor = rand::rng().random_range(0.75..1.25);
    capped.mul_f64(factor)
}

/// Wall-clock time as Unix epoch milliseconds, the unit of every timestamp Warren reports.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refusal_names_the_resource() {
        assert_eq!(
            super::refused_resource(
                "ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'u'"
            ),
            "exchange 'amq.default' in vhost '/'"
        );
        assert_eq!(
            super::refused_resource("NOT_ALLOWED - vhost nowhere not found"),
            "vhost nowhere not found"
        );
    }

    use super::*;

    #[test]
    fn backoff_grows_then_caps_with_jitter() {
        for _ in 0..50 {
            let first = backoff(1);
            assert!(first >= Duration::from_millis(187) && first <= Duration::from_millis(313));
            let late = backoff(30);
            assert!(late >= BACKOFF_MAX.mul_f64(0.75) && late <= BACKOFF_MAX.mul_f64(1.25));
        }
        assert!(backoff(4).as_millis() > backoff(1).as_millis());
    }
}
