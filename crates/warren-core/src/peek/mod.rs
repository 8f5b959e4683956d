//! Peek: read messages from the head of a queue and leave the queue as it was.
//!
//! Why this is more than `basic.get`: every way of reading a queue without consuming it has a
//! cost that depends on the queue type and the broker version, and the costs are invisible in
//! the management UI's "get messages". So a peek first makes a [`PeekPlan`] (a pure function of
//! the queue's type, the broker version and the queue's delivery limit) that says which method
//! it will use and what, if anything, that changes; only then does it run.
//!
//! - Classic (and mirrored classic) queues: consume with a prefetch window of exactly the count
//!   (past 65,535, several consumers in turn: see `window`), never ack, then return everything
//!   at once with one `basic.nack(multiple, requeue)` per consumer. Requeued messages go
//!   back to their original positions; they come back marked `redelivered`. Requeueing inside
//!   the loop would hand us the same message again.
//! - Quorum queues before 4.3: a nack-requeue puts a message at the back of the queue (3.x) or
//!   counts toward the delivery limit (4.0-4.2). Closing the channel instead returns the held
//!   messages to the front, in order, but still counts as a delivery attempt: the delivery
//!   count of every peeked message grows by one, and a message over the limit is dropped or
//!   dead-lettered. That is a side effect: the app asks first, the CLI refuses without
//!   `--allow-side-effects`.
//! - Quorum queues on 4.3+: a nack-requeue no longer counts toward the limit and returned
//!   messages are served first, so nack is harmless apart from the redelivered flag.
//! - Streams: a consumer with `x-stream-offset` and a prefetch; reading changes nothing.
//!
//! A 404 from the broker is "no such queue" only when it says so: see `absent`.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::broker::QueueType;
use crate::error::{Error, Result};
use crate::management::ManagementClient;
use crate::message::{budget, Message};
use crate::operation::{self, bounded, until_cancelled, BROKER_REPLY_WAIT};
use crate::queues;
use crate::session::{ClusterSession, LinkStatus, PING_INTERVAL, PING_TIMEOUT};

pub(crate) mod absent;
mod plan;
mod window;

pub use plan::{plan, EffectKind, PeekEffect, PeekMethod, PeekPlan};

/// The most messages one peek may hold (they are all unacknowledged at once).
pub const MAX_PEEK: u32 = 100_000;

/// How long a peek waits for the next message before deciding the queue has no more.
pub const DEFAULT_IDLE: Duration = Duration::from_millis(1000);

/// How long a peek that has read as many messages as the queue said it held waits for more
/// before deciding it has them all. The count a passive declare gives is a reading that may
/// trail the queue, so the peek does not stop at it outright; but waiting the whole idle time
/// would only catch new arrivals.
const PAST_READY_WAIT: Duration = Duration::from_millis(200);

/// How long after its last delivery a peek that has fewer messages than the queue said it
/// held waits, at most, before saying the queue had no more: long enough for the session's
/// pings to give up a node that stopped answering. A ping the node answers in the meantime
/// ends the wait (the queue had no more: another consumer took them, they expired).
const PING_VERDICT: Duration = PING_INTERVAL
    .saturating_add(PING_TIMEOUT)
    .saturating_add(Duration::from_millis(500));

