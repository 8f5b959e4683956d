//! Publish with a truthful result: publisher confirms always on, `mandatory` on by default,
//! and every message ends as exactly one [`Outcome`]. Never "sent" on a guess.
//!
//! How a run goes, and why:
//! - [`Plan`] compiles the message templates (see [`crate::message::template`]); [`run`] renders and
//!   checks every message (header types, expiration, delivery mode, body size against the
//!   broker's limit read from `/api/overview`, `user_id` against the login) before the first
//!   one goes out, so bad input never leaves a run half-sent.
//! - Messages go out on one fresh channel in confirm mode, at most [`WINDOW`] unconfirmed at a
//!   time (a bounded window: while the broker blocks publishers nothing piles up beyond it),
//!   either as fast as confirms come back or paced to a rate by deadlines computed from the
//!   start (no drift from sleeping).
//! - Returns are matched to messages by Warren, not by lapin: lapin 4 hands each `basic.return`
//!   to whichever confirm of a multiple-ack batch it resolves first (a `HashMap` walk), so with
//!   pipelined confirms a routed message could be reported returned and an unroutable one
//!   confirmed. The broker sends returns in publishing order, so each return is given to the
//!   earliest acked message, after the previous returned one, whose content it carries. The
//!   counts are exact either way; identical messages are interchangeable.
//! - A channel error (404 unknown exchange, 403, 406) fails the messages awaiting a confirm
//!   with the broker's reason; the rest are reported "not sent". The next run opens a new
//!   channel, so the session needs no restart.
//! - A lost node (its connection fails, or the session sees its link go down) does not end
//!   the run: the messages whose confirm was outstanding become [`Outcome::MaybeSent`] (the
//!   broker may have taken them; re-sending would duplicate them, dropping them would lose
//!   them, so they are counted and reported, never silently re-sent), and the run goes on
//!   with the next unsent message on a channel of another healthy node of the session, at
//!   most [`MAX_FAILOVERS`] times.
//! - A plan may carry a schedule (each message's send time from the start: a replay's
//!   recorded timing): messages then go out at their times, like a rate's deadlines; how late
//!   the latest send was is in the summary.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::FutureExt;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::ShortString;
use lapin::{BasicProperties, Confirmation};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::endpoint::AuthMechanism;
use crate::error::{Error, Result};
use crate::management::ManagementClient;
use crate::message::MessageJson;
use crate::operation::{self, bounded, until_cancelled, BROKER_REPLY_WAIT};
use crate::session::{is_node_lost, ClusterSession, LinkState};

mod plan;

use plan::Limits;
pub use plan::{max_message_size, Plan};

/// What to publish. `message` is a template: `{{seq}}`, `{{uuid}}`, `{{now}}`, `{{now_ms}}`,
/// `{{now_epoch}}`, `{{random_int A B}}`, `{{random_choice a b c}}` and user `variables` may
/// appear in the body, the routing key, string properties and string header values (see
/// `crate::message::template`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishRequest {
    pub message: MessageJson,
    /// How many messages (1 when absent).
    #[serde(default = "one")]
    #[ts(type = "number")]
    pub count: u64,
    /// Messages per second; `None` sends as fast as the broker confirms.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub rate: Option<f64>,
    #[serde(default = "yes")]
    pub mandatory: bool,
    /// User variables for the template.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Read the body from this file instead of `message.body` (any size the broker accepts;
    /// not templated).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub body_file: Option<String>,
}

/// How much of a body a preview carries.
pub const PREVIEW_BODY_LIMIT: usize = 64 * 1024;

fn one() -> u64 {
    1
}

fn yes() -> bool {
    true
}

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum Outcome {
    /// The broker confirmed it and (with mandatory) routed it to at least one queue.
    Confirmed,
    /// Unroutable: the broker returned it.
    Returned { reply_code: u16, reply_text: String },
    /// The broker nacked it (it could not take responsibility for it).
    Nacked,
    /// The connection or channel failed before a confirm; the message's fate is unknown or it
    /// was never sent.
    Failed { reason: String },
    /// Sent on a node that was lost before it confirmed: the broker may or may not have the
    /// message. Not re-sent (that could duplicate it).
    MaybeSent { reason: String },
}

