//! The plan of a peek: which method reads the queue and what, if anything, that changes. A pure
//! function of the queue's type, the broker version and the queue's typed settings (delivery
//! limit, dead-letter exchange), so every rule is unit-tested without a broker.

use serde::Serialize;
use ts_rs::TS;

use crate::broker::{
    self, BrokerVersion, DeliveryOrder, QueueType, QuorumConnectionLoss, QuorumReturn,
};
use crate::queues::QueueDetail;

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
    /// Only if the peek's connection is lost while it holds messages: their delivery count
    /// grows by one (quorum queues, 4.3+, where a return by nack is not counted).
    ConnectionLossCounts,
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
    /// The order the peek shows the messages in: the order a consumer would receive them.
    pub order: DeliveryOrder,
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
    let delivery_limit = detail.settings.delivery_limit();
    let over_limit = delivery_limit.map(|_| match detail.settings.dead_letter_exchange() {
        Some(dlx) => format!(
            "dead-lettered to exchange \"{}\"",
            if dlx.is_empty() { "(default)" } else { dlx }
        ),
        None => "dropped".to_owned(),
    });
    let mut effects = Vec::new();
    let queue_type = detail.row.queue_type;
    let method = match queue_type {
        QueueType::Stream => PeekMethod::StreamOffset,
        QueueType::Quorum => match broker::quorum_return(version) {
            QuorumReturn::NackKeepsPlace => PeekMethod::NackRequeue,
            QuorumReturn::CloseCountsDelivery => PeekMethod::CloseChannel,
        },
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
    if queue_type == QueueType::Quorum
        && broker::quorum_connection_loss(version) == QuorumConnectionLoss::CountsDelivery
    {
        let limit = match (delivery_limit, &over_limit) {
            (Some(limit), Some(fate)) => format!(
                "toward the queue's delivery limit of {limit}, past which a message is {fate}"
            ),
            _ => "(the queue has no delivery limit)".to_owned(),
        };
        effects.push(effect(
            EffectKind::ConnectionLossCounts,
            false,
            format!("only if the connection is lost while the peek holds messages: their delivery count grows by 1 {limit}"),
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
        order: broker::delivery_order(queue_type, version, detail.settings.max_priority()),
        effects,
        harmless,
        delivery_limit,
        over_limit,
        messages_ready: detail.row.messages_ready,
        consumers: detail.row.consumers,
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queues::{QueueRow, QueueSettings};
    use serde_json::{json, Value};

    fn detail(queue_type: QueueType, version: &str, arguments: Value) -> QueueDetail {
        let Value::Object(arguments) = arguments else {
            unreachable!()
        };
        let settings = QueueSettings::resolve(
            queue_type,
            &arguments,
            &Default::default(),
            None,
            BrokerVersion::parse(Some(version)),
        );
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
            arguments,
            policy: None,
            operator_policy: None,
            effective_policy_definition: Default::default(),
            features: settings.features(),
            settings,
            consumers: vec![],
            message_bytes: None,
            memory: None,
            replicas: vec![],
            replicas_healthy: vec![],
            broker_version: Some(version.into()),
        }
    }

    #[test]
    fn classic_queues_and_streams_are_harmless() {
        let p = plan(&detail(QueueType::Classic, "3.10.8", json!({})), 10);
        assert_eq!(p.method, PeekMethod::NackRequeue);
        assert!(p.harmless);
        assert_eq!(p.effects[0].kind, EffectKind::RedeliveredFlag);
        let s = plan(&detail(QueueType::Stream, "3.10.8", json!({})), 10);
        assert_eq!(s.method, PeekMethod::StreamOffset);
        assert!(s.harmless && s.effects.is_empty());
    }

    #[test]
    fn quorum_queues_before_4_3_need_consent_and_say_why() {
        let p = plan(&detail(QueueType::Quorum, "3.10.8", json!({})), 10);
        assert_eq!(p.method, PeekMethod::CloseChannel);
        assert!(!p.harmless);
        assert!(p.consent_summary().contains("no delivery limit"));
        let with_limit = plan(
            &detail(QueueType::Quorum, "3.10.8", json!({"x-delivery-limit": 3})),
            10,
        );
        assert_eq!(with_limit.delivery_limit, Some(3));
        assert_eq!(with_limit.over_limit.as_deref(), Some("dropped"));
        assert!(with_limit
            .effects
            .iter()
            .any(|e| e.kind == EffectKind::LimitExceeded));
        let v4 = detail(QueueType::Quorum, "4.1.2", json!({}));
        let p4 = plan(&v4, 10);
        assert_eq!(
            (p4.method, p4.delivery_limit),
            (PeekMethod::CloseChannel, Some(20))
        );
        assert!(!p4.harmless);
    }

    #[test]
    fn quorum_queues_from_4_3_use_nack_and_are_harmless() {
        let p = plan(
            &detail(QueueType::Quorum, "4.3.0", json!({"x-delivery-limit": 20})),
            10,
        );
        assert_eq!(p.method, PeekMethod::NackRequeue);
        assert!(p.harmless);
        let kinds: Vec<EffectKind> = p.effects.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EffectKind::RedeliveredFlag,
                EffectKind::AcquiredCount,
                EffectKind::ConnectionLossCounts
            ]
        );
        let caveat = &p.effects[2];
        assert!(!caveat.needs_consent);
        assert!(caveat.description.contains("connection is lost"));
        assert!(caveat
            .description
            .contains("delivery limit of 20, past which a message is dropped"));
        let classic = plan(&detail(QueueType::Classic, "4.3.0", json!({})), 10);
        assert!(classic
            .effects
            .iter()
            .all(|e| e.kind != EffectKind::AcquiredCount));
        let unlimited = plan(
            &detail(QueueType::Quorum, "4.2.1", json!({"x-delivery-limit": -1})),
            10,
        );
        assert_eq!(unlimited.delivery_limit, None);
        let unlimited_43 = plan(
            &detail(QueueType::Quorum, "4.3.6", json!({"x-delivery-limit": -1})),
            10,
        );
        assert!(unlimited_43.effects[2]
            .description
            .contains("no delivery limit"));
    }

    #[test]
    fn connection_loss_caveat_only_where_a_nack_does_not_count() {
        for version in ["3.10.8", "4.0.5", "4.2.1"] {
            let p = plan(&detail(QueueType::Quorum, version, json!({})), 10);
            assert!(
                p.effects
                    .iter()
                    .all(|e| e.kind != EffectKind::ConnectionLossCounts),
                "{version}: a return is counted anyway, and the plan says so with consent"
            );
        }
        for queue_type in [QueueType::Classic, QueueType::Stream] {
            let p = plan(&detail(queue_type, "4.3.6", json!({})), 10);
            assert!(p
                .effects
                .iter()
                .all(|e| e.kind != EffectKind::ConnectionLossCounts));
        }
    }

    #[test]
    fn the_plan_states_the_order_a_consumer_gets() {
        let order =
            |t: QueueType, version: &str, args: Value| plan(&detail(t, version, args), 10).order;
        assert_eq!(
            order(QueueType::Quorum, "3.10.8", json!({})),
            DeliveryOrder::Publication
        );
        assert_eq!(
            order(QueueType::Quorum, "4.0.5", json!({})),
            DeliveryOrder::HighThenNormalTwoToOne
        );
        assert_eq!(
            order(QueueType::Quorum, "4.3.6", json!({})),
            DeliveryOrder::HighestPriorityFirst
        );
        assert_eq!(
            order(QueueType::Classic, "3.10.8", json!({})),
            DeliveryOrder::Publication
        );
        assert_eq!(
            order(QueueType::Classic, "3.10.8", json!({"x-max-priority": 10})),
            DeliveryOrder::HighestPriorityFirst
        );
        assert_eq!(
            order(QueueType::Stream, "4.3.6", json!({})),
            DeliveryOrder::Offset
        );
    }
}
