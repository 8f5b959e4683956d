//! The `x-death` history RabbitMQ writes into a dead-lettered message: where it came from and
//! why. Read here once, for the inspector's message detail and for sending dead letters back
//! to where they came from (ops).

use lapin::types::AMQPValue;
use serde::Serialize;
use ts_rs::TS;

use super::format::{value_text, Properties};

/// One entry of `x-death`: a queue the message died in, why, and how it had been published
/// there (exchange and routing keys).
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct DeathRecord {
    pub queue: Option<String>,
    pub reason: Option<String>,
    #[ts(type = "number | null")]
    pub count: Option<u64>,
    pub exchange: Option<String>,
    pub routing_keys: Vec<String>,
    /// Epoch seconds.
    #[ts(type = "number | null")]
    pub time: Option<u64>,
    pub original_expiration: Option<String>,
}

/// The `x-death` history of a message, newest first as RabbitMQ keeps it (empty when it has
/// none).
pub fn death_records(properties: &Properties) -> Vec<DeathRecord> {
    let Some(AMQPValue::FieldArray(deaths)) = properties
        .headers
        .as_ref()
        .and_then(|h| h.inner().get("x-death"))
    else {
        return Vec::new();
    };
    deaths
        .as_slice()
        .iter()
        .filter_map(|d| match d {
            AMQPValue::FieldTable(t) => Some(t),
            _ => None,
        })
        .map(|t| {
            let get = |k: &str| t.inner().get(k);
            let text = |k: &str| match get(k) {
                Some(AMQPValue::LongString(s)) => {
                    Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
                }
                Some(AMQPValue::ShortString(s)) => Some(s.as_str().to_owned()),
                _ => None,
            };
            let number = |k: &str| match get(k) {
                Some(AMQPValue::LongLongInt(n)) => u64::try_from(*n).ok(),
                Some(AMQPValue::LongInt(n)) => u64::try_from(*n).ok(),
                Some(AMQPValue::Timestamp(n)) => Some(*n),
                _ => None,
            };
            let routing_keys = match get("routing-keys") {
                Some(AMQPValue::FieldArray(a)) => a.as_slice().iter().map(value_text).collect(),
                _ => Vec::new(),
            };
            DeathRecord {
                queue: text("queue"),
                reason: text("reason"),
                count: number("count"),
                exchange: text("exchange"),
                routing_keys,
                time: number("time"),
                original_expiration: text("original-expiration"),
            }
        })
        .collect()
}