/// A message that did not end confirmed, for the summary.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MessageOutcome {
    /// 1-based sequence number of the message in this publish.
    #[ts(type = "number")]
    pub seq: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishProgress {
    #[ts(type = "number")]
    pub published: u64,
    #[ts(type = "number")]
    pub confirmed: u64,
    #[ts(type = "number")]
    pub returned: u64,
    #[ts(type = "number")]
    pub nacked: u64,
    #[ts(type = "number")]
    pub failed: u64,
    /// Sent on a node lost before it confirmed (see [`Outcome::MaybeSent`]).
    #[ts(type = "number")]
    pub maybe_sent: u64,
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// The broker is blocking publishers (memory or disk alarm).
    pub blocked: bool,
    pub blocked_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishSummary {
    #[ts(type = "number")]
    pub published: u64,
    #[ts(type = "number")]
    pub confirmed: u64,
    #[ts(type = "number")]
    pub returned: u64,
    #[ts(type = "number")]
    pub nacked: u64,
    #[ts(type = "number")]
    pub failed: u64,
    /// Sent on a node lost before it confirmed (see [`Outcome::MaybeSent`]).
    #[serde(default)]
    #[ts(type = "number")]
    pub maybe_sent: u64,
    /// Never sent because the run was cancelled first (they have no outcome in `problems`).
    #[serde(default)]
    #[ts(type = "number")]
    pub not_sent: u64,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Confirmed messages per second over the whole run.
    pub rate: f64,
    pub cancelled: bool,
    /// The first non-confirmed outcomes (at most 100, or all of them when the plan asks for
    /// every one), in sequence order.
    pub problems: Vec<MessageOutcome>,
    /// The node that carried the publish (the last one, after a failover).
    pub endpoint: String,
    /// How many times the run moved to another node because its node was lost.
    #[serde(default)]
    pub failovers: u32,
    /// Paced runs (a rate or a schedule): how late the latest send started after its time,
    /// in milliseconds.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub max_late_ms: Option<u64>,
}

/// Unconfirmed messages allowed in flight.
pub const WINDOW: usize = 1024;
/// The most messages one run may send (its bookkeeping grows with what it sends).
pub const MAX_COUNT: u64 = 10_000_000;
/// How long a run waits for the next confirm while some are awaited, before it takes them for
/// lost (a quorum queue's leader election can lose one) and counts them maybe sent.
pub const CONFIRM_WAIT: Duration = BROKER_REPLY_WAIT;
/// After a cancel, how long messages already sent may take to be confirmed.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// At most this many non-confirmed outcomes are listed in a summary.
const MAX_PROBLEMS: usize = 100;
/// A run moves to another node at most this many times.
pub const MAX_FAILOVERS: u32 = 5;
/// How long a failover may take to get a new channel in confirm mode.
const FAILOVER_WAIT: Duration = Duration::from_secs(15);
/// After a send is refused on a closed channel, how long the run waits for the session to
/// notice a lost node (its pings time out after `session::PING_TIMEOUT`).
const LOSS_NOTICE: Duration = Duration::from_secs(4);

/// One message as lapin sends it.
#[derive(Clone)]
struct Wire {
    exchange: ShortString,
    routing_key: ShortString,
    properties: BasicProperties,
    body: Bytes,
    fingerprint: u64,
}

/// What tells a returned message from the others of a run (see [`Tally::settle_returns`]).
/// The headers, whose values do not implement `Hash`, count by their printed form, and only
/// when there are any: printing every message's properties would cost more than the hash.
fn fingerprint(exchange: &str, routing_key: &str, props: &BasicProperties, body: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    exchange.hash(&mut h);
    routing_key.hash(&mut h);
    body.hash(&mut h);
    for s in [
        props.content_type(),
        props.content_encoding(),
        props.correlation_id(),
        props.reply_to(),
        props.expiration(),
        props.message_id(),
        props.kind(),
        props.user_id(),
        props.app_id(),
        props.cluster_id(),
    ] {
        s.hash(&mut h);
    }
    props.delivery_mode().hash(&mut h);
    props.priority().hash(&mut h);
    props.timestamp().hash(&mut h);
    if let Some(headers) = props.headers() {
        format!("{headers:?}").hash(&mut h);
    }
    h.finish()
}

impl Plan {
    fn wire(&self, seq: u64, limits: &Limits) -> Result<Wire> {
        let template = self.template(seq);
        let m = self.render(seq, SystemTime::now(), limits)?;
        let properties = m.amqp_properties()?;
        let body = match template.fixed_body() {
            Some(b) => b.clone(),
            None => Bytes::from(m.body),
        };
        Ok(Wire {
            fingerprint: fingerprint(&m.exchange, &m.routing_key, &properties, &body),
            exchange: m.exchange.into(),
            routing_key: m.routing_key.into(),
            properties,
            body,
        })
    }
}

/// Where one message stands during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotSent,
    InFlight,
    Acked,
    Returned,
    Nacked,
    Failed,
    MaybeSent,
}

struct Tally {
    state: Vec<State>,
    fingerprint: Vec<u64>,
    failures: HashMap<u64, Arc<str>>,
    /// Returned messages in arrival (= publishing) order: fingerprint, code, text.
    returns: Vec<(u64, u16, String)>,
    /// After [`Tally::settle_returns`]: the reply of each returned message.
    returned: HashMap<u64, (u16, String)>,
    published: u64,
    acks: u64,
    nacked: u64,
    failed: u64,
    maybe_sent: u64,
}

impl Tally {
    fn idx(seq: u64) -> usize {
        (seq - 1) as usize
    }

    /// Makes room for message `seq` (the bookkeeping grows as messages go out, so a large
    /// count costs nothing up front).
    fn ensure(&mut self, seq: u64) {
        let len = Tally::idx(seq) + 1;
        if self.state.len() < len {
            self.state.resize(len, State::NotSent);
            self.fingerprint.resize(len, 0);
        }
    }

    fn fail(&mut self, seq: u64, reason: &Arc<str>) {
        self.ensure(seq);
        let i = Tally::idx(seq);
        if self.state[i] != State::Failed {
            self.state[i] = State::Failed;
            self.failed += 1;
            self.failures.insert(seq, reason.clone());
        }
    }

    /// Message `seq`, sent on a node that was lost, may or may not have reached the broker.
    fn maybe_sent(&mut self, seq: u64, reason: &Arc<str>) {
        let i = Tally::idx(seq);
        if matches!(self.state[i], State::InFlight | State::NotSent) {
            self.state[i] = State::MaybeSent;
            self.maybe_sent += 1;
            self.failures.insert(seq, reason.clone());
        }
    }

    /// Gives each return to a message (see the module documentation).
    fn settle_returns(&mut self) {
        let mut cursor = 0usize;
        let returns = std::mem::take(&mut self.returns);
        let mut details: HashMap<u64, (u16, String)> = HashMap::new();
        for (fp, code, text) in returns {
            let acked = |s: &Vec<State>, i: usize| s[i] == State::Acked;
            let n = self.state.len();
            let found = (cursor..n)
                .find(|&i| acked(&self.state, i) && self.fingerprint[i] == fp)
                .or_else(|| (0..n).find(|&i| acked(&self.state, i) && self.fingerprint[i] == fp))
                .or_else(|| (cursor..n).find(|&i| acked(&self.state, i)))
                .or_else(|| (0..n).find(|&i| acked(&self.state, i)));
            if let Some(i) = found {
                self.state[i] = State::Returned;
                details.insert(i as u64 + 1, (code, text));
                cursor = i + 1;
            }
        }
        self.returned = details;
    }
}

