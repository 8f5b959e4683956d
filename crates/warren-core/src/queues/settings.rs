//! A queue's settings: what decides how its messages are kept, dropped or dead-lettered, and
//! where each setting comes from (an x-argument, a policy, an operator policy, or the broker's
//! default for the queue type and version).
//!
//! Logic (a peek's plan, and what comes after it) asks typed questions
//! ([`QueueSettings::delivery_limit`], [`QueueSettings::dead_letter_exchange`]); the list the
//! app and the CLI display ([`QueueFeature`]) is built from the same resolved settings, so the
//! two cannot disagree.

use serde::Serialize;
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::broker::{self, BrokerVersion, QueueType};

/// One setting as shown: its stable key, a label, the value as the broker has it, its source.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct QueueFeature {
    /// A stable key: `dead_letter_exchange`, `message_ttl`, `max_length`, `delivery_limit`...
    pub key: String,
    pub label: String,
    #[ts(type = "unknown")]
    pub value: Value,
    pub source: FeatureSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FeatureSource {
    Argument,
    Policy,
    OperatorPolicy,
    /// The broker's default for this queue type and version (4.x quorum delivery limit).
    Default,
}

/// The settings Warren knows, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    DeadLetterExchange,
    DeadLetterRoutingKey,
    DeadLetterStrategy,
    MessageTtl,
    Expires,
    MaxLength,
    MaxLengthBytes,
    Overflow,
    DeliveryLimit,
    MaxPriority,
    SingleActiveConsumer,
    QueueMode,
    QueueVersion,
    MaxAge,
    StreamMaxSegmentSizeBytes,
    HaMode,
    HaSyncMode,
}

impl Setting {
    pub const ALL: [Setting; 17] = [
        Setting::DeadLetterExchange,
        Setting::DeadLetterRoutingKey,
        Setting::DeadLetterStrategy,
        Setting::MessageTtl,
        Setting::Expires,
        Setting::MaxLength,
        Setting::MaxLengthBytes,
        Setting::Overflow,
        Setting::DeliveryLimit,
        Setting::MaxPriority,
        Setting::SingleActiveConsumer,
        Setting::QueueMode,
        Setting::QueueVersion,
        Setting::MaxAge,
        Setting::StreamMaxSegmentSizeBytes,
        Setting::HaMode,
        Setting::HaSyncMode,
    ];

    /// (stable key, label, x-argument, policy key); an empty name: not settable that way.
    fn names(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Setting::DeadLetterExchange => (
                "dead_letter_exchange",
                "Dead-letter exchange",
                "x-dead-letter-exchange",
                "dead-letter-exchange",
            ),
            Setting::DeadLetterRoutingKey => (
                "dead_letter_routing_key",
                "Dead-letter routing key",
                "x-dead-letter-routing-key",
                "dead-letter-routing-key",
            ),
            Setting::DeadLetterStrategy => (
                "dead_letter_strategy",
                "Dead-letter strategy",
                "x-dead-letter-strategy",
                "dead-letter-strategy",
            ),
            Setting::MessageTtl => (
                "message_ttl",
                "Message TTL (ms)",
                "x-message-ttl",
                "message-ttl",
            ),
            Setting::Expires => (
                "expires",
                "Queue expires after (ms)",
                "x-expires",
                "expires",
            ),
            Setting::MaxLength => (
                "max_length",
                "Max length (messages)",
                "x-max-length",
                "max-length",
            ),
            Setting::MaxLengthBytes => (
                "max_length_bytes",
                "Max length (bytes)",
                "x-max-length-bytes",
                "max-length-bytes",
            ),
            Setting::Overflow => ("overflow", "Overflow behaviour", "x-overflow", "overflow"),
            Setting::DeliveryLimit => (
                "delivery_limit",
                "Delivery limit",
                "x-delivery-limit",
                "delivery-limit",
            ),
            Setting::MaxPriority => (
                "max_priority",
                "Max priority",
                "x-max-priority",
                "max-priority",
            ),
            Setting::SingleActiveConsumer => (
                "single_active_consumer",
                "Single active consumer",
                "x-single-active-consumer",
                "",
            ),
            Setting::QueueMode => ("queue_mode", "Queue mode", "x-queue-mode", "queue-mode"),
            Setting::QueueVersion => (
                "queue_version",
                "Queue version",
                "x-queue-version",
                "queue-version",
            ),
            Setting::MaxAge => ("max_age", "Max age (streams)", "x-max-age", "max-age"),
            Setting::StreamMaxSegmentSizeBytes => (
                "stream_max_segment_size_bytes",
                "Segment size (streams)",
                "x-stream-max-segment-size-bytes",
                "stream-max-segment-size-bytes",
            ),
            Setting::HaMode => ("ha_mode", "Mirroring (ha-mode)", "", "ha-mode"),
            Setting::HaSyncMode => (
                "ha_sync_mode",
                "Mirror sync (ha-sync-mode)",
                "",
                "ha-sync-mode",
            ),
        }
    }

    /// The stable key the display list uses.
    pub fn key(self) -> &'static str {
        self.names().0
    }
}

