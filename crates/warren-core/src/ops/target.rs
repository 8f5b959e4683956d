//! Where a message goes: the target of a move or copy (a queue through the default exchange,
//! or an exchange with a routing key), or, for a dead letter sent back, the exchange and
//! routing key its `x-death` names. Also the checks that a target exists, made before
//! anything changes.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::select::DELIVERY_HEADERS;
use crate::error::{Error, Result};
use crate::message::{death_records, Message};
use crate::operation::BROKER_REPLY_WAIT;
use crate::session::ClusterSession;

const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Where a move or copy publishes, in the target cluster's vhost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum Target {
    /// A queue, through the default exchange (routing key: the queue's name).
    Queue { name: String },
    /// An exchange; without a routing key each message keeps its own.
    Exchange {
        name: String,
        #[serde(default)]
        #[ts(optional = nullable)]
        routing_key: Option<String>,
    },
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Queue { name } => format!("queue \"{name}\""),
            Target::Exchange {
                name,
                routing_key: Some(key),
            } => format!("exchange \"{}\" with routing key \"{key}\"", shown(name)),
            Target::Exchange {
                name,
                routing_key: None,
            } => format!(
                "exchange \"{}\" with each message's routing key",
                shown(name)
            ),
        }
    }

    /// `message` as it is published to this target.
    pub fn address(&self, message: &Message) -> Message {
        let mut m = without_delivery_headers(message);
        match self {
            Target::Queue { name } => {
                m.exchange = String::new();
                m.routing_key = name.clone();
            }
            Target::Exchange { name, routing_key } => {
                m.exchange = name.clone();
                if let Some(key) = routing_key {
                    m.routing_key = key.clone();
                }
            }
        }
        m
    }
}

fn shown(exchange: &str) -> &str {
    if exchange.is_empty() {
        "(default)"
    } else {
        exchange
    }
}

/// The headers the broker set when the source queue delivered the message describe that
/// queue's deliveries, not the message: a republished copy starts without them.
fn without_delivery_headers(message: &Message) -> Message {
    let mut m = message.clone();
    if let Some(h) = m.properties.headers.as_mut() {
        let mut inner = h.inner().clone();
        for name in DELIVERY_HEADERS {
            inner.remove(name);
        }
        *h = inner.into();
    }
    m
}

/// Whether a dead-lettering header: `x-death` and the `x-first-death-*`/`x-last-death-*`
/// summaries.
fn is_death_header(name: &str) -> bool {
    name == "x-death" || name.starts_with("x-first-death-") || name.starts_with("x-last-death-")
}