impl Tally {
    /// Records the broker's answer for message `seq`; returns the reason of a failure.
    fn confirmed(
        &mut self,
        seq: u64,
        c: lapin::Result<Confirmation>,
        op_err: &dyn Fn(lapin::Error) -> Arc<str>,
    ) -> Option<Arc<str>> {
        let i = Tally::idx(seq);
        match c {
            Ok(Confirmation::Ack(ret)) => {
                self.state[i] = State::Acked;
                self.acks += 1;
                if let Some(r) = ret {
                    self.on_return(seq, &r);
                }
            }
            Ok(Confirmation::Nack(ret)) => {
                self.state[i] = State::Nacked;
                self.nacked += 1;
                if let Some(r) = ret {
                    self.on_return(seq, &r);
                }
            }
            Ok(Confirmation::NotRequested) => {
                self.fail(seq, &"the channel was not in confirm mode".into());
            }
            Err(e) => {
                let reason = op_err(e);
                self.fail(seq, &reason);
                return Some(reason);
            }
        }
        None
    }

    /// Keeps a `basic.return` that came with the confirm of `seq`, to be given to the message
    /// it belongs to once every return is in (see [`Tally::settle_returns`]).
    fn on_return(&mut self, seq: u64, r: &lapin::message::BasicReturnMessage) {
        let r = returned(r);
        if self.state[Tally::idx(seq)] == State::Acked && r.0 != self.fingerprint[Tally::idx(seq)] {
            tracing::debug!(
                seq,
                "lapin attached another message's return to this confirm"
            );
        }
        self.returns.push(r);
    }

    fn new(total: u64) -> Tally {
        let room = total.min(WINDOW as u64 * 4) as usize;
        Tally {
            state: Vec::with_capacity(room),
            fingerprint: Vec::with_capacity(room),
            failures: HashMap::new(),
            returns: Vec::new(),
            returned: HashMap::new(),
            published: 0,
            acks: 0,
            nacked: 0,
            failed: 0,
            maybe_sent: 0,
        }
    }

    fn progress(&self, total: u64, started: Instant, blocked: &Blocked) -> PublishProgress {
        let returned = (self.returns.len() as u64).min(self.acks);
        PublishProgress {
            published: self.published,
            confirmed: self.acks - returned,
            returned,
            nacked: self.nacked,
            failed: self.failed,
            maybe_sent: self.maybe_sent,
            total,
            elapsed_ms: started.elapsed().as_millis() as u64,
            blocked: blocked.on,
            blocked_reason: blocked.on.then(|| blocked.reason.clone()).flatten(),
        }
    }
}

#[derive(Default)]
struct Blocked {
    on: bool,
    reason: Option<String>,
    /// The link's flag as last seen, to notice its changes.
    link_flag: bool,
}

/// Why the broker blocks publishers: the nodes with a memory or disk alarm, from the API.
async fn alarm_reason(api: &ManagementClient) -> String {
    #[derive(Deserialize)]
    struct Node {
        name: String,
        #[serde(default)]
        mem_alarm: bool,
        #[serde(default)]
        disk_free_alarm: bool,
    }
    let nodes = tokio::time::timeout(
        Duration::from_secs(2),
        api.get::<Vec<Node>>("nodes?columns=name,mem_alarm,disk_free_alarm"),
    )
    .await;
    let alarms: Vec<String> = match nodes {
        Ok(Ok(nodes)) => nodes
            .iter()
            .flat_map(|n| {
                let mut a = Vec::new();
                if n.mem_alarm {
                    a.push(format!("memory alarm on {}", n.name));
                }
                if n.disk_free_alarm {
                    a.push(format!("disk alarm on {}", n.name));
                }
                a
            })
            .collect(),
        _ => Vec::new(),
    };
    if alarms.is_empty() {
        "the broker blocks publishing (a resource alarm)".to_owned()
    } else {
        format!("the broker blocks publishing: {}", alarms.join(", "))
    }
}

/// The summary of a run cancelled before it sent anything (while connecting or preparing the
/// channel): empty, and marked cancelled.
fn cancelled_before_sending(endpoint: String) -> PublishSummary {
    PublishSummary {
        cancelled: true,
        endpoint,
        ..PublishSummary::default()
    }
}

/// The message whose send has started and not yet been written to the socket.
type Sending = Option<(
    u64,
    futures_util::future::BoxFuture<'static, lapin::Result<lapin::PublisherConfirm>>,
)>;

/// The confirms awaited, oldest first, each with its message's sequence number.
///
/// They are taken in publishing order, as the broker nearly always sends them; one that comes
/// early is taken once those before it are. Only the oldest is awaited: a waker is registered
/// for it alone, and those behind it are picked up without one when it comes back. Awaiting
/// each of them would have lapin's I/O thread wake the run for every confirm, which costs more
/// than the rest of the run's work per message.
#[derive(Default)]
struct Awaiting(VecDeque<(u64, lapin::PublisherConfirm)>);

impl Awaiting {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, seq: u64, confirm: lapin::PublisherConfirm) {
        self.0.push_back((seq, confirm));
    }

    /// Waits for the oldest confirm (cancel-safe: it is taken only once it has come back).
    async fn oldest(&mut self) -> (u64, lapin::Result<Confirmation>) {
        let (seq, confirm) = self.0.front_mut().expect("only awaited while not empty");
        let seq = *seq;
        let c = confirm.await;
        self.0.pop_front();
        (seq, c)
    }

    /// The oldest confirm, if it has come back.
    fn ready(&mut self) -> Option<(u64, lapin::Result<Confirmation>)> {
        let (seq, confirm) = self.0.front_mut()?;
        let seq = *seq;
        let c = confirm.now_or_never()?;
        self.0.pop_front();
        Some((seq, c))
    }

    /// Lets go of every confirm still awaited (lapin keeps them for the channel's close).
    fn clear(&mut self) {
        self.0.clear();
    }
}

