//! What the RabbitMQ management API sends, parsed once.
//!
//! Every reply Warren reads from the management API has its one type here, with only the
//! fields Warren uses. Nearly all fields are optional: a stopped node reports almost nothing,
//! older versions omit fields, and `columns=` requests leave the rest out; a value the API did
//! not send stays `None` and is shown as unknown, never as zero. The modules that read the API
//! (status, queues, topology, publish) share these types instead of each parsing its own part,
//! and the readings they need from a reply (a queue's type, the broker's version) are methods
//! here, so the rules about the API's spelling live in one place.
//!
//! A number of an unexpected shape (some brokers send `"fd_used": "unknown"`, a negative or
//! fractional count, or one past `u64`) is read as unknown rather than failing the whole reply:
//! one odd field must not hide a cluster's status.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::broker::{BrokerVersion, QueueType};

/// The `/api/overview` columns Warren reads.
pub const OVERVIEW_PATH: &str =
    "overview?columns=cluster_name,rabbitmq_version,erlang_version,node";

/// `/api/overview`: the cluster's name and versions, as the answering node sees them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Overview {
    pub cluster_name: Option<String>,
    pub rabbitmq_version: Option<String>,
    pub erlang_version: Option<String>,
    /// The node that answered.
    pub node: Option<String>,
}

impl Overview {
    pub fn version(&self) -> Option<BrokerVersion> {
        BrokerVersion::parse(self.rabbitmq_version.as_deref())
    }
}

/// One entry of `/api/nodes`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Node {
    pub name: String,
    #[serde(default)]
    pub running: bool,
    #[serde(rename = "type")]
    pub node_type: Option<String>,
    #[serde(default, deserialize_with = "count")]
    pub uptime: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub mem_used: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub mem_limit: Option<u64>,
    pub mem_alarm: Option<bool>,
    #[serde(default, deserialize_with = "count")]
    pub disk_free: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub disk_free_limit: Option<u64>,
    pub disk_free_alarm: Option<bool>,
    #[serde(default, deserialize_with = "count")]
    pub fd_used: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub fd_total: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub sockets_used: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub sockets_total: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub proc_used: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub proc_total: Option<u64>,
    #[serde(default)]
    pub partitions: Vec<String>,
    #[serde(default)]
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Application {
    pub name: String,
    pub version: String,
}

/// One queue of `/api/queues` (a row of the list, or one queue in full with its detail
/// fields).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Queue {
    pub name: String,
    pub vhost: String,
    #[serde(rename = "type")]
    pub queue_type: Option<String>,
    pub state: Option<String>,
    pub node: Option<String>,
    pub leader: Option<String>,
    pub members: Option<Vec<String>>,
    pub online: Option<Vec<String>>,
    pub slave_nodes: Option<Vec<String>>,
    pub synchronised_slave_nodes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "count")]
    pub messages: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub messages_ready: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub messages_unacknowledged: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub consumers: Option<u64>,
    pub policy: Option<Value>,
    pub effective_policy_definition: Option<Value>,
    pub message_stats: Option<MessageStats>,
    // Detail only.
    pub durable: Option<bool>,
    pub exclusive: Option<bool>,
    pub auto_delete: Option<bool>,
    pub arguments: Option<Map<String, Value>>,
    pub operator_policy: Option<Value>,
    pub consumer_details: Option<Vec<Consumer>>,
    #[serde(default, deserialize_with = "count")]
    pub message_bytes: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub memory: Option<u64>,
}

impl Queue {
    pub fn kind(&self) -> QueueType {
        QueueType::from_api(self.queue_type.as_deref())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageStats {
    pub publish_details: Option<Rate>,
    pub deliver_get_details: Option<Rate>,
}

/// A rate sample (`*_details`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Rate {
    #[serde(default, deserialize_with = "rate")]
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Consumer {
    #[serde(default)]
    pub consumer_tag: String,
    #[serde(default)]
    pub ack_required: bool,
    #[serde(default, deserialize_with = "count")]
    pub prefetch_count: Option<u64>,
    #[serde(default)]
    pub exclusive: bool,
    pub active: Option<bool>,
    pub channel_details: Option<ChannelDetails>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChannelDetails {
    pub connection_name: Option<String>,
    pub peer_host: Option<String>,
    pub peer_port: Option<Value>,
    pub user: Option<String>,
}

/// One queue read with the history the broker keeps of it (`lengths_age`/`msg_rates_age`
/// given): its depth as counts at times, and its message counters at times. A broker that
/// keeps no history (statistics off, or an older sample aged out) sends the current values
/// only, or nothing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueSamples {
    #[serde(default, deserialize_with = "count")]
    pub messages_ready: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub messages_unacknowledged: Option<u64>,
    pub messages_ready_details: Option<Samples>,
    pub messages_unacknowledged_details: Option<Samples>,
    pub message_stats: Option<SampledStats>,
}

/// The message counters of a queue with their samples (each sample is the counter's total at
/// that time, not a rate).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SampledStats {
    pub publish_details: Option<Samples>,
    pub deliver_get_details: Option<Samples>,
    pub ack_details: Option<Samples>,
}

/// A `*_details` object with its samples: the current rate, and values at times (newest
/// first, as the API sends them). A sample without a number or a time is left out.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Samples {
    #[serde(default, deserialize_with = "rate")]
    pub rate: Option<f64>,
    #[serde(default, deserialize_with = "samples")]
    pub samples: Vec<Sample>,
}

/// A value at a time (milliseconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub timestamp: u64,
    pub value: f64,
}

