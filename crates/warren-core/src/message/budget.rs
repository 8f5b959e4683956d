//! What a held message costs in memory, and the budget held messages stay within.
//!
//! Everything that keeps broker messages in Warren's memory (a peek's inspection, a consumer's
//! held deliveries) counts them the same way, so one figure means the same everywhere: the
//! body's bytes plus a fixed cost per header. A broker may hold far more than a desktop can
//! (100,000 messages of 1 MiB is 100 GB), so what is held is capped, and the holder says so
//! when it stops at the cap instead of taking more.

use super::Message;
use crate::error::{Error, Result};

/// The budget when a request names none.
pub const DEFAULT_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// What one header is counted as toward the budget (name, type and a typical value).
pub const HEADER_BYTES: u64 = 64;

/// What holding `m` counts toward a budget: its body and its headers.
pub fn held_bytes(m: &Message) -> u64 {
    let headers = m
        .properties
        .headers
        .as_ref()
        .map_or(0, |h| h.inner().len() as u64);
    (m.body.len() as u64).saturating_add(headers.saturating_mul(HEADER_BYTES))
}

/// Checks a budget given in a request (`None`: the default).
pub fn check(budget_bytes: Option<u64>) -> Result<u64> {
    match budget_bytes {
        Some(0) => Err(Error::invalid("budget_bytes", "must be more than 0")),
        Some(b) => Ok(b),
        None => Ok(DEFAULT_BUDGET_BYTES),
    }
}

/// A byte amount for people: `64 MiB`, `1.5 GiB`, `900 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if value.fract() < 0.05 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Properties;
    use lapin::types::{AMQPValue, FieldTable};

    #[test]
    fn a_message_counts_its_body_and_headers() {
        let mut headers = FieldTable::default();
        headers.insert("a".into(), AMQPValue::Boolean(true));
        headers.insert("b".into(), AMQPValue::Boolean(true));
        let m = Message {
            exchange: "x".into(),
            routing_key: "k".into(),
            properties: Properties {
                headers: Some(headers),
                ..Properties::default()
            },
            body: vec![0; 1000],
        };
        assert_eq!(held_bytes(&m), 1000 + 2 * HEADER_BYTES);
        assert_eq!(check(None).unwrap(), DEFAULT_BUDGET_BYTES);
        assert!(check(Some(0)).is_err());
        assert_eq!(human_bytes(64 * 1024 * 1024), "64 MiB");
        assert_eq!(human_bytes(900), "900 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