/// What the run does next, as decided by the window and the pacer.
enum Pace {
    /// A send started; decide again.
    Started,
    /// Wait for an event, or until this instant (the pacer's next slot).
    Wait(Option<tokio::time::Instant>),
    /// Nothing is sending, nothing awaits a confirm, nothing more will be sent.
    Finished,
}

/// When a run stops waiting for confirms: [`CONFIRM_WAIT`] after the last sign that the broker
/// answers (a confirm, or the first message awaited after none was), never while the broker
/// holds publishers back (an alarm is a reason to wait, and says so).
#[derive(Debug, Default)]
struct ConfirmClock {
    since: Option<tokio::time::Instant>,
}

impl ConfirmClock {
    /// A message went out while `awaited` others were awaiting their confirm.
    fn sent(&mut self, now: tokio::time::Instant, awaited: usize) {
        if awaited == 0 || self.since.is_none() {
            self.since = Some(now);
        }
    }

    /// A confirm came back, or the wait started over (publishers blocked or let go), with
    /// `awaited` confirms still awaited.
    fn answered(&mut self, now: tokio::time::Instant, awaited: usize) {
        self.since = (awaited > 0).then_some(now);
    }

    /// When the awaited confirms count as lost, unless the broker holds publishers back.
    fn deadline(&self, blocked: bool) -> Option<tokio::time::Instant> {
        self.since.filter(|_| !blocked).map(|s| s + CONFIRM_WAIT)
    }
}

/// One run under way: the messages' states, the send in progress, the confirms awaited, why
/// sending stopped, and the progress shown.
struct Run<'a, F> {
    plan: &'a Plan,
    limits: Limits<'a>,
    channel: lapin::Channel,
    /// The node carrying the run now.
    endpoint: String,
    options: BasicPublishOptions,
    /// The rendered messages when none varies (rendered once).
    fixed: Option<Vec<Wire>>,
    tally: Tally,
    blocked: Blocked,
    sending: Sending,
    inflight: Awaiting,
    confirm_clock: ConfirmClock,
    /// The next sequence number to send.
    next: u64,
    /// Why the run stopped sending early: a failed channel or connection (from a confirm)...
    fatal: Option<Arc<str>>,
    /// ... or a send that could not be written.
    send_error: Option<Arc<str>>,
    /// The node was lost (why): the run moves to another before it sends again.
    lost: Option<Arc<str>>,
    failovers: u32,
    max_late: Option<Duration>,
    cancelled: bool,
    grace_until: Option<tokio::time::Instant>,
    started: Instant,
    start_tokio: tokio::time::Instant,
    progress: operation::Progress<F>,
    session: &'a ClusterSession,
}

impl<'a, F: FnMut(PublishProgress)> Run<'a, F> {
    fn total(&self) -> u64 {
        self.plan.total
    }

    fn stopped(&self) -> bool {
        self.fatal.is_some() || self.send_error.is_some() || self.cancelled
    }

    /// A lapin error of this run's node as Warren words it.
    fn op_err(&self, e: lapin::Error) -> Arc<str> {
        self.session
            .operation_error(&self.endpoint, e)
            .to_string()
            .into()
    }

    /// When message `seq` is due, in a paced run.
    fn due_at(&self, seq: u64) -> Option<tokio::time::Instant> {
        if let Some(schedule) = &self.plan.schedule {
            return Some(self.start_tokio + schedule[Tally::idx(seq)]);
        }
        // Deadlines from the start, so that sleeping does not make the rate drift.
        self.plan
            .rate
            .map(|rate| self.start_tokio + Duration::from_secs_f64((seq - 1) as f64 / rate))
    }

    /// Starts the next send when the window and the pacer allow it.
    fn pace(&mut self) -> Pace {
        let mut due = None;
        if self.sending.is_none()
            && !self.stopped()
            && self.next <= self.total()
            && self.inflight.len() < WINDOW
        {
            let now = tokio::time::Instant::now();
            match self.due_at(self.next) {
                Some(at) if at > now => due = Some(at),
                Some(at) => {
                    let late = now - at;
                    self.max_late = Some(self.max_late.map_or(late, |m| m.max(late)));
                }
                None => {}
            }
            if due.is_none() {
                self.send();
                return Pace::Started;
            }
        }
        if self.sending.is_none()
            && self.inflight.is_empty()
            && (self.stopped() || self.next > self.total())
        {
            return Pace::Finished;
        }
        Pace::Wait(due)
    }

    /// Renders message `next` and starts writing it.
    fn send(&mut self) {
        let seq = self.next;
        self.next += 1;
        let wire = match &self.fixed {
            Some(w) => Ok(w[((seq - 1) % w.len() as u64) as usize].clone()),
            None => self.plan.wire(seq, &self.limits),
        };
        match wire {
            Ok(w) => {
                self.tally.ensure(seq);
                self.tally.fingerprint[Tally::idx(seq)] = w.fingerprint;
                let (ch, options) = (self.channel.clone(), self.options);
                self.sending = Some((
                    seq,
                    async move {
                        ch.basic_publish(w.exchange, w.routing_key, options, &w.body, w.properties)
                            .await
                    }
                    .boxed(),
                ));
            }
            // Only the clock differs from the validated render; report, go on.
            Err(e) => self.tally.fail(seq, &format!("not sent: {e}").into()),
        }
    }

    /// The send of `seq` was written (its confirm is now awaited) or failed.
    fn on_sent(&mut self, seq: u64, r: lapin::Result<lapin::PublisherConfirm>) {
        match r {
            Ok(confirm) => {
                self.tally.published += 1;
                self.tally.state[Tally::idx(seq)] = State::InFlight;
                self.confirm_clock
                    .sent(tokio::time::Instant::now(), self.inflight.len());
                self.inflight.push(seq, confirm);
                // Frames go out only while the connection is not blocked.
                if self.blocked.on && !self.blocked.link_flag {
                    self.blocked.on = false;
                }
            }
            // The node went away while the message was being written: it may have gone out.
            Err(e) if is_node_lost(&e) => {
                let reason = self.op_err(e);
                self.node_lost(Some(seq), reason);
            }
            // Not sent. The channel's state error says less than the broker's reason for
            // closing it, which the confirms awaited carry: the reason of the unsent messages
            // is chosen at the end.
            Err(e) => {
                let reason = self.op_err(e);
                self.send_error.get_or_insert(reason);
            }
        }
    }