/// A dead letter as it is sent back: to the exchange and the first routing key of its most
/// recent `x-death` entry (the one RabbitMQ puts first), optionally without its dead-lettering
/// history. An error (the reason, per message) when it has no `x-death`.
pub fn send_back_address(
    message: &Message,
    strip_death: bool,
) -> std::result::Result<Message, String> {
    let deaths = death_records(&message.properties);
    let Some(last) = deaths.first() else {
        return Err("it has no x-death header, so it is not a dead letter".into());
    };
    let (Some(exchange), Some(key)) = (&last.exchange, last.routing_keys.first()) else {
        return Err("its x-death names no exchange or routing key to send it back to".into());
    };
    let mut m = without_delivery_headers(message);
    m.exchange = exchange.clone();
    m.routing_key = key.clone();
    if strip_death {
        if let Some(h) = m.properties.headers.as_mut() {
            let kept: std::collections::BTreeMap<_, _> = h
                .inner()
                .iter()
                .filter(|(k, _)| !is_death_header(k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            *h = kept.into();
        }
        if m.properties
            .headers
            .as_ref()
            .is_some_and(|h| h.inner().is_empty())
        {
            m.properties.headers = None;
        }
    }
    Ok(m)
}

/// What a passive declare said.
enum Declared {
    Exists,
    Missing,
}

async fn declare_passive(session: &ClusterSession, queue: bool, name: &str) -> Result<Declared> {
    let (channel, endpoint) = session.channel(CONNECT_WAIT).await?;
    let reply = if queue {
        tokio::time::timeout(
            BROKER_REPLY_WAIT,
            channel.queue_declare(
                name.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            ),
        )
        .await
        .map(|r| r.map(|_| ()))
    } else {
        tokio::time::timeout(
            BROKER_REPLY_WAIT,
            channel.exchange_declare(
                name.into(),
                lapin::ExchangeKind::Direct,
                ExchangeDeclareOptions {
                    passive: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            ),
        )
        .await
    };
    if channel.status().connected() {
        let _ = tokio::time::timeout(BROKER_REPLY_WAIT, channel.close(200, "".into())).await;
    }
    match reply {
        Err(_) => Err(Error::Timeout {
            endpoint,
            after: BROKER_REPLY_WAIT,
        }),
        Ok(Ok(())) => Ok(Declared::Exists),
        Ok(Err(e)) => match e.kind() {
            lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == 404 => Ok(Declared::Missing),
            _ => Err(session.operation_error(&endpoint, e)),
        },
    }
}

/// Fails with "not found" when `target` does not exist in `session`'s vhost.
pub async fn check(session: &ClusterSession, target: &Target) -> Result<()> {
    let vhost = session.target().vhost.clone();
    match target {
        Target::Queue { name } => match declare_passive(session, true, name).await? {
            Declared::Exists => Ok(()),
            Declared::Missing => Err(Error::QueueNotFound {
                vhost,
                name: name.clone(),
            }),
        },
        Target::Exchange { name, .. } => exchange_exists(session, name).await,
    }
}

/// Fails with "not found" when exchange `name` does not exist (the default one always does).
pub async fn exchange_exists(session: &ClusterSession, name: &str) -> Result<()> {
    if name.is_empty() {
        return Ok(());
    }
    match declare_passive(session, false, name).await? {
        Declared::Exists => Ok(()),
        Declared::Missing => Err(Error::ExchangeNotFound {
            vhost: session.target().vhost.clone(),
            name: name.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Properties;
    use lapin::types::{AMQPValue, FieldArray, FieldTable, LongString};

    fn dead_letter() -> Message {
        let mut death = FieldTable::default();
        death.insert("queue".into(), AMQPValue::LongString("work".into()));
        death.insert("reason".into(), AMQPValue::LongString("rejected".into()));
        death.insert("exchange".into(), AMQPValue::LongString("orders".into()));
        death.insert(
            "routing-keys".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::LongString(
                "eu.new".into(),
            )])),
        );
        let mut older = death.clone();
        older.insert("exchange".into(), AMQPValue::LongString("first".into()));
        let mut headers = FieldTable::default();
        headers.insert(
            "x-death".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![
                AMQPValue::FieldTable(death),
                AMQPValue::FieldTable(older),
            ])),
        );
        headers.insert(
            "x-first-death-queue".into(),
            AMQPValue::LongString("work".into()),
        );
        headers.insert("x-delivery-count".into(), AMQPValue::LongLongInt(2));
        headers.insert(
            "tenant".into(),
            AMQPValue::LongString(LongString::from("acme")),
        );
        Message {
            exchange: "dlx".into(),
            routing_key: "eu.new".into(),
            properties: Properties {
                headers: Some(headers),
                ..Properties::default()
            },
            body: b"x".to_vec(),
        }
    }

    fn header_names(m: &Message) -> Vec<String> {
        m.properties
            .headers
            .as_ref()
            .map(|h| h.inner().keys().map(|k| k.as_str().to_owned()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_dead_letter_goes_back_where_its_latest_death_says() {
        let back = send_back_address(&dead_letter(), false).unwrap();
        assert_eq!(
            (back.exchange.as_str(), back.routing_key.as_str()),
            ("orders", "eu.new")
        );
        assert_eq!(
            header_names(&back),
            ["tenant", "x-death", "x-first-death-queue"]
        );
        let stripped = send_back_address(&dead_letter(), true).unwrap();
        assert_eq!(header_names(&stripped), ["tenant"]);
        assert_eq!(stripped.body, b"x");
        let mut plain = dead_letter();
        plain.properties.headers = None;
        assert!(send_back_address(&plain, true)
            .unwrap_err()
            .contains("not a dead letter"));
    }

    #[test]
    fn targets_address_messages_and_drop_delivery_headers() {
        let m = dead_letter();
        let q = Target::Queue { name: "b".into() }.address(&m);
        assert_eq!((q.exchange.as_str(), q.routing_key.as_str()), ("", "b"));
        assert!(!header_names(&q).contains(&"x-delivery-count".to_owned()));
        let keep = Target::Exchange {
            name: "x".into(),
            routing_key: None,
        }
        .address(&m);
        assert_eq!(
            (keep.exchange.as_str(), keep.routing_key.as_str()),
            ("x", "eu.new")
        );
        let set = Target::Exchange {
            name: "x".into(),
            routing_key: Some("k".into()),
        };
        assert_eq!(set.address(&m).routing_key, "k");
        assert!(set.describe().contains("routing key \"k\""));
    }
}
