//! Peek: read messages from the head of a queue and leave the queue as it was.
//!
//! Why this is more than `basic.get`: every way of reading a queue without consuming it has a
//! cost that depends on the queue type and the broker version, and the costs are invisible in
//! the management UI's "get messages". So a peek first makes a [`PeekPlan`] (a pure function of
//! the queue's type, the broker version and the queue's delivery limit) that says which method
//! it will use and what, if anything, that changes; only then does it run.
//!
//! - Classic (and mirrored classic) queues: consume with a prefetch window, never ack, then
//!   return everything at once with one `basic.nack(multiple, requeue)`. Requeued messages go
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

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::cluster::OpenCluster;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::queues::{self, QueueDetail};
use crate::status::QueueType;

/// RabbitMQ 4.0+ gives quorum queues this delivery limit unless one is set.
pub const DEFAULT_DELIVERY_LIMIT_4X: u64 = 20;

/// The most messages one peek may hold (they are all unacknowledged at once).
pub const MAX_PEEK: u32 = 100_000;

/// How long a peek waits for the next message before deciding the queue has no more.
pub const DEFAULT_IDLE: Duration = Duration::from_millis(1000);

/// How long to wait for a connected node.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BrokerVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl BrokerVersion {
    /// Parses "3.10.8", "4.1.0-rc.1" and the like; `None` for anything else.
    pub fn parse(v: Option<&str>) -> Option<BrokerVersion> {
        let v = v?;
        let core = v.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
        Some(BrokerVersion {
            major: parts.next()??,
            minor: parts.next().flatten().unwrap_or(0),
            patch: parts.next().flatten().unwrap_or(0),
        })
    }

    fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

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
    /// Parses the CLI's `first|last|next|N|TIMESTAMP`: a number is an offset, an RFC 3339
    /// time or `@SECONDS` is a timestamp.
    pub fn parse(s: &str) -> Result<StreamOffset> {
        let bad = || {
            Error::invalid(
                "offset",
                format!("\"{s}\" is not first, last, next, a number, @EPOCH-SECONDS or an RFC 3339 time"),
            )
        };
        Ok(match s {
            "first" => StreamOffset::First,
            "last" => StreamOffset::Last,
            "next" => StreamOffset::Next,
            _ if s.starts_with('@') => StreamOffset::Timestamp(s[1..].parse().map_err(|_| bad())?),
            _ if s.bytes().all(|b| b.is_ascii_digit()) => {
                StreamOffset::Offset(s.parse().map_err(|_| bad())?)
            }
            _ => StreamOffset::Timestamp(parse_rfc3339(s).ok_or_else(bad)?),
        })
    }

    fn argument(&self) -> AMQPValue {
        match self {
            StreamOffset::First => AMQPValue::LongString(LongString::from("first")),
            StreamOffset::Last => AMQPValue::LongString(LongString::from("last")),
            StreamOffset::Next => AMQPValue::LongString(LongString::from("next")),
            StreamOffset::Offset(n) => AMQPValue::LongLongInt(*n as i64),
            StreamOffset::Timestamp(t) => AMQPValue::Timestamp(*t as u64),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` to epoch seconds.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once(['T', ' '])?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let mut t = time.split(':');
    let (h, mi) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec = t
        .next()
        .map(|s| s.split('.').next()?.parse::<i64>().ok())
        .unwrap_or(Some(0))?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs)
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
}

/// How the held messages go back (or, for streams, why nothing has to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PeekMethod {
    /// Consume without ack, then one `basic.nack(multiple, requeue)`.
    NackRequeue,
    /// Consume without ack, then close the channel (quorum queues before 4.3).
    CloseChannel,
    /// Consume from a stream offset; nothing is held.
    StreamOffset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EffectKind {
    /// Returned messages carry `redelivered = true`.
    RedeliveredFlag,
    /// The messages' order in the queue changes.
    Order,
    /// Each peeked message's delivery count grows by one.
    DeliveryCount,
    /// Each returned message's `x-acquired-count` header grows by one; the delivery count and
    /// limit are not touched (quorum queues, 4.3+).
    AcquiredCount,
    /// A message whose delivery count passes the limit is dead-lettered or dropped.
    LimitExceeded,
    /// Other consumers do not get the held messages until the peek returns them.
    HeldFromConsumers,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PeekEffect {
    pub kind: EffectKind,
    pub description: String,
    /// True when the effect changes what happens to the messages (not just a flag).
    pub needs_consent: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PeekPlan {
    pub vhost: String,
    pub queue: String,
    pub queue_type: QueueType,
    pub broker_version: Option<String>,
    pub method: PeekMethod,
    pub effects: Vec<PeekEffect>,
    /// No effect needs consent.
    pub harmless: bool,
    #[ts(type = "number | null")]
    pub delivery_limit: Option<u64>,
    /// What happens to a message over the limit: "dead-lettered to X" or "dropped".
    pub over_limit: Option<String>,
    #[ts(type = "number | null")]
    pub messages_ready: Option<u64>,
    #[ts(type = "number | null")]
    pub consumers: Option<u64>,
    pub count: u32,
}

impl PeekPlan {
    pub fn consent_summary(&self) -> String {
        self.effects
            .iter()
            .filter(|e| e.needs_consent)
            .map(|e| e.description.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn effect(kind: EffectKind, needs_consent: bool, description: String) -> PeekEffect {
    PeekEffect {
        kind,
        description,
        needs_consent,
    }
}

/// Decides how to peek `detail`'s queue and what that changes. Pure.
pub fn plan(detail: &QueueDetail, count: u32) -> PeekPlan {
    let version = BrokerVersion::parse(detail.broker_version.as_deref());
    let feature = |k: &str| detail.features.iter().find(|f| f.key == k);
    let delivery_limit = feature("delivery_limit").and_then(|f| match &f.value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    });
    // A negative limit (4.x: -1) means "no limit".
    let delivery_limit = delivery_limit.filter(|_| {
        feature("delivery_limit").is_none_or(|f| f.value.as_i64().is_none_or(|n| n >= 0))
    });
    let over_limit = delivery_limit.map(|_| {
        match feature("dead_letter_exchange").and_then(|f| f.value.as_str()) {
            Some(dlx) => format!(
                "dead-lettered to exchange \"{}\"",
                if dlx.is_empty() { "(default)" } else { dlx }
            ),
            None => "dropped".to_owned(),
        }
    });
    let mut effects = Vec::new();
    let queue_type = detail.row.queue_type;
    let method = match queue_type {
        QueueType::Stream => PeekMethod::StreamOffset,
        QueueType::Quorum if version.is_some_and(|v| v.at_least(4, 3)) => PeekMethod::NackRequeue,
        QueueType::Quorum => PeekMethod::CloseChannel,
        QueueType::Classic | QueueType::Other => PeekMethod::NackRequeue,
    };
    if method != PeekMethod::StreamOffset {
        effects.push(effect(
            EffectKind::RedeliveredFlag,
            false,
            "returned messages are marked redelivered".into(),
        ));
        if detail.row.consumers.unwrap_or(0) > 0 {
            effects.push(effect(
                EffectKind::HeldFromConsumers,
                false,
                format!(
                    "{} consumer(s) attached: they do not get the peeked messages until the peek returns them, and the peek does not see messages they hold",
                    detail.row.consumers.unwrap_or(0)
                ),
            ));
        }
    }
    if queue_type == QueueType::Quorum && method == PeekMethod::NackRequeue {
        effects.push(effect(
            EffectKind::AcquiredCount,
            false,
            "each returned message's x-acquired-count header grows by 1 (its delivery count does not)".into(),
        ));
    }
    if method == PeekMethod::CloseChannel {
        let counted = match delivery_limit {
            Some(limit) => format!(
                "each peeked message's delivery count grows by 1 (x-delivery-count); the queue's delivery limit is {limit}"
            ),
            None => "each peeked message's delivery count grows by 1 (x-delivery-count); the queue has no delivery limit, so none is dropped".into(),
        };
        effects.push(effect(EffectKind::DeliveryCount, true, counted));
        if let (Some(limit), Some(fate)) = (delivery_limit, &over_limit) {
            effects.push(effect(
                EffectKind::LimitExceeded,
                true,
                format!("a peeked message already delivered {limit} times is {fate}"),
            ));
        }
    }
    let harmless = effects.iter().all(|e| !e.needs_consent);
    PeekPlan {
        vhost: detail.row.vhost.clone(),
        queue: detail.row.name.clone(),
        queue_type,
        broker_version: detail.broker_version.clone(),
        method,
        effects,
        harmless,
        delivery_limit,
        over_limit,
        messages_ready: detail.row.messages_ready,
        consumers: detail.row.consumers,
        count,
    }
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
}

/// Reads the queue's detail and makes the plan. The ready and consumer counts come from the
/// queue itself (a passive declare), since the management API's lag a statistics interval.
pub async fn make_plan(cluster: &OpenCluster, request: &PeekRequest) -> Result<PeekPlan> {
    check_request(request)?;
    let mut detail = queues::detail(cluster.api(), &request.vhost, &request.queue).await?;
    let name = request.queue.clone();
    let exact = cluster
        .session()
        .run(CONNECT_WAIT, |ch| {
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
        })
        .await;
    if let Ok(q) = exact {
        if detail.row.queue_type != QueueType::Stream {
            detail.row.messages_ready = Some(u64::from(q.message_count()));
        }
        detail.row.consumers = Some(u64::from(q.consumer_count()));
    }
    Ok(plan(&detail, request.count))
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
    Ok(())
}

fn header_u64(props: &lapin::BasicProperties, key: &str) -> Option<u64> {
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

/// Runs a peek: makes the plan, refuses when it needs consent that was not given, reads, and
/// returns what it held. `on_message` sees each message as it arrives (in queue order);
/// `on_progress` is called every `progress_every` messages and at phase changes. Cancelling
/// `cancel` stops reading and returns what is held, leaving the queue intact.
pub async fn run(
    cluster: &OpenCluster,
    request: &PeekRequest,
    idle: Duration,
    cancel: CancellationToken,
    mut on_message: impl FnMut(PeekedMessage) -> Result<()>,
    mut on_progress: impl FnMut(PeekProgress),
) -> Result<PeekReport> {
    let started = std::time::Instant::now();
    let plan = make_plan(cluster, request).await?;
    if !plan.harmless && !request.allow_side_effects {
        return Err(Error::NeedsConsent {
            what: format!("peeking quorum queue \"{}\"", request.queue),
            effects: plan.consent_summary(),
        });
    }
    let session = cluster.session();
    let (channel, endpoint) = session.channel(CONNECT_WAIT).await?;
    let op_err = |e: lapin::Error| {
        queues::not_found_as_queue(
            map_not_found(session.operation_error(&endpoint, e), request),
            &request.vhost,
            &request.queue,
        )
    };
    let queue: ShortString = request.queue.as_str().into();
    // The exact number of ready messages, from the queue itself (the API's figure lags).
    let ready = if plan.method == PeekMethod::StreamOffset {
        None
    } else {
        let q = channel
            .queue_declare(
                queue.clone(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(op_err)?;
        Some(q.message_count())
    };
    let expected = ready.map_or(request.count, |r| r.min(request.count));
    // The window: all we will hold, as long as basic.qos can say it (0 = unlimited); for
    // streams the window only paces reading, since we ack as we go.
    let prefetch: u16 = match plan.method {
        PeekMethod::StreamOffset => request.count.min(1000) as u16,
        _ => u16::try_from(request.count).unwrap_or(0),
    };
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await
        .map_err(op_err)?;
    let mut args = FieldTable::default();
    if plan.method == PeekMethod::StreamOffset {
        let offset = request.offset.clone().unwrap_or(StreamOffset::First);
        args.insert("x-stream-offset".into(), offset.argument());
    }
    let tag: ShortString = format!("warren-peek-{}", crate::session::now_ms()).into();
    let mut received: u32 = 0;
    let mut last_tag: Option<u64> = None;
    let mut end = PeekEnd::CountReached;
    on_progress(PeekProgress {
        received: 0,
        expected,
        phase: PeekPhase::Receiving,
    });
    let result: Result<()> = async {
        if expected == 0 && plan.method != PeekMethod::StreamOffset {
            end = PeekEnd::QueueExhausted;
            return Ok(());
        }
        let mut consumer = channel
            .basic_consume(
                queue.clone(),
                tag.clone(),
                BasicConsumeOptions::default(),
                args,
            )
            .await
            .map_err(op_err)?;
        let progress_every = (expected / 100).clamp(1, 1000);
        while received < request.count {
            if plan.method != PeekMethod::StreamOffset && received >= expected {
                // The queue held fewer than asked for; waiting longer would only catch new
                // arrivals.
                end = PeekEnd::QueueExhausted;
                break;
            }
            let next = tokio::select! {
                _ = cancel.cancelled() => { end = PeekEnd::Cancelled; break; }
                d = tokio::time::timeout(idle, consumer.next()) => d,
            };
            let delivery = match next {
                Err(_) => {
                    end = PeekEnd::QueueExhausted;
                    break;
                }
                Ok(None) => {
                    return Err(Error::Amqp {
                        endpoint: endpoint.clone(),
                        reason: "the broker cancelled the peek's consumer (queue deleted?)".into(),
                    })
                }
                Ok(Some(d)) => d.map_err(op_err)?,
            };
            received += 1;
            last_tag = Some(delivery.delivery_tag);
            let offset = header_u64(&delivery.properties, "x-stream-offset");
            let delivery_count = header_u64(&delivery.properties, "x-delivery-count");
            if plan.method == PeekMethod::StreamOffset {
                // Acks on a stream only grant credit; reading changes nothing.
                delivery
                    .acker
                    .ack(lapin::options::BasicAckOptions::default())
                    .await
                    .map_err(op_err)?;
            }
            let message = Message::from_amqp(
                &delivery.exchange,
                &delivery.routing_key,
                &delivery.properties,
                delivery.data,
            );
            on_message(PeekedMessage {
                position: received,
                message,
                redelivered: delivery.redelivered,
                offset,
                delivery_count,
            })?;
            if received.is_multiple_of(progress_every) {
                on_progress(PeekProgress {
                    received,
                    expected,
                    phase: PeekPhase::Receiving,
                });
            }
        }
        let _ = channel
            .basic_cancel(tag.clone(), BasicCancelOptions::default())
            .await;
        Ok(())
    }
    .await;
    on_progress(PeekProgress {
        received,
        expected,
        phase: PeekPhase::Returning,
    });
    // Give back everything held, whatever happened above: deliveries that raced the cancel
    // arrived after `last_tag` and are covered by closing the channel.
    let returned = give_back(&channel, plan.method, last_tag).await;
    result?;
    returned.map_err(op_err)?;
    on_progress(PeekProgress {
        received,
        expected,
        phase: PeekPhase::Done,
    });
    Ok(PeekReport {
        plan,
        received,
        end,
        endpoint,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn map_not_found(e: Error, request: &PeekRequest) -> Error {
    match &e {
        Error::Amqp { reason, .. } if reason.starts_with("404") => Error::QueueNotFound {
            vhost: request.vhost.clone(),
            name: request.queue.clone(),
        },
        _ => e,
    }
}

async fn give_back(
    channel: &lapin::Channel,
    method: PeekMethod,
    last_tag: Option<u64>,
) -> std::result::Result<(), lapin::Error> {
    if !channel.status().connected() {
        // The broker returned everything when the channel went.
        return Ok(());
    }
    if let (PeekMethod::NackRequeue, Some(tag)) = (method, last_tag) {
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
    // Closing returns anything delivered after `last_tag` (and, for quorum queues before 4.3,
    // is how the held messages go back to the front).
    channel.close(200, "peek done".into()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queues::{FeatureSource, QueueFeature, QueueRow};
    use serde_json::json;

    fn detail(queue_type: QueueType, version: &str, features: Vec<QueueFeature>) -> QueueDetail {
        QueueDetail {
            row: QueueRow {
                vhost: "/".into(),
                name: "q".into(),
                queue_type,
                state: None,
                messages_ready: Some(5),
                messages_unacknowledged: Some(0),
                messages: Some(5),
                publish_rate: None,
                deliver_rate: None,
                consumers: Some(0),
                node: None,
                replication: None,
                policy: None,
            },
            durable: true,
            exclusive: false,
            auto_delete: false,
            arguments: Default::default(),
            policy: None,
            operator_policy: None,
            effective_policy_definition: Default::default(),
            features,
            consumers: vec![],
            message_bytes: None,
            memory: None,
            replicas: vec![],
            replicas_healthy: vec![],
            broker_version: Some(version.into()),
        }
    }

    fn limit(n: i64) -> QueueFeature {
        QueueFeature {
            key: "delivery_limit".into(),
            label: String::new(),
            value: json!(n),
            source: FeatureSource::Argument,
        }
    }

    #[test]
    fn classic_queues_and_streams_are_harmless() {
        let p = plan(&detail(QueueType::Classic, "3.10.8", vec![]), 10);
        assert_eq!(p.method, PeekMethod::NackRequeue);
        assert!(p.harmless);
        assert_eq!(p.effects[0].kind, EffectKind::RedeliveredFlag);
        let s = plan(&detail(QueueType::Stream, "3.10.8", vec![]), 10);
        assert_eq!(s.method, PeekMethod::StreamOffset);
        assert!(s.harmless && s.effects.is_empty());
    }

    #[test]
    fn quorum_queues_before_4_3_need_consent_and_say_why() {
        let p = plan(&detail(QueueType::Quorum, "3.10.8", vec![]), 10);
        assert_eq!(p.method, PeekMethod::CloseChannel);
        assert!(!p.harmless);
        assert!(p.consent_summary().contains("no delivery limit"));
        let with_limit = plan(&detail(QueueType::Quorum, "3.10.8", vec![limit(3)]), 10);
        assert_eq!(with_limit.delivery_limit, Some(3));
        assert_eq!(with_limit.over_limit.as_deref(), Some("dropped"));
        assert!(with_limit
            .effects
            .iter()
            .any(|e| e.kind == EffectKind::LimitExceeded));
        let v4 = detail(QueueType::Quorum, "4.1.2", {
            let none = Default::default();
            crate::queues::features(QueueType::Quorum, &none, &none, None, Some("4.1.2"))
        });
        let p4 = plan(&v4, 10);
        assert_eq!(
            (p4.method, p4.delivery_limit),
            (PeekMethod::CloseChannel, Some(20))
        );
        assert!(!p4.harmless);
    }

    #[test]
    fn quorum_queues_from_4_3_use_nack_and_are_harmless() {
        let p = plan(&detail(QueueType::Quorum, "4.3.0", vec![limit(20)]), 10);
        assert_eq!(p.method, PeekMethod::NackRequeue);
        assert!(p.harmless);
        let kinds: Vec<EffectKind> = p.effects.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [EffectKind::RedeliveredFlag, EffectKind::AcquiredCount]
        );
        let classic = plan(&detail(QueueType::Classic, "4.3.0", vec![]), 10);
        assert!(classic
            .effects
            .iter()
            .all(|e| e.kind != EffectKind::AcquiredCount));
        let unlimited = plan(&detail(QueueType::Quorum, "4.2.1", vec![limit(-1)]), 10);
        assert_eq!(unlimited.delivery_limit, None);
    }

    #[test]
    fn versions_and_offsets_parse() {
        let v = BrokerVersion::parse(Some("4.1.0-rc.1")).unwrap();
        assert_eq!((v.major, v.minor, v.patch), (4, 1, 0));
        assert_eq!(BrokerVersion::parse(Some("garbage")), None);
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
    }
}