    /// The broker answered for `seq` (a return, if any, comes with the answer).
    fn on_confirm(&mut self, seq: u64, c: lapin::Result<Confirmation>) {
        self.confirm_clock
            .answered(tokio::time::Instant::now(), self.inflight.len());
        if let Err(e) = &c {
            if is_node_lost(e) && !self.cancelled {
                let reason = self.op_err(c.expect_err("an error"));
                self.node_lost(None, reason);
                return;
            }
        }
        let session = self.session;
        let endpoint = self.endpoint.clone();
        let op_err = move |e: lapin::Error| -> Arc<str> {
            session.operation_error(&endpoint, e).to_string().into()
        };
        if let Some(reason) = self.tally.confirmed(seq, c, &op_err) {
            self.fatal.get_or_insert(reason);
        }
    }

    /// Takes the confirms that have come back, in order, up to the first still awaited (a
    /// confirm that ends the run on its node clears the rest).
    fn take_ready_confirms(&mut self) {
        while let Some((seq, c)) = self.inflight.ready() {
            self.on_confirm(seq, c);
        }
    }

    /// The node carrying the run was lost (`why`): whatever awaits its confirm, and the send
    /// `writing` if its write failed, may or may not have reached the broker. The run moves
    /// to another node before sending again (see [`Run::fail_over`]).
    fn node_lost(&mut self, writing: Option<u64>, why: Arc<str>) {
        let reason: Arc<str> = format!(
            "{why}; the node was lost before it confirmed the message, which may or may not have been delivered"
        )
        .into();
        self.unknown_fates(writing, &reason);
        self.lost.get_or_insert(why);
    }

