//! Which messages an operation acts on, and the proof that they are the ones the user saw.
//!
//! A selection comes from a peek: each message by its position in the queue and a fingerprint
//! of its content. Between the peek and the operation the queue may change (a consumer takes
//! the head, a producer adds messages, another peek reorders a quorum queue), so the
//! operation reads the queue again and checks every selected position against its
//! fingerprint before it changes anything: a position that now holds another message aborts
//! the whole operation with nothing acknowledged. Pure, so the rules are unit-tested.
//!
//! The fingerprint covers the body and the properties, headers included, in the message
//! format's JSON form (stable across processes and versions: a `warren peek --json` file read
//! back gives the same fingerprint), minus the headers the broker changes when it delivers a
//! message again (`x-delivery-count`, `x-acquired-count`): a peek itself adds them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::message::{Message, PropertiesJson};
use crate::peek::PeekedMessage;

/// Headers a redelivery adds or changes; they are not part of a message's content.
pub(super) const DELIVERY_HEADERS: [&str; 2] = ["x-delivery-count", "x-acquired-count"];

/// One selected message: where it was in the queue and what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SelectedMessage {
    /// 1-based position in the queue when it was peeked.
    pub position: u32,
    /// [`fingerprint`] of its content, as 16 hex digits.
    pub fingerprint: String,
}

impl SelectedMessage {
    pub fn of(m: &PeekedMessage) -> SelectedMessage {
        SelectedMessage {
            position: m.position,
            fingerprint: fingerprint(&m.message),
        }
    }
}

/// Which messages of the queue an operation takes.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum OpsSelection {
    /// Every message ready when the operation starts (later arrivals are left alone).
    All,
    /// The first `count` messages.
    First { count: u32 },
    /// These messages, as peeked (matched by position and content).
    Messages { messages: Vec<SelectedMessage> },
}

/// 64-bit FNV-1a: small, and the same in every build (std's hasher makes no such promise).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The fingerprint of a message's content: body and properties (see the module
/// documentation), as 16 hex digits.
pub fn fingerprint(m: &Message) -> String {
    let mut properties = PropertiesJson::from(m.properties.clone());
    if let Some(h) = properties.headers.as_mut() {
        for name in DELIVERY_HEADERS {
            h.remove(name);
        }
        if h.is_empty() {
            properties.headers = None;
        }
    }
    let mut h = Fnv::new();
    h.write(&(m.body.len() as u64).to_le_bytes());
    h.write(&m.body);
    h.write(
        serde_json::to_string(&properties)
            .expect("properties serialise")
            .as_bytes(),
    );
    format!("{:016x}", h.0)
}

/// The selected positions, sorted, without repeats, checked: positions start at 1, and one
/// position cannot name two different messages.
pub fn normalise(selected: &[SelectedMessage]) -> Result<Vec<SelectedMessage>> {
    if selected.is_empty() {
        return Err(Error::invalid("selection", "no message is selected"));
    }
    let mut sorted = selected.to_vec();
    sorted.sort_by_key(|s| s.position);
    sorted.dedup();
    for pair in sorted.windows(2) {
        if pair[0].position == pair[1].position {
            return Err(Error::invalid(
                "selection",
                format!(
                    "position {} is selected with two different contents",
                    pair[0].position
                ),
            ));
        }
    }
    if sorted[0].position == 0 {
        return Err(Error::invalid("selection", "positions start at 1"));
    }
    Ok(sorted)
}

