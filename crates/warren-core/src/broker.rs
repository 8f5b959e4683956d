//! What differs between RabbitMQ versions and queue types, in one place.
//!
//! Several features ask the same questions ("does this broker mirror classic queues?", "does a
//! quorum queue count a returned message as a delivery?", "how large may a message be?"), and
//! each answer depends on the broker's version. Keeping every such rule here means a new
//! version is taught to Warren once, and the modules that use the rules (status, queues, peek,
//! publish) need nothing from each other to know them. This module imports nothing of Warren.

use serde::Serialize;
use ts_rs::TS;

/// A RabbitMQ version as the management API reports it.
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

    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum QueueType {
    Classic,
    Quorum,
    Stream,
    Other,
}

impl QueueType {
    /// The management API's `type` field; a queue without one is classic (older versions).
    pub fn from_api(t: Option<&str>) -> QueueType {
        match t {
            Some("quorum") => QueueType::Quorum,
            Some("stream") => QueueType::Stream,
            Some("classic") | None => QueueType::Classic,
            Some(_) => QueueType::Other,
        }
    }
}

/// RabbitMQ 4.0+ gives quorum queues this delivery limit unless one is set.
pub const DEFAULT_DELIVERY_LIMIT_4X: u64 = 20;

/// The delivery limit a queue has when neither an argument nor a policy sets one.
pub fn default_delivery_limit(
    queue_type: QueueType,
    version: Option<BrokerVersion>,
) -> Option<u64> {
    (queue_type == QueueType::Quorum && version.is_some_and(|v| v.major >= 4))
        .then_some(DEFAULT_DELIVERY_LIMIT_4X)
}

/// The broker's default `max_message_size` on RabbitMQ 3.x (128 MiB) and 4.x (16 MiB).
pub const MAX_MESSAGE_SIZE_3X: usize = 134_217_728;
pub const MAX_MESSAGE_SIZE_4X: usize = 16_777_216;

/// The default maximum message size of a version; the 3.x one when the version is unknown
/// (the broker then has the last word).
pub fn max_message_size(version: Option<BrokerVersion>) -> usize {
    match version {
        Some(v) if v.major >= 4 => MAX_MESSAGE_SIZE_4X,
        _ => MAX_MESSAGE_SIZE_3X,
    }
}

/// Classic queue mirroring exists before RabbitMQ 4.0 (assumed when the version is unknown).
pub fn mirroring_supported(version: Option<BrokerVersion>) -> bool {
    version.is_none_or(|v| v.major < 4)
}

/// What a quorum queue does with a message returned by `basic.nack(requeue)`.
///
/// Before 4.3 a nack-requeue puts the message at the back of the queue (3.x) or counts toward
/// the delivery limit (4.0-4.2); closing the channel instead returns held messages to the
/// front, in order, but counts as a delivery attempt. From 4.3 a nack-requeue neither counts
/// nor reorders: returned messages are served first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumReturn {
    /// Return with `basic.nack(requeue)`: it changes nothing but the redelivered flag.
    NackKeepsPlace,
    /// Return by closing the channel: order is kept, the delivery count grows by one.
    CloseCountsDelivery,
}

/// How a quorum queue of this version treats returned messages (unknown: the older way).
pub fn quorum_return(version: Option<BrokerVersion>) -> QuorumReturn {
    if version.is_some_and(|v| v.at_least(4, 3)) {
        QuorumReturn::NackKeepsPlace
    } else {
        QuorumReturn::CloseCountsDelivery
    }
}

/// The order in which a consumer receives a queue's messages (and so the order a peek shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DeliveryOrder {
    /// First in, first out: the order the messages were published in; priorities are ignored.
    Publication,
    /// Highest priority first, first in first out within one priority.
    HighestPriorityFirst,
    /// Messages of priority above 4 ("high") first, two high ones for each normal one while
    /// both kinds wait; first in first out within each kind (quorum queues, 4.0-4.2).
    HighThenNormalTwoToOne,
    /// A stream's offset order (the order of publication); reading starts at an offset.
    Offset,
}

/// How a queue of this type on this version orders deliveries. `max_priority` is the queue's
/// `x-max-priority` (argument or policy), which only classic queues honour. Quorum queues
/// deliver in publication order before 4.0 (and when the version is unknown), two to one by
/// "high" and normal priority on 4.0-4.2, and strictly by priority from 4.3.
pub fn delivery_order(
    queue_type: QueueType,
    version: Option<BrokerVersion>,
    max_priority: Option<u64>,
) -> DeliveryOrder {
    match queue_type {
        QueueType::Stream => DeliveryOrder::Offset,
        QueueType::Quorum => match version {
            Some(v) if v.at_least(4, 3) => DeliveryOrder::HighestPriorityFirst,
            Some(v) if v.major >= 4 => DeliveryOrder::HighThenNormalTwoToOne,
            _ => DeliveryOrder::Publication,
        },
        QueueType::Classic if max_priority.is_some_and(|p| p > 0) => {
            DeliveryOrder::HighestPriorityFirst
        }
        QueueType::Classic | QueueType::Other => DeliveryOrder::Publication,
    }
}

/// What a lost AMQP connection does to the messages it held unacknowledged in a quorum queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumConnectionLoss {
    /// The held messages return as on a channel close: counted as before 4.3 (a peek of that
    /// era counts every return anyway).
    LikeAnyReturn,
    /// The held messages return counted toward the delivery limit, although a nack by the
    /// same peek would not count (4.3+).
    CountsDelivery,
}