    /// No confirm came back for [`CONFIRM_WAIT`] while some were awaited: the broker lost them
    /// (a quorum queue's leader election can) or stopped answering. Those messages may or may
    /// not have been delivered and are never sent again; the run goes on on a fresh channel,
    /// on whichever node is healthy (see [`Run::fail_over`]).
    fn confirms_timed_out(&mut self) {
        let why: Arc<str> = format!(
            "{} confirmed nothing for {} s",
            self.endpoint,
            CONFIRM_WAIT.as_secs()
        )
        .into();
        let reason: Arc<str> = format!(
            "{why} (a confirm can be lost in a leader election); the message may or may not have been delivered, and it was not sent again"
        )
        .into();
        tracing::warn!(node = %self.endpoint, "publish: confirms timed out; moving to a fresh channel");
        self.unknown_fates(None, &reason);
        // Late confirms on the old channel would answer for messages already counted.
        let old = self.channel.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(BROKER_REPLY_WAIT, old.close(200, "OK".into())).await;
        });
        self.lost.get_or_insert(why);
    }

    /// What awaits a confirm, and the send `writing` if its write failed, may or may not have
    /// reached the broker: each becomes maybe sent with `reason`, except what was confirmed
    /// meanwhile.
    fn unknown_fates(&mut self, writing: Option<u64>, reason: &Arc<str>) {
        let reason = reason.clone();
        if let Some((seq, _)) = self.sending.take() {
            self.tally.published += 1;
            self.tally.maybe_sent(seq, &reason);
        }
        if let Some(seq) = writing {
            self.tally.published += 1;
            self.tally.maybe_sent(seq, &reason);
        }
        // Confirms that already arrived keep their outcome; the rest are lost with the node.
        while let Some((seq, c)) = self.inflight.ready() {
            if c.is_ok() {
                self.on_confirm(seq, c);
            }
        }
        self.inflight.clear();
        self.confirm_clock.answered(tokio::time::Instant::now(), 0);
        for (i, s) in self.tally.state.clone().iter().enumerate() {
            if *s == State::InFlight {
                self.tally.maybe_sent(i as u64 + 1, &reason);
            }
        }
    }

    /// A send was refused without a broker's reason (the channel was no longer open) while
    /// messages remain: if the node is being lost (its link leaves the connected state within
    /// [`LOSS_NOTICE`]), the run fails over and the refused message, which was never written,
    /// is sent on the next node. Otherwise the refusal stands.
    async fn send_refused_by_lost_node(
        &mut self,
        links: &mut tokio::sync::watch::Receiver<Vec<crate::session::LinkStatus>>,
    ) -> bool {
        if self.send_error.is_none() || self.fatal.is_some() || self.cancelled {
            return false;
        }
        let endpoint = self.endpoint.clone();
        let down = |l: &Vec<crate::session::LinkStatus>| {
            l.iter()
                .any(|l| l.endpoint == endpoint && l.state != LinkState::Connected)
        };
        let lost = matches!(
            tokio::time::timeout(LOSS_NOTICE, links.wait_for(down)).await,
            Ok(Ok(_))
        );
        if lost {
            self.lost = self.send_error.take();
            // The refused message is the first one not sent: go back to it.
            if let Some(i) = self.tally.state.iter().position(|s| *s == State::NotSent) {
                self.next = self.next.min(i as u64 + 1);
            }
        }
        lost
    }

    /// Moves the run to a channel of another healthy node after its node was lost; when none
    /// can be had (or after [`MAX_FAILOVERS`]), the messages not yet sent fail with the reason.
    async fn fail_over(&mut self, cancel: &CancellationToken) {
        let Some(why) = self.lost.take() else { return };
        if self.cancelled || self.next > self.total() {
            return;
        }
        if self.failovers >= MAX_FAILOVERS {
            self.fatal = Some(format!("{why} (gave up after {MAX_FAILOVERS} failovers)").into());
            return;
        }
        self.failovers += 1;
        let lost = self.endpoint.clone();
        tracing::warn!(node = %lost, reason = %why, "publish: node lost; moving to another");
        let session = self.session;
        let attempt = async {
            let (channel, endpoint) = session.channel(CONNECT_WAIT).await?;
            match tokio::time::timeout(
                BROKER_REPLY_WAIT,
                channel.confirm_select(ConfirmSelectOptions::default()),
            )
            .await
            {
                Ok(Ok(())) => Ok((channel, endpoint)),
                Ok(Err(e)) => Err(session.operation_error(&endpoint, e)),
                Err(_) => Err(Error::Timeout {
                    endpoint,
                    after: BROKER_REPLY_WAIT,
                }),
            }
        };
        match until_cancelled(cancel, tokio::time::timeout(FAILOVER_WAIT, attempt)).await {
            Ok(Ok(Ok((channel, endpoint)))) => {
                self.channel = channel;
                self.endpoint = endpoint;
            }
            Ok(Ok(Err(e))) => {
                self.fatal = Some(format!("{why}; no other node took over: {e}").into());
            }
            Ok(Err(_)) => {
                self.fatal = Some(
                    format!(
                        "{why}; no other node took over within {} s",
                        FAILOVER_WAIT.as_secs()
                    )
                    .into(),
                );
            }
            Err(_) => self.on_cancel(),
        }
    }

    /// No confirm came back for [`CONFIRM_WAIT`] while some were awaited (see [`ConfirmClock`]).
    fn confirms_overdue(&self) -> bool {
        if self.cancelled || self.inflight.is_empty() {
            return false;
        }
        self.confirm_clock
            .deadline(self.blocked.on)
            .is_some_and(|d| d <= tokio::time::Instant::now())
    }

    fn on_cancel(&mut self) {
        self.cancelled = true;
        self.grace_until = Some(tokio::time::Instant::now() + CANCEL_GRACE);
    }

    /// The grace after a cancel is over: what is confirmed by now keeps its outcome, the
    /// rest cannot be known.
    fn on_grace_over(&mut self) {
        let reason: Arc<str> =
            "cancelled before the broker confirmed it; it may or may not have been delivered"
                .into();
        if let Some((seq, _)) = self.sending.take() {
            self.tally.published += 1;
            self.tally.fail(seq, &reason);
        }
        self.take_ready_confirms();
        for (i, s) in self.tally.state.clone().iter().enumerate() {
            if *s == State::InFlight {
                self.tally.fail(i as u64 + 1, &reason);
            }
        }
    }

    /// The link carrying the run changed: follow the broker's blocking of publishers, and
    /// notice a lost node (unless publishers are blocked: a blocked connection cannot write
    /// pings, so the session may call it down while it is merely held back).
    async fn on_link(&mut self, link: Option<(bool, LinkState)>, api: &ManagementClient) {
        let Some((flag, state)) = link else { return };
        if matches!(state, LinkState::Down | LinkState::Connecting)
            && !self.blocked.on
            && !self.blocked.link_flag
            && !self.cancelled
            && self.lost.is_none()
        {
            let why: Arc<str> = format!("the connection to {} was lost", self.endpoint).into();
            self.node_lost(None, why);
            return;
        }
        if flag && !self.blocked.link_flag {
            self.blocked.on = true;
            self.blocked.reason = Some(alarm_reason(api).await);
        } else if !flag && self.blocked.link_flag && state == LinkState::Connected {
            self.blocked.on = false;
        }
        // A blocked connection cannot even write pings, so the session may call the link
        // down; the alarm is still what holds the messages back.
        self.blocked.link_flag = flag;
        // Blocked or let go, the wait for confirms starts over.
        self.confirm_clock
            .answered(tokio::time::Instant::now(), self.inflight.len());
    }

    fn snapshot(&self) -> PublishProgress {
        self.tally
            .progress(self.total(), self.started, &self.blocked)
    }

    /// Passes progress on when it is due (see [`operation::Progress`]).
    fn report(&mut self) {
        if self.progress.due() {
            let p = self.snapshot();
            self.progress.update(p);
        }
    }

    /// Gives every message its outcome and the run its summary, after the last event.
    fn finish(mut self, elapsed: Duration) -> PublishSummary {
        let total = self.total();
        let tally = &mut self.tally;
        // Messages never sent because the channel or connection failed.
        // Messages past the bookkeeping were never sent.
        let tracked = tally.state.len() as u64;
        let untracked = total - tracked;
        let mut not_sent_reason: Option<Arc<str>> = None;
        if let Some(reason) = self.fatal.as_ref().or(self.send_error.as_ref()) {
            let not_sent: Arc<str> = format!("not sent: {reason}").into();
            for seq in 1..=tracked {
                if tally.state[Tally::idx(seq)] == State::NotSent {
                    tally.fail(seq, &not_sent);
                }
            }
            not_sent_reason = Some(not_sent);
        }
        tally.settle_returns();
        let mut summary = PublishSummary {
            published: tally.published,
            elapsed_ms: elapsed.as_millis() as u64,
            cancelled: self.cancelled,
            endpoint: self.endpoint.clone(),
            failovers: self.failovers,
            max_late_ms: self.max_late.map(|d| d.as_millis() as u64),
            ..PublishSummary::default()
        };
        let max_problems = if self.plan.every_problem {
            usize::MAX
        } else {
            MAX_PROBLEMS
        };
        for (i, s) in tally.state.iter().enumerate() {
            let seq = i as u64 + 1;
            let outcome = match s {
                State::Acked => {
                    summary.confirmed += 1;
                    continue;
                }
                State::NotSent | State::InFlight => {
                    summary.not_sent += 1;
                    continue;
                }
                State::MaybeSent => {
                    summary.maybe_sent += 1;
                    Outcome::MaybeSent {
                        reason: tally
                            .failures
                            .get(&seq)
                            .map(|r| r.to_string())
                            .unwrap_or_default(),
                    }
                }
                State::Returned => {
                    summary.returned += 1;
                    let (reply_code, reply_text) = tally.returned.remove(&seq).unwrap_or_default();
                    Outcome::Returned {
                        reply_code,
                        reply_text,
                    }
                }
                State::Nacked => {
                    summary.nacked += 1;
                    Outcome::Nacked
                }
                State::Failed => {
                    summary.failed += 1;
                    Outcome::Failed {
                        reason: tally
                            .failures
                            .get(&seq)
                            .map(|r| r.to_string())
                            .unwrap_or_default(),
                    }
                }
            };
            if summary.problems.len() < max_problems {
                summary.problems.push(MessageOutcome { seq, outcome });
            }
        }
        match &not_sent_reason {
            Some(reason) => {
                summary.failed += untracked;
                for seq in tracked + 1..=total {
                    if summary.problems.len() >= max_problems {
                        break;
                    }
                    summary.problems.push(MessageOutcome {
                        seq,
                        outcome: Outcome::Failed {
                            reason: reason.to_string(),
                        },
                    });
                }
            }
            None => summary.not_sent += untracked,
        }
        summary.rate = if elapsed.as_secs_f64() > 0.0 {
            summary.confirmed as f64 / elapsed.as_secs_f64()
        } else {
            0.0
        };
        let mut last = self.snapshot();
        last.confirmed = summary.confirmed;
        last.returned = summary.returned;
        last.failed = summary.failed;
        last.maybe_sent = summary.maybe_sent;
        last.blocked = false;
        last.blocked_reason = None;
        self.progress.milestone(last);
        summary
    }
}

