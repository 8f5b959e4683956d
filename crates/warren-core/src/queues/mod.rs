//! Queues as a developer browses them: a sortable, filterable list, one queue's detail (its
//! arguments and policies resolved into the features that govern it), and purge.
//!
//! The app asks for one page at a time (`page`, `page_size`, `sort`, `name` + `use_regex` are
//! done by the management API), so the first page of a 10,000-queue vhost arrives without the
//! rest. The CLI wants every queue: [`list_all`] reads them in one request, which on 3.10 is far
//! cheaper than paging (docs/benchmarks.md: the API rebuilds the whole list for every page).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::api;
use crate::broker::{BrokerVersion, QueueType};
use crate::error::{Error, Result};
use crate::management::{encode_segment, is_addressable, path_segment, ManagementClient};

pub mod history;
mod settings;

pub use settings::{FeatureSource, QueueFeature, QueueSettings, Resolved, Setting};

/// Columns the list needs; everything else stays on the server.
const LIST_COLUMNS: &str = "name,vhost,type,state,node,leader,members,online,slave_nodes,\
synchronised_slave_nodes,messages,messages_ready,messages_unacknowledged,consumers,policy,\
message_stats.publish_details.rate,message_stats.deliver_get_details.rate";

/// The management API's page size limit.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The columns the list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum QueueSort {
    #[default]
    Name,
    Type,
    State,
    MessagesReady,
    MessagesUnacknowledged,
    Messages,
    PublishRate,
    DeliverRate,
    Consumers,
    Node,
}

impl QueueSort {
    fn api_key(self) -> &'static str {
        match self {
            QueueSort::Name => "name",
            QueueSort::Type => "type",
            QueueSort::State => "state",
            QueueSort::MessagesReady => "messages_ready",
            QueueSort::MessagesUnacknowledged => "messages_unacknowledged",
            QueueSort::Messages => "messages",
            QueueSort::PublishRate => "message_stats.publish_details.rate",
            QueueSort::DeliverRate => "message_stats.deliver_get_details.rate",
            QueueSort::Consumers => "consumers",
            QueueSort::Node => "node",
        }
    }
}

