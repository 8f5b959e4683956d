//! Who is connected to a cluster, and closing a connection with a reason the client receives.
//!
//! A connection is read from `/api/connections` with what its client said about itself (the
//! client-provided name, product, version), and its channels from `/api/channels` are folded
//! into it: how many messages its consumers may hold (the channels' prefetch added up), how
//! many they hold unacknowledged, and its publish and deliver rates. The broker's own name
//! (`127.0.0.1:50412 -> 127.0.0.1:5781`) is the key; a person may name a connection by the
//! name its client gave it instead, when only one connection has that name.
//!
//! Closing sends `DELETE /api/connections/NAME` with the reason in the `X-Reason` header: the
//! broker closes the connection with `CONNECTION_FORCED` and that text, which the client
//! library reports. The reason is checked first (one line of printable ASCII, short enough
//! for AMQP's reply text), so a bad one changes nothing.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::api::{self, Rate};
use crate::error::{Error, Result};
use crate::management::{encode_segment, ManagementClient};

/// The longest reason accepted: the broker prefixes it (`CONNECTION_FORCED - `) into AMQP's
/// reply text, a short string of at most 255 bytes.
pub const MAX_REASON: usize = 200;

/// One client connection as an operator looks at it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ConnectionRow {
    /// The broker's name for it (what closing takes).
    pub name: String,
    /// The name the client gave itself (`connection_name` in its client properties).
    pub client_provided_name: Option<String>,
    pub user: Option<String>,
    pub vhost: Option<String>,
    /// The node the client is connected to.
    pub node: Option<String>,
    pub client_host: Option<String>,
    pub client_port: Option<u16>,
    /// `AMQP 0-9-1`, `AMQP 1.0`, `MQTT 3.1.1`, ...
    pub protocol: Option<String>,
    pub state: Option<String>,
    pub tls: Option<bool>,
    /// The client library and its version, as it announced them.
    pub client: Option<String>,
    #[ts(type = "number | null")]
    pub channels: Option<u64>,
    /// The prefetch limits of its channels added up (unknown when the channels were not read).
    #[ts(type = "number | null")]
    pub prefetch: Option<u64>,
    /// Deliveries its channels hold unacknowledged.
    #[ts(type = "number | null")]
    pub unacked: Option<u64>,
    /// Messages per second it publishes and receives, from its channels' last samples.
    pub publish_rate: Option<f64>,
    pub deliver_rate: Option<f64>,
    /// Bytes per second from and to the client.
    pub recv_rate: Option<f64>,
    pub send_rate: Option<f64>,
    /// When it connected, Unix epoch milliseconds.
    #[ts(type = "number | null")]
    pub connected_at: Option<u64>,
}

/// `/api/connections`, the columns read.
const CONNECTIONS_PATH: &str = "connections?columns=name,user,vhost,node,peer_host,peer_port,protocol,state,ssl,channels,connected_at,client_properties,recv_oct_details,send_oct_details";

/// `/api/channels`, the columns read.
const CHANNELS_PATH: &str = "channels?columns=connection_details,prefetch_count,global_prefetch_count,messages_unacknowledged,message_stats";

/// One entry of `/api/connections`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiConnection {
    #[serde(default)]
    pub name: String,
    pub user: Option<String>,
    pub vhost: Option<String>,
    pub node: Option<String>,
    pub peer_host: Option<String>,
    pub peer_port: Option<Value>,
    pub protocol: Option<String>,
    pub state: Option<String>,
    pub ssl: Option<bool>,
    pub channels: Option<Value>,
    pub connected_at: Option<Value>,
    pub client_properties: Option<serde_json::Map<String, Value>>,
    pub recv_oct_details: Option<Rate>,
    pub send_oct_details: Option<Rate>,
}

/// One entry of `/api/channels`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiChannel {
    pub connection_details: Option<ConnectionDetails>,
    pub prefetch_count: Option<Value>,
    pub global_prefetch_count: Option<Value>,
    pub messages_unacknowledged: Option<Value>,
    pub message_stats: Option<api::MessageStats>,
}

/// A channel's connection, as `/api/channels` names it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConnectionDetails {
    pub name: Option<String>,
}

/// Every connection of the cluster, in the broker's order. The channels are read too; when
/// they cannot be (a user allowed connections but not channels), their columns are unknown.
pub async fn list(api: &ManagementClient) -> Result<Vec<ConnectionRow>> {
    let connections: Vec<ApiConnection> = api.get(CONNECTIONS_PATH).await?;
    let channels: Option<Vec<ApiChannel>> = api.get(CHANNELS_PATH).await.ok();
    Ok(rows(connections, channels.as_deref()))
}