/// Waits for the send in progress to be written.
async fn written(sending: &mut Sending) -> (u64, lapin::Result<lapin::PublisherConfirm>) {
    let (seq, send) = sending.as_mut().expect("only polled while sending");
    let r = send.await;
    (*seq, r)
}

/// Runs a publish on `session` (`api` reads the broker's size limit and, while it blocks
/// publishers, why): checks every message, then sends them on one channel of a connected
/// node with confirms; `on_progress` gets throttled progress (see [`operation::Progress`])
/// and the final figures. Errors before the first message is sent (bad input, no node, a
/// refused channel) are returned as `Err`; from then on every message ends in the summary as
/// exactly one [`Outcome`]. Cancelling stops sending; messages already sent are given
/// [`CANCEL_GRACE`] to be confirmed. A cancel before anything is sent ends the run with an
/// empty summary marked cancelled.
pub async fn run(
    session: &ClusterSession,
    api: &ManagementClient,
    plan: &Plan,
    cancel: CancellationToken,
    on_progress: impl FnMut(PublishProgress),
) -> Result<PublishSummary> {
    // The user the broker logs Warren in as; with EXTERNAL the client certificate names it and
    // Warren does not know it, so a `user_id` is left for the broker to judge.
    let user = match session.target().auth {
        AuthMechanism::Password => Some(session.target().amqp_credentials.username.clone()),
        AuthMechanism::External => None,
    };
    let Ok(max_body) = until_cancelled(&cancel, max_message_size(api)).await else {
        return Ok(cancelled_before_sending(String::new()));
    };
    let limits = Limits {
        max_body,
        user: user.as_deref(),
        with_fixed_body: false,
    };
    // Every message is checked before the first goes out. Messages that do not vary are
    // rendered once, here, and those renders are what is sent; messages that vary are
    // rendered here to check them and again when each is sent (see `message::template`).
    let fixed: Option<Vec<Wire>> = if plan.all_static() {
        Some(
            (1..=(plan.templates.len() as u64).min(plan.total))
                .map(|seq| plan.wire(seq, &limits))
                .collect::<Result<_>>()?,
        )
    } else {
        plan.validate(max_body, user.as_deref())?;
        None
    };
    let (channel, endpoint) = match until_cancelled(&cancel, session.channel(CONNECT_WAIT)).await {
        Ok(c) => c?,
        Err(_) => return Ok(cancelled_before_sending(String::new())),
    };
    let selected = bounded(
        &cancel,
        &endpoint,
        BROKER_REPLY_WAIT,
        channel.confirm_select(ConfirmSelectOptions::default()),
        |e| session.operation_error(&endpoint, e),
    )
    .await;
    match selected {
        Ok(()) => {}
        Err(e) => {
            if channel.status().connected() {
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), channel.close(200, "OK".into()))
                        .await;
            }
            return match e {
                Error::Cancelled => Ok(cancelled_before_sending(endpoint)),
                e => Err(e),
            };
        }
    }
    let total = plan.total;
    let mut links = session.watch_links();
    let mut run = Run {
        plan,
        limits,
        channel,
        endpoint,
        options: BasicPublishOptions {
            mandatory: plan.mandatory,
            immediate: false,
        },
        fixed,
        tally: Tally::new(total),
        blocked: Blocked::default(),
        sending: None,
        inflight: Awaiting::default(),
        confirm_clock: ConfirmClock::default(),
        next: 1,
        fatal: None,
        send_error: None,
        lost: None,
        failovers: 0,
        max_late: None,
        cancelled: false,
        grace_until: None,
        started: Instant::now(),
        start_tokio: tokio::time::Instant::now(),
        progress: operation::Progress::new(on_progress),
        session,
    };
    let mut ticker = tokio::time::interval(operation::PROGRESS_EVERY);
    let first = run.snapshot();
    run.progress.milestone(first);
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);

    loop {
        if run.lost.is_some() {
            run.fail_over(&cancel).await;
            continue;
        }
        let due = match run.pace() {
            Pace::Started => continue,
            Pace::Finished => {
                if run.send_refused_by_lost_node(&mut links).await {
                    continue;
                }
                break;
            }
            Pace::Wait(due) => due,
        };
        run.report();
        tokio::select! {
            biased;
            (seq, r) = written(&mut run.sending), if run.sending.is_some() => {
                run.sending = None;
                run.on_sent(seq, r);
            }
            (seq, c) = run.inflight.oldest(), if !run.inflight.is_empty() => {
                run.on_confirm(seq, c);
                run.take_ready_confirms();
            }
            () = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => {}
            () = &mut cancelled, if !run.cancelled => run.on_cancel(),
            () = tokio::time::sleep_until(run.grace_until.unwrap_or_else(tokio::time::Instant::now)), if run.grace_until.is_some() => {
                run.on_grace_over();
                break;
            }
            changed = links.changed() => {
                if changed.is_err() {
                    continue;
                }
                let link = links
                    .borrow_and_update()
                    .iter()
                    .find(|l| l.endpoint == run.endpoint)
                    .map(|l| (l.blocked, l.state));
                run.on_link(link, api).await;
            }
            // The wait for confirms is checked at each tick, not with a timer of its own: a
            // timer set and dropped for every message costs the run more than the check.
            _ = ticker.tick() => {
                if run.confirms_overdue() {
                    run.confirms_timed_out();
                }
            }
        }
    }
    let elapsed = run.started.elapsed();
    run.sending = None;
    run.inflight.clear();
    if run.channel.status().connected() {
        let _ =
            tokio::time::timeout(Duration::from_secs(2), run.channel.close(200, "OK".into())).await;
    }
    Ok(run.finish(elapsed))
}

