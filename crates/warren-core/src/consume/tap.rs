//! Tap: watch an exchange's traffic without taking anything from anyone.
//!
//! Warren declares a server-named, exclusive, auto-delete queue, binds it to the exchange as
//! asked, and consumes it with automatic ack: every message seen is a copy that the exchange
//! also routed to its own queues. The queue is deleted when the tap stops (and goes with the
//! connection anyway, being exclusive). On a vhost with tracing on, tapping
//! `amq.rabbitmq.trace` shows what is published (`publish.#`) and delivered (`deliver.#`).
//!
//! The key defaults by exchange type: everything (`#`) on a topic exchange, no key on fanout
//! and headers exchanges (a headers binding with no arguments matches every message); a direct
//! exchange needs one.

use std::sync::Arc;

use lapin::options::{QueueBindOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::Channel;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::management::{path_segment, ManagementClient};
use crate::message::decode_table;
use crate::operation::{bounded, until_cancelled, BROKER_REPLY_WAIT};
use crate::session::ClusterSession;

use super::{run, ConsumerHandle, EventReceiver};

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TapRequest {
    pub vhost: String,
    pub exchange: String,
    /// The binding key; by default everything a topic exchange routes, and none for fanout
    /// and headers exchanges.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub binding_key: Option<String>,
    /// Binding arguments (headers exchanges: `x-match` and the headers to match), as header
    /// values in the message format.
    #[serde(default)]
    #[ts(optional = nullable, type = "Record<string, unknown> | null")]
    pub arguments: Option<Map<String, Value>>,
    #[serde(default)]
    #[ts(optional = nullable, type = "number | null")]
    pub budget_bytes: Option<u64>,
    /// After a lost connection, declare and bind a new tap queue without being asked
    /// (messages routed in between are not seen).
    #[serde(default)]
    pub auto_resume: bool,
}

/// The binding a tap makes, decided before anything is declared.
#[derive(Debug, Clone)]
pub(crate) struct TapPlan {
    key: String,
    arguments: FieldTable,
}

/// Starts tapping `request.exchange`: same handle and events as a consumer.
pub async fn start<C>(
    cluster: Arc<C>,
    request: TapRequest,
    cancel: CancellationToken,
) -> Result<(ConsumerHandle, EventReceiver)>
where
    C: AsRef<ClusterSession> + AsRef<ManagementClient> + Send + Sync + 'static,
{
    let api = AsRef::<ManagementClient>::as_ref(&*cluster);
    let plan = until_cancelled(&cancel, plan(api, &request)).await??;
    run::start(cluster, run::Source::Tap(request, plan), cancel).await
}

#[derive(Deserialize)]
struct ExchangeType {
    #[serde(rename = "type", default)]
    kind: String,
}

async fn plan(api: &ManagementClient, r: &TapRequest) -> Result<TapPlan> {
    if r.exchange.is_empty() {
        return Err(Error::invalid(
            "exchange",
            "the default exchange cannot be tapped (it has no bindings); tap the queue's publisher's exchange",
        ));
    }
    if r.budget_bytes == Some(0) {
        return Err(Error::invalid("budget_bytes", "must be more than 0"));
    }
    let arguments = match &r.arguments {
        Some(map) => decode_table("arguments", map)?,
        None => FieldTable::default(),
    };
    let path = format!(
        "exchanges/{}/{}",
        path_segment("vhost", &r.vhost)?,
        path_segment("exchange", &r.exchange)?
    );
    let kind = match tokio::time::timeout(BROKER_REPLY_WAIT, api.get::<ExchangeType>(&path)).await {
        Ok(Ok(e)) => Some(e.kind),
        Ok(Err(Error::Http { status: 404, .. })) => {
            return Err(Error::ExchangeNotFound {
                vhost: r.vhost.clone(),
                name: r.exchange.clone(),
            })
        }
        _ => None,
    };
    let key = default_key(kind.as_deref(), r.binding_key.as_deref())?;
    Ok(TapPlan { key, arguments })
}

/// The binding key: the one asked for, else the exchange type's "everything".
fn default_key(kind: Option<&str>, asked: Option<&str>) -> Result<String> {
    if let Some(k) = asked {
        return Ok(k.to_owned());
    }
    match kind {
        Some("topic") => Ok("#".into()),
        Some("fanout" | "headers") => Ok(String::new()),
        Some("direct") => Err(Error::invalid(
            "binding_key",
            "a direct exchange routes by exact key: give the routing key to watch",
        )),
        Some(other) => Err(Error::invalid(
            "binding_key",
            format!("give the binding key to use on this {other} exchange"),
        )),
        None => Err(Error::invalid(
            "binding_key",
            "the exchange's type could not be read from the management API: give the binding key",
        )),
    }
}

/// Declares the tap's queue on `channel` and binds it; returns its name.
pub(crate) async fn declare(
    channel: &Channel,
    request: &TapRequest,
    plan: &TapPlan,
    cancel: &CancellationToken,
    endpoint: &str,
    map_err: impl Fn(lapin::Error) -> Error,
) -> Result<ShortString> {
    let queue = bounded(
        cancel,
        endpoint,
        BROKER_REPLY_WAIT,
        channel.queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        ),
        &map_err,
    )
    .await?;
    let name: ShortString = queue.name().clone();
    bounded(
        cancel,
        endpoint,
        BROKER_REPLY_WAIT,
        channel.queue_bind(
            name.clone(),
            request.exchange.as_str().into(),
            plan.key.as_str().into(),
            QueueBindOptions::default(),
            plan.arguments.clone(),
        ),
        &map_err,
    )
    .await?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_defaults_by_exchange_type() {
        assert_eq!(default_key(Some("topic"), None).unwrap(), "#");
        assert_eq!(default_key(Some("fanout"), None).unwrap(), "");
        assert_eq!(default_key(Some("headers"), None).unwrap(), "");
        assert_eq!(default_key(Some("direct"), Some("k")).unwrap(), "k");
        let e = default_key(Some("direct"), None).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { field, .. } if field == "binding_key"));
        assert!(default_key(None, None).is_err());
        assert_eq!(default_key(None, Some("a.#")).unwrap(), "a.#");
    }
}