/// The rows from the two replies (pure).
pub fn rows(
    connections: Vec<ApiConnection>,
    channels: Option<&[ApiChannel]>,
) -> Vec<ConnectionRow> {
    #[derive(Default)]
    struct Sums {
        prefetch: u64,
        unacked: u64,
        publish: Option<f64>,
        deliver: Option<f64>,
    }
    let mut by_connection: HashMap<&str, Sums> = HashMap::new();
    for ch in channels.unwrap_or_default() {
        let Some(name) = ch
            .connection_details
            .as_ref()
            .and_then(|d| d.name.as_deref())
        else {
            continue;
        };
        let s = by_connection.entry(name).or_default();
        let n = |v: &Option<Value>| v.as_ref().and_then(Value::as_u64).unwrap_or(0);
        s.prefetch += n(&ch.prefetch_count).max(n(&ch.global_prefetch_count));
        s.unacked += n(&ch.messages_unacknowledged);
        let stats = ch.message_stats.as_ref();
        let add = |sum: &mut Option<f64>, r: Option<&Rate>| {
            if let Some(rate) = r.and_then(|r| r.rate) {
                *sum = Some(sum.unwrap_or(0.0) + rate);
            }
        };
        add(
            &mut s.publish,
            stats.and_then(|m| m.publish_details.as_ref()),
        );
        add(
            &mut s.deliver,
            stats.and_then(|m| m.deliver_get_details.as_ref()),
        );
    }
    connections
        .into_iter()
        .map(|c| {
            let props = c.client_properties.as_ref();
            let text = |key: &str| {
                props
                    .and_then(|p| p.get(key))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let client = match (text("product"), text("version")) {
                (Some(p), Some(v)) => Some(format!("{p} {v}")),
                (p, v) => p.or(v),
            };
            let sums = by_connection.get(c.name.as_str());
            let known = channels.is_some();
            ConnectionRow {
                client_provided_name: text("connection_name"),
                user: c.user,
                vhost: c.vhost,
                node: c.node,
                client_host: c.peer_host,
                client_port: c
                    .peer_port
                    .as_ref()
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok()),
                protocol: c.protocol,
                state: c.state,
                tls: c.ssl,
                client,
                channels: c.channels.as_ref().and_then(Value::as_u64),
                prefetch: known.then(|| sums.map_or(0, |s| s.prefetch)),
                unacked: known.then(|| sums.map_or(0, |s| s.unacked)),
                publish_rate: sums.and_then(|s| s.publish),
                deliver_rate: sums.and_then(|s| s.deliver),
                recv_rate: c.recv_oct_details.and_then(|r| r.rate),
                send_rate: c.send_oct_details.and_then(|r| r.rate),
                connected_at: c.connected_at.as_ref().and_then(Value::as_u64),
                name: c.name,
            }
        })
        .collect()
}

/// Checks a close reason before anything is sent.
pub fn check_reason(reason: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid("reason", why.to_owned());
    if reason.trim().is_empty() {
        return Err(bad("give a reason: the client is told it"));
    }
    if reason.len() > MAX_REASON {
        return Err(bad(&format!(
            "{} characters is too long; at most {MAX_REASON} fit the broker's reply to the client",
            reason.len()
        )));
    }
    if let Some(c) = reason.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(bad(&format!(
            "{c:?} cannot travel in the X-Reason header: use printable ASCII on one line"
        )));
    }
    Ok(())
}

