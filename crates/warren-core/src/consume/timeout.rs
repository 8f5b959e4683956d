//! The consumer timeout a consumer is under: how long the broker lets a delivery stay
//! unacknowledged before it closes the channel (and requeues everything the channel held).
//!
//! The server-wide value (`consumer_timeout` in a node's configuration) is not in the
//! management API, so Warren reads what it can: from 3.11.15/3.12 a queue's
//! `x-consumer-timeout` argument or the `consumer-timeout` key of its effective policy, which
//! win over the server-wide value. Otherwise it shows the broker's default and says that it is
//! the default.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::broker::{self, BrokerVersion};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TimeoutSource {
    /// The queue's `x-consumer-timeout` argument.
    QueueArgument,
    /// The `consumer-timeout` key of the queue's effective policy.
    Policy,
    /// The broker's default, as no setting Warren can read says otherwise; a node's
    /// configuration may set another value.
    BrokerDefault,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConsumerTimeout {
    #[ts(type = "number")]
    pub ms: u64,
    pub source: TimeoutSource,
}

/// The timeout of a queue with these arguments and effective policy on this version.
pub fn resolve(
    arguments: &Map<String, Value>,
    effective_policy: &Map<String, Value>,
    version: Option<BrokerVersion>,
) -> ConsumerTimeout {
    let number = |v: Option<&Value>| match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if broker::consumer_timeout_per_queue(version) {
        if let Some(ms) = number(arguments.get("x-consumer-timeout")) {
            return ConsumerTimeout {
                ms,
                source: TimeoutSource::QueueArgument,
            };
        }
        if let Some(ms) = number(effective_policy.get("consumer-timeout")) {
            return ConsumerTimeout {
                ms,
                source: TimeoutSource::Policy,
            };
        }
    }
    default()
}

/// The broker's default, for a consumer whose queue Warren could not read.
pub fn default() -> ConsumerTimeout {
    ConsumerTimeout {
        ms: broker::DEFAULT_CONSUMER_TIMEOUT_MS,
        source: TimeoutSource::BrokerDefault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn argument_then_policy_then_default_where_the_version_has_them() {
        let v = |s: &str| BrokerVersion::parse(Some(s));
        let args = map(json!({"x-consumer-timeout": 60000}));
        let policy = map(json!({"consumer-timeout": "90000"}));
        let none = Map::new();
        assert_eq!(
            resolve(&args, &policy, v("4.3.6")),
            ConsumerTimeout {
                ms: 60000,
                source: TimeoutSource::QueueArgument
            }
        );
        assert_eq!(
            resolve(&none, &policy, v("3.12.0")),
            ConsumerTimeout {
                ms: 90000,
                source: TimeoutSource::Policy
            }
        );
        // 3.10 ignores both: the broker's default applies.
        assert_eq!(resolve(&args, &policy, v("3.10.8")), default());
        assert_eq!(resolve(&none, &none, v("4.3.6")).ms, 1_800_000);
    }
}