/// One page of the queue list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QueueQuery {
    /// `None`: every vhost the user may see.
    #[ts(optional = nullable)]
    pub vhost: Option<String>,
    /// A substring of the name, or a regular expression when `regex` is set.
    #[serde(default)]
    pub filter: String,
    #[serde(default)]
    pub regex: bool,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
    #[serde(default)]
    pub sort: QueueSort,
    #[serde(default)]
    pub sort_reverse: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QueuePage {
    pub items: Vec<QueueRow>,
    /// Queues in the vhost(s) before filtering.
    pub total_count: u32,
    /// Queues matching the filter.
    pub filtered_count: u32,
    pub page: u32,
    pub page_count: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QueueRow {
    pub vhost: String,
    pub name: String,
    #[serde(rename = "type")]
    pub queue_type: QueueType,
    pub state: Option<String>,
    #[ts(type = "number | null")]
    pub messages_ready: Option<u64>,
    #[ts(type = "number | null")]
    pub messages_unacknowledged: Option<u64>,
    #[ts(type = "number | null")]
    pub messages: Option<u64>,
    /// Messages per second, as the API's last sample says.
    pub publish_rate: Option<f64>,
    pub deliver_rate: Option<f64>,
    #[ts(type = "number | null")]
    pub consumers: Option<u64>,
    /// The node of a classic queue, the leader of a quorum queue or stream.
    pub node: Option<String>,
    pub replication: Option<Replication>,
    pub policy: Option<String>,
}

/// Mirrors of a classic queue (3.x) or members of a quorum queue / stream, and how many of
/// them are in a state to take over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Replication {
    pub kind: ReplicationKind,
    /// Mirrors (excluding the master), or members (including the leader).
    pub total: u32,
    /// Synchronised mirrors, or members online.
    pub healthy: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ReplicationKind {
    Mirrors,
    Members,
}

/// One queue in full: what governs it and who consumes from it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QueueDetail {
    pub row: QueueRow,
    pub durable: bool,
    pub exclusive: bool,
    pub auto_delete: bool,
    /// The queue's x-arguments as the management API reports them.
    #[ts(type = "Record<string, unknown>")]
    pub arguments: Map<String, Value>,
    pub policy: Option<String>,
    pub operator_policy: Option<String>,
    #[ts(type = "Record<string, unknown>")]
    pub effective_policy_definition: Map<String, Value>,
    /// Settings that change how messages are kept or dropped, and where each comes from.
    // Built from `settings`, the typed form logic reads.
    pub features: Vec<QueueFeature>,
    /// The same settings, typed, for logic.
    #[serde(skip)]
    #[ts(skip)]
    pub settings: QueueSettings,
    pub consumers: Vec<ConsumerInfo>,
    #[ts(type = "number | null")]
    pub message_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub memory: Option<u64>,
    /// Mirrors (3.x classic) or members (quorum, stream), and those in sync / online.
    pub replicas: Vec<String>,
    pub replicas_healthy: Vec<String>,
    pub broker_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ConsumerInfo {
    pub consumer_tag: String,
    pub connection: Option<String>,
    pub peer: Option<String>,
    pub user: Option<String>,
    pub ack_required: bool,
    #[ts(type = "number | null")]
    pub prefetch_count: Option<u64>,
    pub exclusive: bool,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PurgeResult {
    /// Messages ready before the purge, by the last statistics (the API does not say how many
    /// it removed).
    #[ts(type = "number | null")]
    pub messages_before: Option<u64>,
}

// ---------------------------------------------------------------------------------------------

fn vhost_path(vhost: Option<&str>) -> Result<String> {
    Ok(match vhost {
        Some(v) => format!("queues/{}", path_segment("vhost", v)?),
        None => "queues".to_owned(),
    })
}

/// Checks a name filter before it reaches the API (which answers a bad regex with a 500).
fn check_filter(filter: &str, regex: bool) -> Result<()> {
    if regex {
        regex_lite::Regex::new(filter).map_err(|e| {
            Error::invalid("filter", format!("not a valid regular expression: {e}"))
        })?;
    }
    Ok(())
}

/// One page of queues, sorted and filtered by the management API.
pub async fn list_page(api: &ManagementClient, q: &QueueQuery) -> Result<QueuePage> {
    if q.page == 0 {
        return Err(Error::invalid("page", "pages count from 1"));
    }
    if q.page_size == 0 || q.page_size > MAX_PAGE_SIZE {
        return Err(Error::invalid(
            "page_size",
            format!("must be 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    check_filter(&q.filter, q.regex)?;
    let mut path = format!(
        "{}?page={}&page_size={}&columns={LIST_COLUMNS}",
        vhost_path(q.vhost.as_deref())?,
        q.page,
        q.page_size,
    );
    // The API sorts by name when not told otherwise, and its explicit-sort path is much slower
    // (docs/benchmarks.md), so `sort` is sent only for other columns.
    if q.sort != QueueSort::Name {
        path.push_str(&format!("&sort={}", q.sort.api_key()));
    }
    if q.sort_reverse {
        path.push_str("&sort_reverse=true");
    }
    if !q.filter.is_empty() {
        path.push_str(&format!(
            "&name={}&use_regex={}",
            encode_segment(&q.filter),
            q.regex
        ));
    }
    let page: api::Page<api::Queue> = api.get(&path).await?;
    Ok(QueuePage {
        items: page.items.into_iter().map(row).collect(),
        total_count: page.total_count,
        filtered_count: page.filtered_count,
        page: page.page.max(q.page),
        page_count: page.page_count,
    })
}

/// Every queue of a vhost (or of all vhosts) whose name matches `filter` (a regular
/// expression), sorted by vhost and name.
pub async fn list_all(
    api: &ManagementClient,
    vhost: Option<&str>,
    filter: Option<&str>,
) -> Result<Vec<QueueRow>> {
    let matcher = filter
        .map(|f| {
            regex_lite::Regex::new(f).map_err(|e| {
                Error::invalid("filter", format!("not a valid regular expression: {e}"))
            })
        })
        .transpose()?;
    let rows: Vec<api::Queue> = api
        .get(&format!("{}?columns={LIST_COLUMNS}", vhost_path(vhost)?))
        .await?;
    let mut rows: Vec<QueueRow> = rows
        .into_iter()
        .filter(|r| matcher.as_ref().is_none_or(|m| m.is_match(&r.name)))
        .map(row)
        .collect();
    rows.sort_by(|a, b| (&a.vhost, &a.name).cmp(&(&b.vhost, &b.name)));
    Ok(rows)
}

fn queue_path(vhost: &str, name: &str) -> Result<String> {
    Ok(format!(
        "queues/{}/{}",
        path_segment("vhost", vhost)?,
        path_segment("queue", name)?
    ))
}

/// One queue in full. A missing queue is `ErrorKind::NotFound` naming the queue.
pub async fn detail(api: &ManagementClient, vhost: &str, name: &str) -> Result<QueueDetail> {
    let (raw, overview) = tokio::join!(read_queue(api, vhost, name), api.overview());
    let raw = raw.map_err(|e| not_found_as_queue(e, vhost, name))?;
    let version = overview.ok().and_then(|o| o.rabbitmq_version);
    Ok(build_detail(raw, version))
}

/// One queue as the API has it. A queue named `.` or `..` has no path of its own, so it is
/// found in its vhost's list by an exact name filter (without its consumers' details).
async fn read_queue(api: &ManagementClient, vhost: &str, name: &str) -> Result<api::Queue> {
    if is_addressable(name) {
        return api.get(&queue_path(vhost, name)?).await;
    }
    let exact = format!("^{}$", name.replace('.', "\\."));
    let path = format!(
        "queues/{}?page=1&page_size=100&name={}&use_regex=true",
        path_segment("vhost", vhost)?,
        encode_segment(&exact)
    );
    let page: api::Page<api::Queue> = api.get(&path).await?;
    page.items
        .into_iter()
        .find(|q| q.name == name && q.vhost == vhost)
        .ok_or_else(|| Error::QueueNotFound {
            vhost: vhost.to_owned(),
            name: name.to_owned(),
        })
}

pub(crate) fn not_found_as_queue(e: Error, vhost: &str, name: &str) -> Error {
    match e {
        Error::Http { status: 404, .. } => Error::QueueNotFound {
            vhost: vhost.to_owned(),
            name: name.to_owned(),
        },
        other => other,
    }
}

/// Removes every ready message of a queue (unacknowledged ones stay with their consumers).
pub async fn purge(api: &ManagementClient, vhost: &str, name: &str) -> Result<PurgeResult> {
    // A name no path can address is refused before anything is read or sent.
    let path = format!("{}/contents", queue_path(vhost, name)?);
    let before = detail(api, vhost, name).await?;
    api.delete(&path)
        .await
        .map_err(|e| not_found_as_queue(e, vhost, name))?;
    Ok(PurgeResult {
        messages_before: before.row.messages_ready,
    })
}

fn non_empty(v: &Option<Value>) -> Option<String> {
    v.as_ref()
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn row(r: api::Queue) -> QueueRow {
    let queue_type = QueueType::from_api(r.queue_type.as_deref());
    let replication = match queue_type {
        QueueType::Quorum | QueueType::Stream => r.members.as_ref().map(|m| Replication {
            kind: ReplicationKind::Members,
            total: m.len() as u32,
            healthy: r
                .online
                .as_ref()
                .map(|o| o.iter().filter(|n| m.contains(n)).count() as u32)
                .unwrap_or(0),
        }),
        _ => r.slave_nodes.as_ref().map(|s| Replication {
            kind: ReplicationKind::Mirrors,
            total: s.len() as u32,
            healthy: r
                .synchronised_slave_nodes
                .as_ref()
                .map(|o| o.len() as u32)
                .unwrap_or(0),
        }),
    };
    let stats = r.message_stats.as_ref();
    QueueRow {
        policy: non_empty(&r.policy),
        node: r.leader.clone().or(r.node.clone()),
        publish_rate: stats.and_then(|s| s.publish_details.as_ref()?.rate),
        deliver_rate: stats.and_then(|s| s.deliver_get_details.as_ref()?.rate),
        vhost: r.vhost,
        name: r.name,
        queue_type,
        state: r.state,
        messages_ready: r.messages_ready,
        messages_unacknowledged: r.messages_unacknowledged,
        messages: r.messages,
        consumers: r.consumers,
        replication,
    }
}

pub(crate) fn build_detail(raw: api::Queue, broker_version: Option<String>) -> QueueDetail {
    let arguments = raw.arguments.clone().unwrap_or_default();
    let effective = raw
        .effective_policy_definition
        .clone()
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default();
    let queue_type = QueueType::from_api(raw.queue_type.as_deref());
    let operator_policy = non_empty(&raw.operator_policy);
    let settings = QueueSettings::resolve(
        queue_type,
        &arguments,
        &effective,
        operator_policy.as_deref(),
        BrokerVersion::parse(broker_version.as_deref()),
    );
    let consumers = raw
        .consumer_details
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let ch = c.channel_details.unwrap_or_default();
            ConsumerInfo {
                consumer_tag: c.consumer_tag,
                peer: ch.peer_host.map(|h| match ch.peer_port {
                    Some(p) => format!("{h}:{p}"),
                    None => h,
                }),
                connection: ch.connection_name,
                user: ch.user,
                ack_required: c.ack_required,
                prefetch_count: c.prefetch_count,
                exclusive: c.exclusive,
                active: c.active,
            }
        })
        .collect();
    let (replicas, replicas_healthy) = match queue_type {
        QueueType::Quorum | QueueType::Stream => (
            raw.members.clone().unwrap_or_default(),
            raw.online.clone().unwrap_or_default(),
        ),
        _ => (
            raw.slave_nodes.clone().unwrap_or_default(),
            raw.synchronised_slave_nodes.clone().unwrap_or_default(),
        ),
    };
    QueueDetail {
        durable: raw.durable.unwrap_or(false),
        exclusive: raw.exclusive.unwrap_or(false),
        auto_delete: raw.auto_delete.unwrap_or(false),
        policy: non_empty(&raw.policy),
        operator_policy,
        effective_policy_definition: effective,
        arguments,
        features: settings.features(),
        settings,
        consumers,
        message_bytes: raw.message_bytes,
        memory: raw.memory,
        replicas,
        replicas_healthy,
        broker_version,
        row: row(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_carry_replication_badges() {
        let quorum = row(api::Queue {
            name: "q".into(),
            vhost: "/".into(),
            queue_type: Some("quorum".into()),
            leader: Some("a".into()),
            members: Some(vec!["a".into(), "b".into(), "c".into()]),
            online: Some(vec!["a".into(), "c".into()]),
            ..api::Queue::default()
        });
        assert_eq!(
            quorum.replication,
            Some(Replication {
                kind: ReplicationKind::Members,
                total: 3,
                healthy: 2
            })
        );
        assert_eq!(quorum.node.as_deref(), Some("a"));
        let mirrored = row(api::Queue {
            name: "m".into(),
            vhost: "/".into(),
            node: Some("a".into()),
            slave_nodes: Some(vec!["b".into(), "c".into()]),
            synchronised_slave_nodes: Some(vec!["b".into()]),
            ..api::Queue::default()
        });
        assert_eq!(
            mirrored.replication,
            Some(Replication {
                kind: ReplicationKind::Mirrors,
                total: 2,
                healthy: 1
            })
        );
    }

    #[test]
    fn a_bad_regex_is_refused_before_any_request() {
        let err = check_filter("orders(", true).unwrap_err().to_string();
        assert!(
            err.contains("filter") && err.contains("regular expression"),
            "{err}"
        );
        assert!(check_filter("orders(", false).is_ok());
    }
}