/// Which connection `name` means: the broker's name, or else the client-provided name of
/// exactly one connection.
pub fn resolve<'a>(rows: &'a [ConnectionRow], name: &str) -> Result<&'a ConnectionRow> {
    if let Some(r) = rows.iter().find(|r| r.name == name) {
        return Ok(r);
    }
    let named: Vec<&ConnectionRow> = rows
        .iter()
        .filter(|r| r.client_provided_name.as_deref() == Some(name))
        .collect();
    match named.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::invalid(
            "connection",
            format!("no connection named \"{name}\" (by the broker's name or the client's)"),
        )),
        many => Err(Error::invalid(
            "connection",
            format!(
                "{} connections call themselves \"{name}\"; give the broker's name of one: {}",
                many.len(),
                many.iter()
                    .map(|r| format!("\"{}\"", r.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Closes the connection `name` (see [`resolve`]) with `reason`; returns the broker's name of
/// the connection closed.
pub async fn close(api: &ManagementClient, name: &str, reason: &str) -> Result<String> {
    check_reason(reason)?;
    let rows = list(api).await?;
    let broker_name = resolve(&rows, name)?.name.clone();
    let path = format!("connections/{}", encode_segment(&broker_name));
    match api.delete_with(&path, &[("X-Reason", reason)]).await {
        // Gone between the list and the close: closed all the same, not by us.
        Err(Error::Http { status: 404, .. }) => Err(Error::invalid(
            "connection",
            format!("connection \"{broker_name}\" closed before Warren could close it"),
        )),
        other => other.map(|()| broker_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replies as RabbitMQ 3.10.8 gives them (trimmed to the columns read).
    const CONNECTIONS: &str = r#"[
      {"name":"127.0.0.1:50412 -> 127.0.0.1:5781","user":"guest","vhost":"/","node":"warren-1@localhost",
       "peer_host":"127.0.0.1","peer_port":50412,"protocol":"AMQP 0-9-1","state":"running","ssl":false,
       "channels":2,"connected_at":1764696000000,
       "client_properties":{"connection_name":"orders-worker","product":"lapin","version":"4.12.3",
         "capabilities":{"publisher_confirms":true}},
       "recv_oct_details":{"rate":120.5},"send_oct_details":{"rate":80.0}},
      {"name":"127.0.0.1:50500 -> 127.0.0.1:5782","user":"ops","vhost":"/","node":"warren-2@localhost",
       "peer_host":"127.0.0.1","peer_port":50500,"protocol":"AMQP 0-9-1","state":"blocked",
       "channels":0,"client_properties":{}}
    ]"#;

    const CHANNELS: &str = r#"[
      {"connection_details":{"name":"127.0.0.1:50412 -> 127.0.0.1:5781","peer_host":"127.0.0.1","peer_port":50412},
       "prefetch_count":10,"global_prefetch_count":0,"messages_unacknowledged":4,
       "message_stats":{"publish_details":{"rate":1.5},"deliver_get_details":{"rate":2.0}}},
      {"connection_details":{"name":"127.0.0.1:50412 -> 127.0.0.1:5781"},
       "prefetch_count":0,"global_prefetch_count":50,"messages_unacknowledged":1,
       "message_stats":{"deliver_get_details":{"rate":0.5}}}
    ]"#;

    fn parsed() -> (Vec<ApiConnection>, Vec<ApiChannel>) {
        (
            serde_json::from_str(CONNECTIONS).unwrap(),
            serde_json::from_str(CHANNELS).unwrap(),
        )
    }

    #[test]
    fn channels_fold_into_their_connection() {
        let (c, ch) = parsed();
        let listed = rows(c, Some(&ch));
        let w = &listed[0];
        assert_eq!(w.name, "127.0.0.1:50412 -> 127.0.0.1:5781");
        assert_eq!(w.client_provided_name.as_deref(), Some("orders-worker"));
        assert_eq!(w.client.as_deref(), Some("lapin 4.12.3"));
        assert_eq!(w.client_host.as_deref(), Some("127.0.0.1"));
        assert_eq!(w.client_port, Some(50412));
        assert_eq!(w.channels, Some(2));
        assert_eq!(w.prefetch, Some(60));
        assert_eq!(w.unacked, Some(5));
        assert_eq!(w.publish_rate, Some(1.5));
        assert_eq!(w.deliver_rate, Some(2.5));
        assert_eq!(w.recv_rate, Some(120.5));
        assert_eq!(w.connected_at, Some(1_764_696_000_000));
        let idle = &listed[1];
        assert_eq!(idle.client_provided_name, None);
        assert_eq!((idle.prefetch, idle.unacked), (Some(0), Some(0)));
        assert_eq!(idle.publish_rate, None);
        // Channels not read: their sums are unknown, not zero.
        let (c, _) = parsed();
        let unknown = rows(c, None);
        assert_eq!((unknown[0].prefetch, unknown[0].unacked), (None, None));
    }

    #[test]
    fn a_connection_is_named_by_the_broker_or_by_its_one_client_name() {
        let (c, ch) = parsed();
        let mut listed = rows(c, Some(&ch));
        assert_eq!(
            resolve(&listed, "orders-worker").unwrap().name,
            "127.0.0.1:50412 -> 127.0.0.1:5781"
        );
        assert_eq!(
            resolve(&listed, "127.0.0.1:50500 -> 127.0.0.1:5782")
                .unwrap()
                .user
                .as_deref(),
            Some("ops")
        );
        assert!(resolve(&listed, "nobody")
            .unwrap_err()
            .to_string()
            .contains("no connection"));
        listed[1].client_provided_name = Some("orders-worker".into());
        let err = resolve(&listed, "orders-worker").unwrap_err().to_string();
        assert!(err.contains("2 connections"), "{err}");
    }

    #[test]
    fn a_reason_must_travel_in_a_header_and_fit_the_reply() {
        check_reason("maintenance: please reconnect").unwrap();
        for bad in ["", "  ", "two\nlines", "café", &"x".repeat(MAX_REASON + 1)] {
            let err = check_reason(bad).unwrap_err();
            assert_eq!(
                crate::ErrorReport::from(&err).field.as_deref(),
                Some("reason")
            );
        }
    }
}