fn returned(r: &lapin::message::BasicReturnMessage) -> (u64, u16, String) {
    let d = &r.delivery;
    (
        fingerprint(
            d.exchange.as_str(),
            d.routing_key.as_str(),
            &d.properties,
            &d.data,
        ),
        r.reply_code,
        r.reply_text.as_str().to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(fingerprints: &[u64]) -> Tally {
        let mut t = Tally::new(fingerprints.len() as u64);
        t.fingerprint = fingerprints.to_vec();
        t.state = vec![State::Acked; fingerprints.len()];
        t
    }

    #[test]
    fn returns_go_to_the_message_whose_content_they_carry_in_order() {
        // Messages 2 and 4 (content 20 and 40) came back, whichever confirm carried them.
        let mut t = tally(&[10, 20, 30, 40]);
        t.returns = vec![(20, 312, "NO_ROUTE".into()), (40, 312, "NO_ROUTE".into())];
        t.settle_returns();
        let states: Vec<bool> = t.state.iter().map(|s| *s == State::Returned).collect();
        assert_eq!(states, [false, true, false, true]);
        assert_eq!(t.returned[&2], (312, "NO_ROUTE".to_owned()));
        // Identical messages: returns are given in order, each message at most once.
        let mut t = tally(&[7, 7, 7]);
        t.state[1] = State::Nacked;
        t.returns = vec![(7, 312, "NO_ROUTE".into()), (7, 312, "NO_ROUTE".into())];
        t.settle_returns();
        assert!(t.state[0] == State::Returned && t.state[2] == State::Returned);
        // A return whose content matches nothing still counts, on the next acked message.
        let mut t = tally(&[1, 2]);
        t.returns = vec![(99, 312, "NO_ROUTE".into())];
        t.settle_returns();
        assert!(t.state[0] == State::Returned && t.state[1] == State::Acked);
    }

    #[test]
    fn the_bookkeeping_grows_with_what_is_sent_not_with_the_count() {
        let mut t = Tally::new(MAX_COUNT);
        assert!(
            t.state.capacity() <= WINDOW * 4,
            "nothing per message up front"
        );
        t.ensure(3);
        assert_eq!(t.state.len(), 3);
        t.fail(5, &"x".into());
        assert_eq!(t.state.len(), 5);
        assert_eq!(t.state[4], State::Failed);
        assert_eq!(t.state[3], State::NotSent);
    }

    #[test]
    fn awaited_confirms_that_time_out_become_maybe_sent_once() {
        let mut t = Tally::new(4);
        for seq in 1..=3 {
            t.ensure(seq);
            t.state[Tally::idx(seq)] = State::InFlight;
        }
        t.state[0] = State::Acked;
        t.acks = 1;
        let reason: Arc<str> = "confirmed nothing".into();
        for seq in 1..=3 {
            t.maybe_sent(seq, &reason);
        }
        // The acknowledged one keeps its outcome; the two awaited are maybe sent, once each.
        assert_eq!(t.maybe_sent, 2);
        t.maybe_sent(2, &reason);
        assert_eq!(t.maybe_sent, 2, "counted once");
        assert_eq!(
            t.state[..3],
            [State::Acked, State::MaybeSent, State::MaybeSent]
        );
    }

    #[test]
    fn the_confirm_clock_runs_only_while_confirms_are_awaited_and_publishers_are_not_held() {
        let t0 = tokio::time::Instant::now();
        let later = |s: u64| t0 + Duration::from_secs(s);
        let mut c = ConfirmClock::default();
        assert_eq!(c.deadline(false), None, "nothing awaited");
        c.sent(t0, 0);
        assert_eq!(c.deadline(false), Some(t0 + CONFIRM_WAIT));
        // More sends while the first is awaited do not move the deadline...
        c.sent(later(5), 1);
        assert_eq!(c.deadline(false), Some(t0 + CONFIRM_WAIT));
        // ... a confirm does.
        c.answered(later(6), 1);
        assert_eq!(c.deadline(false), Some(later(6) + CONFIRM_WAIT));
        // Held back by an alarm: no deadline.
        assert_eq!(c.deadline(true), None);
        // Every confirm in: nothing to wait for; the next send starts the wait afresh.
        c.answered(later(7), 0);
        assert_eq!(c.deadline(false), None);
        c.sent(later(100), 0);
        assert_eq!(c.deadline(false), Some(later(100) + CONFIRM_WAIT));
    }
}