/// How a quorum queue of this version counts messages returned by a lost connection.
pub fn quorum_connection_loss(version: Option<BrokerVersion>) -> QuorumConnectionLoss {
    match quorum_return(version) {
        QuorumReturn::NackKeepsPlace => QuorumConnectionLoss::CountsDelivery,
        QuorumReturn::CloseCountsDelivery => QuorumConnectionLoss::LikeAnyReturn,
    }
}

/// The broker's default consumer timeout: a delivery left unacknowledged this long closes its
/// channel (RabbitMQ 3.8.15 and later; a node's `consumer_timeout` may change it).
pub const DEFAULT_CONSUMER_TIMEOUT_MS: u64 = 1_800_000;

/// Whether a queue's `x-consumer-timeout` argument and `consumer-timeout` policy key apply
/// (3.11.15 and 3.12 onwards; older brokers ignore them). Unknown versions: no.
pub fn consumer_timeout_per_queue(version: Option<BrokerVersion>) -> bool {
    version.is_some_and(|v| v.at_least(3, 12) || (v.major == 3 && v.minor == 11 && v.patch >= 15))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<BrokerVersion> {
        BrokerVersion::parse(Some(s))
    }

    #[test]
    fn versions_parse() {
        let v = BrokerVersion::parse(Some("4.1.0-rc.1")).unwrap();
        assert_eq!((v.major, v.minor, v.patch), (4, 1, 0));
        assert_eq!(BrokerVersion::parse(Some("garbage")), None);
        assert_eq!(BrokerVersion::parse(None), None);
    }

    #[test]
    fn queue_types_read_from_the_api() {
        assert_eq!(QueueType::from_api(Some("quorum")), QueueType::Quorum);
        assert_eq!(QueueType::from_api(Some("stream")), QueueType::Stream);
        assert_eq!(QueueType::from_api(None), QueueType::Classic);
        assert_eq!(QueueType::from_api(Some("x-delayed")), QueueType::Other);
    }

    #[test]
    fn version_rules() {
        assert_eq!(
            default_delivery_limit(QueueType::Quorum, v("4.0.0")),
            Some(20)
        );
        assert_eq!(default_delivery_limit(QueueType::Quorum, v("3.13.7")), None);
        assert_eq!(default_delivery_limit(QueueType::Classic, v("4.1.0")), None);
        assert_eq!(max_message_size(v("3.10.8")), 134_217_728);
        assert_eq!(max_message_size(v("4.0.5")), 16_777_216);
        assert_eq!(max_message_size(None), 134_217_728);
        assert!(mirroring_supported(v("3.13.7")) && mirroring_supported(None));
        assert!(!mirroring_supported(v("4.0.0")));
        assert_eq!(quorum_return(v("4.2.9")), QuorumReturn::CloseCountsDelivery);
        assert_eq!(quorum_return(v("4.3.0")), QuorumReturn::NackKeepsPlace);
        assert_eq!(quorum_return(None), QuorumReturn::CloseCountsDelivery);
        assert!(!consumer_timeout_per_queue(v("3.10.8")));
        assert!(!consumer_timeout_per_queue(v("3.11.14")));
        assert!(consumer_timeout_per_queue(v("3.11.15")));
        assert!(consumer_timeout_per_queue(v("4.3.6")));
        assert!(!consumer_timeout_per_queue(None));
    }

    #[test]
    fn delivery_order_by_queue_type_and_version() {
        use DeliveryOrder::*;
        let quorum = |s: &str| delivery_order(QueueType::Quorum, v(s), None);
        assert_eq!(quorum("3.10.8"), Publication);
        assert_eq!(quorum("3.13.7"), Publication);
        assert_eq!(quorum("4.0.5"), HighThenNormalTwoToOne);
        assert_eq!(quorum("4.2.9"), HighThenNormalTwoToOne);
        assert_eq!(quorum("4.3.0"), HighestPriorityFirst);
        assert_eq!(quorum("5.0.0"), HighestPriorityFirst);
        assert_eq!(delivery_order(QueueType::Quorum, None, None), Publication);
        assert_eq!(
            delivery_order(QueueType::Quorum, v("3.10.8"), Some(10)),
            Publication,
            "quorum queues ignore x-max-priority"
        );
        for version in ["3.10.8", "4.0.5", "4.3.6"] {
            assert_eq!(
                delivery_order(QueueType::Classic, v(version), None),
                Publication
            );
            assert_eq!(
                delivery_order(QueueType::Classic, v(version), Some(10)),
                HighestPriorityFirst
            );
            assert_eq!(
                delivery_order(QueueType::Classic, v(version), Some(0)),
                Publication
            );
            assert_eq!(delivery_order(QueueType::Stream, v(version), None), Offset);
            assert_eq!(
                delivery_order(QueueType::Other, v(version), Some(10)),
                Publication
            );
        }
    }

    #[test]
    fn connection_loss_counts_on_4_3() {
        assert_eq!(
            quorum_connection_loss(v("4.3.0")),
            QuorumConnectionLoss::CountsDelivery
        );
        assert_eq!(
            quorum_connection_loss(v("4.2.9")),
            QuorumConnectionLoss::LikeAnyReturn
        );
        assert_eq!(
            quorum_connection_loss(None),
            QuorumConnectionLoss::LikeAnyReturn
        );
    }
}