fn samples<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Sample>, D::Error> {
    let Value::Array(list) = Value::deserialize(d)? else {
        return Ok(Vec::new());
    };
    Ok(list
        .iter()
        .filter_map(|s| {
            let value = s.get("sample")?.as_f64().filter(|v| v.is_finite())?;
            let timestamp = s.get("timestamp")?.as_u64()?;
            Some(Sample { timestamp, value })
        })
        .collect())
}

/// A paged reply (`page=` given): one page of items and the counts around it.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, deserialize_with = "page_count")]
    pub total_count: u32,
    #[serde(default, deserialize_with = "page_count")]
    pub filtered_count: u32,
    #[serde(default, deserialize_with = "page_count")]
    pub page: u32,
    #[serde(default, deserialize_with = "page_count")]
    pub page_count: u32,
}

/// One entry of `/api/policies`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Policy {
    pub name: String,
    pub vhost: String,
    #[serde(default)]
    pub pattern: String,
    #[serde(default, rename = "apply-to")]
    pub apply_to: String,
    #[serde(default)]
    pub definition: BTreeMap<String, Value>,
}

/// One entry of `/api/exchanges`.
#[derive(Debug, Deserialize)]
pub struct Exchange {
    pub name: String,
    pub vhost: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub arguments: Map<String, Value>,
    pub policy: Option<Value>,
    pub message_stats: Option<ExchangeStats>,
}

#[derive(Debug, Deserialize)]
pub struct ExchangeStats {
    pub publish_in_details: Option<Rate>,
    pub publish_out_details: Option<Rate>,
}

/// The folder of the broker's health checks (`/api/health/checks/<check>`). A passing check
/// answers 200 with [`HealthCheckReply`]; a failing one 503 with `status: "failed"` and a
/// `reason` (read as [`ErrorReply`]); a check this version does not have, 404.
pub const HEALTH_CHECKS_PATH: &str = "health/checks/";

/// A passing health check's reply (`{"status":"ok"}`, sometimes with a `reason` such as
/// "single node cluster").
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HealthCheckReply {
    pub status: Option<String>,
    pub reason: Option<String>,
}

/// A count: a non-negative integer that fits `u64`; anything else (a string, a negative or
/// fractional number, null) is unknown.
fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Value::deserialize(d)?.as_u64())
}

/// A rate: any finite number; anything else is unknown.
fn rate<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Value::deserialize(d)?.as_f64().filter(|r| r.is_finite()))
}

/// A page count: a count that fits `u32`, 0 when absent or odd.
fn page_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(count(d)?
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_default())
}

/// The body of an error reply.
#[derive(Debug, Deserialize)]
pub struct ErrorReply {
    pub error: Option<String>,
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_read_leniently() {
        let q: QueueSamples = serde_json::from_str(
            r#"{"messages_ready":3,"messages_ready_details":{"rate":0.2,"samples":[
                {"sample":3,"timestamp":1000},{"sample":"x","timestamp":995},{"timestamp":990},
                {"sample":1,"timestamp":-5},{"sample":0,"timestamp":985}]},
              "messages_unacknowledged_details":{"rate":"n/a","samples":"none"},
              "message_stats":{"publish_details":{"rate":1.0}}}"#,
        )
        .unwrap();
        let ready = q.messages_ready_details.unwrap();
        assert_eq!(
            ready.samples,
            vec![
                Sample {
                    timestamp: 1000,
                    value: 3.0
                },
                Sample {
                    timestamp: 985,
                    value: 0.0
                }
            ]
        );
        let unacked = q.messages_unacknowledged_details.unwrap();
        assert_eq!((unacked.rate, unacked.samples.len()), (None, 0));
        let publish = q.message_stats.unwrap().publish_details.unwrap();
        assert_eq!((publish.rate, publish.samples.len()), (Some(1.0), 0));
    }

    #[test]
    fn a_queue_without_a_type_is_classic_and_versions_are_read() {
        let q: Queue = serde_json::from_str(r#"{"name":"q","vhost":"/"}"#).unwrap();
        assert_eq!(q.kind(), QueueType::Classic);
        let o: Overview = serde_json::from_str(r#"{"rabbitmq_version":"4.1.0"}"#).unwrap();
        assert_eq!(o.version().map(|v| (v.major, v.minor)), Some((4, 1)));
    }

    #[test]
    fn odd_numbers_in_queue_and_overview_replies_are_unknown() {
        let raw = r#"[{"name":"a","vhost":"/","messages":"unknown","messages_ready":-3,
            "consumers":1.5,"memory":184467440737095516160,"messages_unacknowledged":7,
            "message_stats":{"publish_details":{"rate":"n/a"},"deliver_get_details":{"rate":2.5}}}]"#;
        let q: Vec<Queue> = serde_json::from_str(raw).unwrap();
        let q = &q[0];
        assert_eq!(
            (q.messages, q.messages_ready, q.consumers, q.memory),
            (None, None, None, None)
        );
        assert_eq!(q.messages_unacknowledged, Some(7));
        let stats = q.message_stats.as_ref().unwrap();
        assert_eq!(stats.publish_details.as_ref().unwrap().rate, None);
        assert_eq!(stats.deliver_get_details.as_ref().unwrap().rate, Some(2.5));
        let page: Page<Queue> = serde_json::from_str(
            r#"{"items":[],"total_count":"x","page":-1,"page_count":5000000000}"#,
        )
        .unwrap();
        assert_eq!((page.total_count, page.page, page.page_count), (0, 0, 0));
    }
}