/// How long to wait for a connected node.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Where a stream peek starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
#[ts(export)]
pub enum StreamOffset {
    First,
    Last,
    Next,
    /// A numeric offset.
    Offset(#[ts(type = "number")] u64),
    /// Unix epoch seconds: the first chunk written at or after it.
    Timestamp(#[ts(type = "number")] i64),
}

impl StreamOffset {
    /// Parses the CLI's `first|last|next|N|TIME|DURATION`: a number is an offset; an RFC 3339
    /// time, a date (midnight UTC) or `@SECONDS` is a timestamp; a duration (`10m`, `2h`,
    /// `1d`) is that long ago.
    pub fn parse(s: &str) -> Result<StreamOffset> {
        StreamOffset::parse_at(s, crate::time::now())
    }

    /// [`parse`](Self::parse) with "now" given, for durations.
    pub fn parse_at(s: &str, now: jiff::Timestamp) -> Result<StreamOffset> {
        let bad = || {
            Error::invalid(
                "offset",
                format!("\"{s}\" is not first, last, next, a number, @EPOCH-SECONDS, an RFC 3339 time, a date or a duration ago such as 10m"),
            )
        };
        Ok(match s {
            "first" => StreamOffset::First,
            "last" => StreamOffset::Last,
            "next" => StreamOffset::Next,
            _ if s.starts_with('@') => StreamOffset::Timestamp(s[1..].parse().map_err(|_| bad())?),
            _ if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                StreamOffset::Offset(s.parse().map_err(|_| bad())?)
            }
            // A time or a date starts with its four-digit year.
            _ if s.len() >= 10 && s.as_bytes()[4] == b'-' => StreamOffset::Timestamp(
                crate::time::parse_instant_ms(s)
                    .map_err(|why| Error::invalid("offset", why))?
                    .div_euclid(1000),
            ),
            // A bare number that is not an offset (`1.5`) is no duration either: say the unit.
            _ if s.parse::<f64>().is_ok() => return Err(bad()),
            _ => {
                let ago =
                    crate::time::parse_duration(s, Duration::from_secs(1)).map_err(|_| bad())?;
                StreamOffset::Timestamp(crate::time::seconds_ago(ago, now)?)
            }
        })
    }

    pub(crate) fn argument(&self) -> AMQPValue {
        match self {
            StreamOffset::First => AMQPValue::LongString(LongString::from("first")),
            StreamOffset::Last => AMQPValue::LongString(LongString::from("last")),
            StreamOffset::Next => AMQPValue::LongString(LongString::from("next")),
            StreamOffset::Offset(n) => AMQPValue::LongLongInt(*n as i64),
            StreamOffset::Timestamp(t) => AMQPValue::Timestamp(*t as u64),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PeekRequest {
    pub vhost: String,
    pub queue: String,
    pub count: u32,
    /// Streams only; `first` when absent.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub offset: Option<StreamOffset>,
    /// Go ahead even when the plan says the peek changes the queue.
    #[serde(default)]
    pub allow_side_effects: bool,
    /// Bytes of bodies and headers the peek may hold ([`budget::DEFAULT_BUDGET_BYTES`] when
    /// absent): a message that would go past it is not taken, and the peek ends there.
    #[serde(default)]
    #[ts(optional = nullable, type = "number")]
    pub budget_bytes: Option<u64>,
}

/// Progress of a running peek.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PeekProgress {
    pub received: u32,
    /// How many the peek expects: the count asked for, or fewer when the queue holds fewer.
    pub expected: u32,
    pub phase: PeekPhase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PeekPhase {
    Receiving,
    Returning,
    Done,
}

/// One peeked message with what the broker said about its delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeekedMessage {
    /// 1-based position in the queue at the time of the peek.
    pub position: u32,
    #[serde(flatten)]
    pub message: Message,
    pub redelivered: bool,
    /// The stream offset (streams only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// `x-delivery-count` as delivered (quorum queues), before this peek's return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_count: Option<u64>,
    /// When the peek received it (Unix epoch milliseconds): what a collection records as
    /// `recorded_at`, however much later the message is saved into one.
    #[serde(skip)]
    pub received_at_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PeekEnd {
    /// As many messages as asked for.
    CountReached,
    /// The queue held fewer (or no more arrived within the idle time, for streams).
    QueueExhausted,
    Cancelled,
    /// The next message would have taken the held messages past the memory budget; it and
    /// the ones after it were left in the queue.
    BudgetReached,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PeekReport {
    pub plan: PeekPlan,
    pub received: u32,
    pub end: PeekEnd,
    /// The node whose connection carried the peek.
    pub endpoint: String,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Bytes of bodies and headers held (see [`budget::held_bytes`]).
    #[ts(type = "number")]
    pub held_bytes: u64,
    /// The budget the peek ran with.
    #[ts(type = "number")]
    pub budget_bytes: u64,
    /// Set when the connection was gone by the time the peek gave its messages back (its
    /// node lost): the broker requeued them itself. One sentence for the user, saying what
    /// that changes; the messages are all still in the queue.
    pub returned_by_broker: Option<String>,
}

impl PeekReport {
    /// Why the peek held fewer than asked for, when the budget is the reason: one sentence
    /// for the user.
    pub fn budget_note(&self) -> Option<String> {
        (self.end == PeekEnd::BudgetReached).then(|| {
            format!(
                "stopped at {} messages ({}): the next would have gone past the memory budget of {}; \
                 it and the rest are still in the queue (raise the budget to see more)",
                self.received,
                budget::human_bytes(self.held_bytes),
                budget::human_bytes(self.budget_bytes),
            )
        })
    }
}

/// Reads the queue's detail and makes the plan. The ready and consumer counts come from the
/// queue itself (a passive declare), since the management API's lag a statistics interval.
pub async fn make_plan(
    session: &ClusterSession,
    api: &ManagementClient,
    request: &PeekRequest,
) -> Result<PeekPlan> {
    check_request(request)?;
    let mut detail = match queues::detail(api, &request.vhost, &request.queue).await {
        Err(not_listed @ Error::QueueNotFound { .. }) => {
            return Err(unlisted_queue(session, request, not_listed).await)
        }
        other => other?,
    };
    let name = request.queue.clone();
    // The exact counts are a refinement: a broker that does not answer in time leaves the
    // API's figures in place.
    let exact = tokio::time::timeout(
        CONNECT_WAIT + BROKER_REPLY_WAIT,
        session.run(CONNECT_WAIT, |ch| {
            let name = name.clone();
            async move {
                ch.queue_declare(
                    name.as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
            }
        }),
    )
    .await;
    if let Ok(Ok(q)) = exact {
        if detail.row.queue_type != QueueType::Stream {
            detail.row.messages_ready = Some(u64::from(q.message_count()));
        }
        detail.row.consumers = Some(u64::from(q.consumer_count()));
    }
    Ok(plan(&detail, request.count))
}

/// Why the management API did not list the queue. It leaves out a durable classic queue whose
/// home node is down (3.x), so its 404 alone would send the user looking for a typo; the
/// broker's own answer to a passive declare tells a missing queue from one that cannot be
/// reached. Anything but a readable 404 keeps the API's `not_listed`.
async fn unlisted_queue(
    session: &ClusterSession,
    request: &PeekRequest,
    not_listed: Error,
) -> Error {
    let declared = tokio::time::timeout(CONNECT_WAIT + BROKER_REPLY_WAIT, async {
        let (channel, _) = session.channel(CONNECT_WAIT).await?;
        let reply = tokio::time::timeout(
            BROKER_REPLY_WAIT,
            channel.queue_declare(
                request.queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            ),
        )
        .await;
        // A 404 has closed the channel already; otherwise close it here.
        let _ = channel.close(200, "".into()).await;
        Ok::<_, Error>(reply)
    })
    .await;
    match declared {
        Ok(Ok(Ok(Err(e)))) => match e.kind() {
            lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == 404 => {
                absent::not_found(amqp.get_message().as_str(), &request.vhost, &request.queue)
            }
            _ => not_listed,
        },
        _ => not_listed,
    }
}

fn check_request(r: &PeekRequest) -> Result<()> {
    if r.count == 0 || r.count > MAX_PEEK {
        return Err(Error::invalid("count", format!("must be 1 to {MAX_PEEK}")));
    }
    if r.queue.is_empty() {
        return Err(Error::invalid("queue", "a queue name is needed"));
    }
    if r.queue.len() > 255 {
        return Err(Error::invalid("queue", "is longer than 255 bytes"));
    }
    budget::check(r.budget_bytes)?;
    Ok(())
}

pub(crate) fn header_u64(props: &lapin::BasicProperties, key: &str) -> Option<u64> {
    match props.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongLongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortShortUInt(n) => Some(u64::from(*n)),
        AMQPValue::Timestamp(n) => Some(*n),
        _ => None,
    }
}

/// Runs a peek on `session` (`api` reads the queue's detail): makes the plan, refuses when it
/// needs consent that was not given, reads, and returns what it held. `on_message` sees each
/// message as it arrives (in queue order); `on_progress` gets throttled progress and every
/// phase change (see [`operation::Progress`]).
///
/// Cancelling `cancel` while reading stops it and returns what is held, leaving the queue
/// intact: the report then says [`PeekEnd::Cancelled`]. Cancelling before anything is held
/// (while planning, connecting or declaring) ends the peek with [`Error::Cancelled`].
pub async fn run(
    session: &ClusterSession,
    api: &ManagementClient,
    request: &PeekRequest,
    idle: Duration,
    cancel: CancellationToken,
    on_message: impl FnMut(PeekedMessage) -> Result<()>,
    on_progress: impl FnMut(PeekProgress),
) -> Result<PeekReport> {
    let started = std::time::Instant::now();
    let mut progress = operation::Progress::new(on_progress);
    let plan = until_cancelled(&cancel, make_plan(session, api, request)).await??;
    if !plan.harmless && !request.allow_side_effects {
        return Err(Error::NeedsConsent {
            what: format!("peeking quorum queue \"{}\"", request.queue),
            effects: plan.consent_summary(),
        });
    }
    let held = hold(
        session,
        plan,
        request,
        idle,
        &cancel,
        on_message,
        &mut progress,
    )
    .await?;
    let (received, expected) = (held.received, held.expected);
    progress.milestone(PeekProgress {
        received,
        expected,
        phase: PeekPhase::Returning,
    });
    let mut report = held.give_back(session).await?;
    // The whole peek, its plan included.
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    progress.milestone(PeekProgress {
        received,
        expected,
        phase: PeekPhase::Done,
    });
    Ok(report)
}

/// Messages read from a queue and held (delivered, not acknowledged) on their channel, until
/// [`Holding::give_back`] returns what was not acknowledged. What peek and the message
/// operations (which acknowledge some of the held messages first) share.
pub(crate) struct Holding {
    pub(crate) plan: PeekPlan,
    pub(crate) channel: lapin::Channel,
    pub(crate) endpoint: String,
    /// The delivery tag of each held message, in queue order (index 0: position 1).
    pub(crate) tags: Vec<u64>,
    pub(crate) received: u32,
    pub(crate) expected: u32,
    pub(crate) end: PeekEnd,
    held_bytes: u64,
    budget_bytes: u64,
    /// The last delivery tag of each consumer, in the order they were opened.
    last_tags: Vec<u64>,
    /// Tags acknowledged through [`Holding::ack`].
    acked: std::collections::HashSet<u64>,
    consumers: Vec<(ShortString, lapin::Consumer)>,
    started: std::time::Instant,
    given_back: bool,
}

/// Reads up to `request.count` messages as `plan` says (made by [`make_plan`]; consent is the
/// caller's to check) and keeps them held. `on_message` sees each message as it arrives;
/// progress goes to `progress`. An error while reading gives everything back first. A cancel
/// while reading stops it: the holding then says [`PeekEnd::Cancelled`].
pub(crate) async fn hold<F: FnMut(PeekProgress)>(
    session: &ClusterSession,
    plan: PeekPlan,
    request: &PeekRequest,
    idle: Duration,
    cancel: &CancellationToken,
    mut on_message: impl FnMut(PeekedMessage) -> Result<()>,
    progress: &mut operation::Progress<F>,
) -> Result<Holding> {
    let started = std::time::Instant::now();
    let cancel = cancel.clone();
    let (channel, endpoint) = until_cancelled(&cancel, session.channel(CONNECT_WAIT)).await??;
    let op_err = |e: lapin::Error| match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == 404 => {
            absent::not_found(amqp.get_message().as_str(), &request.vhost, &request.queue)
        }
        _ => session.operation_error(&endpoint, e),
    };
    // Every request to the broker below gives up on cancel or after BROKER_REPLY_WAIT.
    let queue: ShortString = request.queue.as_str().into();
    // The exact number of ready messages, from the queue itself (the API's figure lags).
    let ready: Result<Option<u32>> = if plan.method == PeekMethod::StreamOffset {
        Ok(None)
    } else {
        bounded(
            &cancel,
            &endpoint,
            BROKER_REPLY_WAIT,
            channel.queue_declare(
                queue.clone(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            ),
            op_err,
        )
        .await
        .map(|q| Some(q.message_count()))
    };
    let ready = match ready {
        Ok(ready) => ready,
        Err(e) => {
            // Nothing is held yet; the channel only has to go.
            close_quietly(&channel).await;
            return Err(e);
        }
    };
    let mut expected = ready.map_or(request.count, |r| r.min(request.count));
    let stream = plan.method == PeekMethod::StreamOffset;
    let mut args = FieldTable::default();
    if stream {
        let offset = request.offset.clone().unwrap_or(StreamOffset::First);
        args.insert("x-stream-offset".into(), offset.argument());
    }
    let stamp = crate::session::now_ms();
    let budget_bytes = budget::check(request.budget_bytes)?;
    let mut held_bytes: u64 = 0;
    let mut received: u32 = 0;
    // The consumers opened, in order (kept until the end: dropping one cancels it), and the
    // last delivery tag of each that received anything.
    let mut consumers: Vec<(ShortString, lapin::Consumer)> = Vec::new();
    let mut last_tags: Vec<u64> = Vec::new();
    let mut tags: Vec<u64> = Vec::new();
    let mut end = PeekEnd::CountReached;
    let mut links = session.watch_links();
    let mut alive = session.watch_links();
    let mut awaited_verdict = false;
    let mut verdict_pending = false;
    let mut verdict_from = std::time::Instant::now();
    let mut wait_more = Duration::ZERO;
    progress.milestone(PeekProgress {
        received: 0,
        expected,
        phase: PeekPhase::Receiving,
    });
    let reading = async {
        // What each consumer may hold: exactly the count in all, so that no message after them
        // reaches the peek (not the ready count: it can lag behind the queue), each window cut
        // to what the budget has room for (see `window`).
        let mut largest = crate::broker::max_message_size(crate::broker::BrokerVersion::parse(
            plan.broker_version.as_deref(),
        )) as u64;
        for i in 0.. {
            let Some(window) = window::next_window(
                plan.method,
                request.count,
                received,
                budget_bytes - held_bytes,
                largest,
            ) else {
                break;
            };
            // A consumer is opened only once the one before it holds all it may, so it gets
            // the messages after that one's.
            let qos = bounded(
                &cancel,
                &endpoint,
                BROKER_REPLY_WAIT,
                channel.basic_qos(window, BasicQosOptions { global: false }),
                op_err,
            )
            .await;
            // Tags sort in the order the consumers were opened.
            let tag: ShortString = format!("warren-peek-{stamp}-{i:03}").into();
            let consume = match qos {
                Ok(()) => {
                    bounded(
                        &cancel,
                        &endpoint,
                        BROKER_REPLY_WAIT,
                        channel.basic_consume(
                            queue.clone(),
                            tag.clone(),
                            BasicConsumeOptions::default(),
                            args.clone(),
                        ),
                        op_err,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match consume {
                Err(Error::Cancelled) => {
                    end = PeekEnd::Cancelled;
                    return Ok(());
                }
                other => consumers.push((tag, other?)),
            }
            let consumer = &mut consumers.last_mut().expect("just pushed").1;
            // A held consumer reads its window; a stream's reads the whole count.
            let quota = if stream {
                request.count
            } else {
                u32::from(window)
            };
            let mut got: u32 = 0;
            while got < quota {
                // Past what the queue said it held, more come only if that figure lagged.
                let wait = if wait_more > Duration::ZERO {
                    std::mem::take(&mut wait_more)
                } else if received >= expected {
                    idle.min(PAST_READY_WAIT)
                } else {
                    idle
                };
                let next = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => { end = PeekEnd::Cancelled; break; }
                    d = tokio::time::timeout(wait, consumer.next()) => d,
                    // The node answered a ping while nothing came: the queue has no more.
                    () = LinkStatus::answered(&mut alive, &endpoint, verdict_from), if verdict_pending => {
                        end = PeekEnd::QueueExhausted;
                        break;
                    }
                };
                let delivery = match next {
                    // Fewer than the queue said it held: a node that stopped answering looks
                    // the same as a queue that had no more, until the next ping tells (an
                    // answer ends the read here; a node given up ends it with an error).
                    Err(_)
                        if !stream
                            && received < expected
                            && !awaited_verdict
                            && wait < PING_VERDICT =>
                    {
                        awaited_verdict = true;
                        verdict_pending = true;
                        verdict_from = std::time::Instant::now();
                        wait_more = PING_VERDICT.saturating_sub(wait);
                        continue;
                    }
                    Err(_) => {
                        end = PeekEnd::QueueExhausted;
                        break;
                    }
                    Ok(None) => {
                        return Err(Error::Amqp {
                            endpoint: endpoint.clone(),
                            reason: "the broker cancelled the peek's consumer (queue deleted?)"
                                .into(),
                        })
                    }
                    Ok(Some(d)) => d.map_err(op_err)?,
                };
                verdict_pending = false;
                let message = Message::from_amqp(
                    &delivery.exchange,
                    &delivery.routing_key,
                    &delivery.properties,
                    delivery.data,
                );
                let size = budget::held_bytes(&message);
                if held_bytes.saturating_add(size) > budget_bytes {
                    // Not held: it stays unacknowledged on the channel, whose close returns
                    // it with anything after it.
                    end = PeekEnd::BudgetReached;
                    break;
                }
                held_bytes += size;
                largest = if received == 0 {
                    size
                } else {
                    largest.max(size)
                };
                received += 1;
                got += 1;
                expected = expected.max(received);
                tags.push(delivery.delivery_tag);
                if got == 1 {
                    last_tags.push(delivery.delivery_tag);
                } else if let Some(last) = last_tags.last_mut() {
                    *last = delivery.delivery_tag;
                }
                let offset = header_u64(&delivery.properties, "x-stream-offset");
                let delivery_count = header_u64(&delivery.properties, "x-delivery-count");
                if stream {
                    // Acks on a stream only grant credit; reading changes nothing. A cancel
                    // during the ack ends the read at this message.
                    let acked = bounded(
                        &cancel,
                        &endpoint,
                        BROKER_REPLY_WAIT,
                        delivery
                            .acker
                            .ack(lapin::options::BasicAckOptions::default()),
                        op_err,
                    )
                    .await;
                    match acked {
                        Err(Error::Cancelled) => end = PeekEnd::Cancelled,
                        other => {
                            other?;
                        }
                    }
                }
                on_message(PeekedMessage {
                    position: received,
                    message,
                    redelivered: delivery.redelivered,
                    offset,
                    delivery_count,
                    received_at_ms: crate::session::now_ms(),
                })?;
                if end == PeekEnd::Cancelled {
                    break;
                }
                progress.update(PeekProgress {
                    received,
                    expected,
                    phase: PeekPhase::Receiving,
                });
            }
            if got < quota || end == PeekEnd::BudgetReached {
                break;
            }
        }
        if end == PeekEnd::CountReached && received < request.count {
            // The queue held fewer than asked for; waiting longer would only catch new
            // arrivals.
            end = PeekEnd::QueueExhausted;
        }
        Ok(())
    };
    // Every wait of the reading (a qos, a consume, the next delivery) also ends when the
    // session gives the node up: a paused node is noticed by the pings within seconds, and
    // the wait alone would end only at its bound, or as if the queue had no more.
    let outcome = tokio::select! {
        biased;
        r = reading => Ok(r),
        why = LinkStatus::given_up(&mut links, &endpoint) => Err(why),
    };
    let result = outcome.unwrap_or_else(|why| {
        Err(Error::Unreachable {
            endpoint: endpoint.clone(),
            reason: format!(
                "given up while the peek held {received} messages ({why}); the broker puts \
                 them back itself once it notices"
            ),
        })
    });
    // Not awaited past its bound: closing the channel below cancels the consumers anyway. A
    // node the session gave up would only let it run out.
    let given_up = LinkStatus::lost(&session.links(), &endpoint).is_some();
    let _ = tokio::time::timeout(BROKER_REPLY_WAIT, async {
        if given_up {
            return;
        }
        for (tag, _) in &consumers {
            let _ = channel
                .basic_cancel(tag.clone(), BasicCancelOptions::default())
                .await;
        }
    })
    .await;
    let held = Holding {
        plan,
        channel,
        endpoint,
        tags,
        received,
        expected,
        end,
        held_bytes,
        budget_bytes,
        last_tags,
        acked: Default::default(),
        consumers,
        started,
        given_back: false,
    };
    match result {
        Ok(()) => Ok(held),
        Err(e) => {
            // Whatever happened, what is held goes back first.
            let _ = held.give_back(session).await;
            Err(e)
        }
    }
}

impl Holding {
    /// Acknowledges the held messages at `indices` (into [`Holding::tags`]): they leave the
    /// queue; [`Holding::give_back`] returns only the others. The longest run of them from
    /// the first message still held goes in one acknowledgement (multiple), the rest one by
    /// one, so a chunk acknowledged whole costs one frame.
    pub(crate) async fn ack(&mut self, indices: &[usize]) -> Result<()> {
        let wanted: std::collections::HashSet<usize> = indices.iter().copied().collect();
        let mut run_end = None;
        for (i, tag) in self.tags.iter().enumerate() {
            if self.acked.contains(tag) {
                continue;
            }
            if !wanted.contains(&i) {
                break;
            }
            run_end = Some(i);
        }
        let mut sends: Vec<(u64, bool)> = Vec::new();
        if let Some(end) = run_end {
            sends.push((self.tags[end], true));
        }
        sends.extend(
            indices
                .iter()
                .filter(|&&i| run_end.is_none_or(|end| i > end))
                .map(|&i| (self.tags[i], false)),
        );
        for (tag, multiple) in sends {
            tokio::time::timeout(
                BROKER_REPLY_WAIT,
                self.channel
                    .basic_ack(tag, lapin::options::BasicAckOptions { multiple }),
            )
            .await
            .map_err(|_| Error::Timeout {
                endpoint: self.endpoint.clone(),
                after: BROKER_REPLY_WAIT,
            })?
            .map_err(|e| Error::Amqp {
                endpoint: self.endpoint.clone(),
                reason: e.to_string(),
            })?;
        }
        for &i in indices {
            self.acked.insert(self.tags[i]);
        }
        // An acknowledgement has no reply, and closing the channel right after it can overtake
        // it on its way to a queue on another node: the queue then takes the channel's end for
        // a return of what it held (seen on 4.3: acknowledged messages back in the queue). A
        // passive declare on the same channel asks the queue itself, after the
        // acknowledgements: its answer proves they arrived (a bad one would have closed the
        // channel).
        tokio::time::timeout(
            BROKER_REPLY_WAIT,
            self.channel.queue_declare(
                self.plan.queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            ),
        )
        .await
        .map_err(|_| Error::Timeout {
            endpoint: self.endpoint.clone(),
            after: BROKER_REPLY_WAIT,
        })?
        .map_err(|e| Error::Amqp {
            endpoint: self.endpoint.clone(),
            reason: format!("the broker refused the acknowledgements: {e}"),
        })?;
        Ok(())
    }

    pub(crate) fn acked_count(&self) -> u32 {
        self.acked.len() as u32
    }

    /// Gives back every held message not acknowledged, in order (see [`give_back`]); not
    /// cancellable, bounded by [`BROKER_REPLY_WAIT`].
    pub(crate) async fn give_back(mut self, session: &ClusterSession) -> Result<PeekReport> {
        self.given_back = true;
        // Per consumer, the last tag still held: a nack (multiple) of an acknowledged tag
        // would be refused.
        let mut last_held = Vec::new();
        let mut previous = 0u64;
        for &last in &self.last_tags {
            let held = self
                .tags
                .iter()
                .rev()
                .filter(|&&t| t > previous && t <= last)
                .find(|t| !self.acked.contains(t));
            last_held.extend(held);
            previous = last;
        }
        let returned = if LinkStatus::lost(&session.links(), &self.endpoint).is_some() {
            // The node does not answer: a nack would wait out its bound. The close still
            // goes, so a node that comes back returns the messages at once.
            let channel = self.channel.clone();
            tokio::spawn(async move { close_quietly(&channel).await });
            Ok(Ok(GivenBack::ByBroker))
        } else {
            tokio::time::timeout(
                BROKER_REPLY_WAIT,
                give_back(&self.channel, self.plan.method, &last_held),
            )
            .await
        };
        self.consumers.clear();
        let by_broker = match returned {
            Ok(r) => r.map_err(|e| session.operation_error(&self.endpoint, e))?,
            Err(_) => {
                return Err(Error::Timeout {
                    endpoint: self.endpoint.clone(),
                    after: BROKER_REPLY_WAIT,
                })
            }
        };
        Ok(PeekReport {
            returned_by_broker: (by_broker == GivenBack::ByBroker && self.received > 0)
                .then(|| returned_by_broker_note(&self.plan, &self.endpoint)),
            plan: self.plan.clone(),
            received: self.received,
            end: self.end,
            endpoint: self.endpoint.clone(),
            elapsed_ms: self.started.elapsed().as_millis() as u64,
            held_bytes: self.held_bytes,
            budget_bytes: self.budget_bytes,
        })
    }
}

impl Drop for Holding {
    /// A holding dropped without [`Holding::give_back`] (its task was aborted) closes its
    /// channel, which returns what it held: never left held on a long-lived connection.
    fn drop(&mut self) {
        if self.given_back || !self.channel.status().connected() {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let channel = self.channel.clone();
            rt.spawn(async move { close_quietly(&channel).await });
        }
    }
}

async fn close_quietly(channel: &lapin::Channel) {
    if channel.status().connected() {
        let _ =
            tokio::time::timeout(BROKER_REPLY_WAIT, channel.close(200, "peek done".into())).await;
    }
}

/// Returns what the consumers hold: `last_tags` has the last delivery tag of each consumer, in
/// the order they were opened, so each nack (multiple) returns one consumer's messages, and
/// they go back in queue order.
/// Who put a peek's messages back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GivenBack {
    /// The peek: a nack or the channel's close.
    ByPeek,
    /// The broker, when the channel went with its connection.
    ByBroker,
}

/// What a user is told when the broker, not the peek, put the messages back: they are in the
/// queue, redelivered, and on a quorum queue the return counted as a delivery.
fn returned_by_broker_note(plan: &PeekPlan, endpoint: &str) -> String {
    let mut note = format!(
        "the connection to {endpoint} was lost while the peek held its messages: the broker \
         puts them back itself once it notices (each then marked redelivered)"
    );
    if plan.queue_type == QueueType::Quorum {
        note += "; on this quorum queue that return counts as a delivery";
        if let Some(limit) = plan.delivery_limit {
            note += &format!(" toward its delivery limit of {limit}");
        }
    }
    note
}

async fn give_back(
    channel: &lapin::Channel,
    method: PeekMethod,
    last_tags: &[u64],
) -> std::result::Result<GivenBack, lapin::Error> {
    if !channel.status().connected() {
        // The broker returned everything when the channel went.
        return Ok(GivenBack::ByBroker);
    }
    if method == PeekMethod::NackRequeue {
        for &tag in last_tags {
            channel
                .basic_nack(
                    tag,
                    BasicNackOptions {
                        multiple: true,
                        requeue: true,
                    },
                )
                .await?;
        }
    }
    // Closing returns anything delivered after the last tags (and, for quorum queues before
    // 4.3, is how the held messages go back to the front).
    channel.close(200, "peek done".into()).await?;
    Ok(GivenBack::ByPeek)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorReport;

    #[test]
    fn offsets_parse() {
        assert_eq!(StreamOffset::parse("first").unwrap(), StreamOffset::First);
        assert_eq!(StreamOffset::parse("42").unwrap(), StreamOffset::Offset(42));
        assert_eq!(
            StreamOffset::parse("@1700000000").unwrap(),
            StreamOffset::Timestamp(1_700_000_000)
        );
        assert_eq!(
            StreamOffset::parse("2023-11-14T22:13:20Z").unwrap(),
            StreamOffset::Timestamp(1_700_000_000)
        );
        assert_eq!(
            StreamOffset::parse("2023-11-15T00:13:20+02:00").unwrap(),
            StreamOffset::Timestamp(1_700_000_000)
        );
        assert!(StreamOffset::parse("yesterday").is_err());
        assert!(StreamOffset::parse("1.5").is_err());
        assert!(StreamOffset::parse("").is_err());
    }

    #[test]
    fn an_offset_may_be_a_duration_ago_or_a_date_and_never_an_impossible_one() {
        let now: jiff::Timestamp = "2026-12-02T17:40:00Z".parse().unwrap();
        let at = |s| StreamOffset::parse_at(s, now);
        let ten_min_ago = now.as_second() - 600;
        assert_eq!(at("10m").unwrap(), StreamOffset::Timestamp(ten_min_ago));
        assert_eq!(at("PT10M").unwrap(), StreamOffset::Timestamp(ten_min_ago));
        assert_eq!(
            at("1d").unwrap(),
            StreamOffset::Timestamp(now.as_second() - 86_400)
        );
        assert_eq!(
            at("2026-11-30").unwrap(),
            StreamOffset::Timestamp(1_795_996_800)
        );
        let err = at("2026-02-31").unwrap_err();
        assert_eq!(ErrorReport::from(&err).field.as_deref(), Some("offset"));
        assert!(err.to_string().contains("2026-02-31"), "{err}");
        assert!(at("2026-02-31T10:00:00Z").is_err());
        assert!(at("-10m").is_err());
    }
}