/// One resolved setting: its value as the broker has it and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub setting: Setting,
    pub value: Value,
    pub source: FeatureSource,
}

/// Every setting that applies to one queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueSettings {
    resolved: Vec<Resolved>,
}

impl QueueSettings {
    /// Resolves a queue's settings from its arguments and effective policy definition. An
    /// argument wins over a policy; for the limits RabbitMQ applies the lower of policy and
    /// operator policy, which is what the effective definition holds.
    pub fn resolve(
        queue_type: QueueType,
        arguments: &Map<String, Value>,
        effective_policy: &Map<String, Value>,
        operator_policy_name: Option<&str>,
        version: Option<BrokerVersion>,
    ) -> QueueSettings {
        let mut resolved = Vec::new();
        for setting in Setting::ALL {
            let (_, _, arg, policy_key) = setting.names();
            let (value, source) =
                if let Some(v) = (!arg.is_empty()).then(|| arguments.get(arg)).flatten() {
                    (v.clone(), FeatureSource::Argument)
                } else if let Some(v) = (!policy_key.is_empty())
                    .then(|| effective_policy.get(policy_key))
                    .flatten()
                {
                    let source = if operator_policy_name.is_some() {
                        FeatureSource::OperatorPolicy
                    } else {
                        FeatureSource::Policy
                    };
                    (v.clone(), source)
                } else if let Some(limit) = (setting == Setting::DeliveryLimit)
                    .then(|| broker::default_delivery_limit(queue_type, version))
                    .flatten()
                {
                    (Value::from(limit), FeatureSource::Default)
                } else {
                    continue;
                };
            resolved.push(Resolved {
                setting,
                value,
                source,
            });
        }
        QueueSettings { resolved }
    }

    pub fn get(&self, setting: Setting) -> Option<&Resolved> {
        self.resolved.iter().find(|r| r.setting == setting)
    }

    /// The delivery limit, when the queue has one (a negative limit, as 4.x allows, is none).
    pub fn delivery_limit(&self) -> Option<u64> {
        self.get(Setting::DeliveryLimit)
            .and_then(|r| match &r.value {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            })
    }

    /// The dead-letter exchange, when one is set ("" is the default exchange).
    pub fn dead_letter_exchange(&self) -> Option<&str> {
        self.get(Setting::DeadLetterExchange)
            .and_then(|r| r.value.as_str())
    }

    /// The dead-letter routing key, when one is set (else dead letters keep their own keys).
    pub fn dead_letter_routing_key(&self) -> Option<&str> {
        self.get(Setting::DeadLetterRoutingKey)
            .and_then(|r| r.value.as_str())
    }