/// Checks that the messages read now (`read`, in queue order from position 1) hold every
/// selected message at its position. Returns the indices into `read` of the selected
/// messages, in order; the first difference is an error that says what changed, and the
/// caller then changes nothing.
pub fn verify(
    vhost: &str,
    queue: &str,
    selected: &[SelectedMessage],
    read: &[PeekedMessage],
) -> Result<Vec<usize>> {
    let changed = |detail: String| Error::QueueChanged {
        vhost: vhost.to_owned(),
        queue: queue.to_owned(),
        detail,
    };
    selected
        .iter()
        .map(|s| {
            let i = s.position as usize - 1;
            let m = read.get(i).ok_or_else(|| {
                changed(format!(
                    "it now holds {} message(s), fewer than position {}",
                    read.len(),
                    s.position
                ))
            })?;
            if fingerprint(&m.message) != s.fingerprint {
                return Err(changed(format!(
                    "position {} now holds another message",
                    s.position
                )));
            }
            Ok(i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Properties;
    use lapin::types::{AMQPValue, FieldTable, LongString};

    fn peeked(position: u32, body: &str, headers: &[(&str, AMQPValue)]) -> PeekedMessage {
        let mut table = FieldTable::default();
        for (k, v) in headers {
            table.insert((*k).into(), v.clone());
        }
        PeekedMessage {
            position,
            message: Message {
                exchange: "x".into(),
                routing_key: "k".into(),
                properties: Properties {
                    message_id: Some(format!("id-{body}")),
                    headers: (!headers.is_empty()).then_some(table),
                    ..Properties::default()
                },
                body: body.as_bytes().to_vec(),
            },
            redelivered: false,
            offset: None,
            delivery_count: None,
            received_at_ms: 0,
        }
    }

    #[test]
    fn the_fingerprint_ignores_what_a_redelivery_adds_and_nothing_else() {
        let plain = peeked(1, "a", &[]);
        let counted = peeked(1, "a", &[("x-delivery-count", AMQPValue::LongLongInt(1))]);
        let acquired = peeked(1, "a", &[("x-acquired-count", AMQPValue::LongLongInt(2))]);
        let fp = fingerprint(&plain.message);
        assert_eq!(fp.len(), 16);
        assert_eq!(fingerprint(&counted.message), fp);
        assert_eq!(fingerprint(&acquired.message), fp);
        let tenant = peeked(
            1,
            "a",
            &[("t", AMQPValue::LongString(LongString::from("x")))],
        );
        assert_ne!(fingerprint(&tenant.message), fp);
        assert_ne!(fingerprint(&peeked(1, "b", &[]).message), fp);
        let mut other_prop = plain.clone();
        other_prop.message.properties.priority = Some(1);
        assert_ne!(fingerprint(&other_prop.message), fp);
        // The routing does not matter: a message is itself wherever it was published.
        let mut rerouted = plain.clone();
        rerouted.message.routing_key = "other".into();
        assert_eq!(fingerprint(&rerouted.message), fp);
    }

    #[test]
    fn a_peek_file_read_back_gives_the_same_fingerprint() {
        let m = peeked(
            3,
            "{\"n\":1}",
            &[
                ("t", AMQPValue::LongString(LongString::from("x"))),
                ("n", AMQPValue::LongLongInt(1 << 60)),
                ("f", AMQPValue::Double(0.1)),
                ("ts", AMQPValue::Timestamp(1_700_000_000)),
            ],
        );
        let line = serde_json::to_string(&m).unwrap();
        let back: PeekedMessage = serde_json::from_str(&line).unwrap();
        assert_eq!(SelectedMessage::of(&back), SelectedMessage::of(&m));
    }

    #[test]
    fn verification_names_the_first_change_and_passes_only_exact_matches() {
        let read: Vec<PeekedMessage> = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(i, b)| peeked(i as u32 + 1, b, &[]))
            .collect();
        let sel = |p: u32, body: &str| SelectedMessage {
            position: p,
            fingerprint: fingerprint(&peeked(p, body, &[]).message),
        };
        assert_eq!(
            verify("/", "q", &[sel(1, "a"), sel(3, "c")], &read).unwrap(),
            [0, 2]
        );
        let moved = verify("/", "q", &[sel(1, "a"), sel(2, "c")], &read).unwrap_err();
        assert!(
            matches!(&moved, Error::QueueChanged { detail, .. } if detail.contains("position 2")),
            "{moved}"
        );
        let gone = verify("/", "q", &[sel(4, "d")], &read).unwrap_err();
        assert!(gone.to_string().contains("fewer than position 4"), "{gone}");
    }

    #[test]
    fn selections_are_sorted_deduplicated_and_checked() {
        let s = |p: u32, f: &str| SelectedMessage {
            position: p,
            fingerprint: f.into(),
        };
        let n = normalise(&[s(3, "c"), s(1, "a"), s(3, "c")]).unwrap();
        assert_eq!(n, [s(1, "a"), s(3, "c")]);
        assert!(normalise(&[]).is_err());
        assert!(normalise(&[s(0, "a")]).is_err());
        assert!(normalise(&[s(2, "a"), s(2, "b")])
            .unwrap_err()
            .to_string()
            .contains("two different"));
    }
}