    /// The maximum priority (`x-max-priority`), when one is set; what a queue type makes of it
    /// is the broker's rule ([`broker::delivery_order`]).
    pub fn max_priority(&self) -> Option<u64> {
        self.get(Setting::MaxPriority).and_then(|r| match &r.value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
    }

    /// The list the app and the CLI show.
    pub fn features(&self) -> Vec<QueueFeature> {
        self.resolved
            .iter()
            .map(|r| {
                let (key, label, _, _) = r.setting.names();
                QueueFeature {
                    key: key.to_owned(),
                    label: label.to_owned(),
                    value: r.value.clone(),
                    source: r.source,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn resolve(
        queue_type: QueueType,
        arguments: Value,
        policy: Value,
        version: &str,
    ) -> QueueSettings {
        QueueSettings::resolve(
            queue_type,
            &map(arguments),
            &map(policy),
            None,
            BrokerVersion::parse(Some(version)),
        )
    }

    #[test]
    fn arguments_win_over_policies_and_sources_are_named() {
        let s = resolve(
            QueueType::Classic,
            json!({"x-message-ttl": 1000, "x-dead-letter-exchange": "dlx"}),
            json!({"message-ttl": 5000, "max-length": 10, "ha-mode": "all"}),
            "3.10.8",
        );
        let f = s.features();
        let get = |k: &str| f.iter().find(|x| x.key == k).cloned();
        assert_eq!(get("message_ttl").unwrap().value, json!(1000));
        assert_eq!(get("message_ttl").unwrap().source, FeatureSource::Argument);
        assert_eq!(get("max_length").unwrap().source, FeatureSource::Policy);
        assert_eq!(get("dead_letter_exchange").unwrap().value, json!("dlx"));
        assert_eq!(get("ha_mode").unwrap().value, json!("all"));
        assert!(get("delivery_limit").is_none());
        assert_eq!(s.dead_letter_exchange(), Some("dlx"));
        assert_eq!(s.delivery_limit(), None);
        assert_eq!(s.max_priority(), None);
        let by_policy = resolve(
            QueueType::Classic,
            json!({}),
            json!({"max-priority": 10}),
            "3.10.8",
        );
        assert_eq!(by_policy.max_priority(), Some(10));
        let by_argument = resolve(
            QueueType::Classic,
            json!({"x-max-priority": "5"}),
            json!({"max-priority": 10}),
            "3.10.8",
        );
        assert_eq!(by_argument.max_priority(), Some(5));
    }

    #[test]
    fn quorum_queues_on_4x_show_the_default_delivery_limit() {
        let s4 = resolve(QueueType::Quorum, json!({}), json!({}), "4.1.0");
        let f4 = s4.features();
        let dl = f4.iter().find(|x| x.key == "delivery_limit").unwrap();
        assert_eq!(
            (dl.value.clone(), dl.source),
            (json!(20), FeatureSource::Default)
        );
        assert_eq!(s4.delivery_limit(), Some(20));
        let f3 = resolve(QueueType::Quorum, json!({}), json!({}), "3.13.7").features();
        assert!(f3.iter().all(|x| x.key != "delivery_limit"));
    }

    #[test]
    fn typed_readings_take_the_broker_spellings() {
        let s = resolve(
            QueueType::Quorum,
            json!({"x-delivery-limit": "5"}),
            json!({"dead-letter-exchange": ""}),
            "3.10.8",
        );
        assert_eq!(s.delivery_limit(), Some(5));
        assert_eq!(s.dead_letter_exchange(), Some(""));
        let unlimited = resolve(
            QueueType::Quorum,
            json!({"x-delivery-limit": -1}),
            json!({}),
            "4.2.1",
        );
        assert_eq!(unlimited.delivery_limit(), None);
        assert_eq!(
            unlimited.features()[0].value,
            json!(-1),
            "the display keeps the value as the broker has it"
        );
    }
}
