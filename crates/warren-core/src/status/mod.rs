//! Cluster status for support staff: nodes, alarms, partitions, replication and the queues at
//! risk, gathered from the management API and from Warren's own AMQP links.
//!
//! Gathering ([`fetch`]) and judging ([`analyze`]) are separate: `analyze` is a pure function
//! of the API's replies, so every rule about what counts as "at risk" is unit-tested on
//! recorded replies, and the same rules serve the app, `warren status` and the health badges.
//! A value the API did not report (a stopped node has almost no fields) stays `None` and is
//! shown as unknown, never as zero.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::api;
use crate::broker::{self, QueueType};
use crate::endpoint::{host_port, redact, ClusterTarget};
use crate::error::{ErrorReport, Result};
use crate::management::ManagementClient;
use crate::session::{LinkState, LinkStatus};

mod analyze;
mod checks;
mod links;

pub use analyze::analyze;
use analyze::has_ha_policy;
pub use checks::{CheckOutcome, HealthCheck, HealthCheckKind, NodeHealthChecks};
pub use links::{FederationLinkStatus, ShovelStatus};

/// Columns of `/api/queues` that status needs; everything else stays on the server.
pub const QUEUE_COLUMNS: &[&str] = &[
    "name",
    "vhost",
    "type",
    "state",
    "node",
    "slave_nodes",
    "synchronised_slave_nodes",
    "leader",
    "members",
    "online",
    "policy",
    "effective_policy_definition",
    "messages",
];

/// How long one node's own `/api/overview` (or one of its health checks) may take before it
/// counts as not answering.
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(4);

// ---------------------------------------------------------------------------------------------
// What Warren reports.

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ClusterStatus {
    pub cluster_name: Option<String>,
    pub rabbitmq_version: Option<String>,
    pub erlang_version: Option<String>,
    /// Classic queue mirroring exists (RabbitMQ 3.x); false on 4.x, where `ha-*` is dead.
    pub mirroring_supported: bool,
    pub health: Health,
    pub nodes: Vec<NodeStatus>,
    /// The profile's endpoints, with Warren's AMQP link and API reachability for each.
    pub endpoints: Vec<EndpointStatus>,
    pub queue_counts: QueueCounts,
    pub mirrored_queues: Vec<MirroredQueue>,
    pub quorum_queues: Vec<ReplicatedQueue>,
    pub streams: Vec<ReplicatedQueue>,
    pub at_risk: Vec<AtRiskQueue>,
    pub dead_policies: Vec<DeadPolicy>,
    /// The broker's own health checks, per node whose API answered.
    pub health_checks: Vec<NodeHealthChecks>,
    /// Shovels, where the shovel management plugin runs (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub shovels: Option<Vec<ShovelStatus>>,
    /// Federation links, where the federation management plugin runs (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub federation: Option<Vec<FederationLinkStatus>>,
    /// The management endpoint that answered the cluster-wide requests.
    pub api_endpoint: String,
    /// When the data was read (Unix epoch milliseconds).
    #[ts(type = "number")]
    pub fetched_at_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HealthLevel {
    Ok,
    Warning,
    Critical,
    Unknown,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Health {
    pub level: HealthLevel,
    /// One line per finding, worst first.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NodeStatus {
    pub name: String,
    pub running: bool,
    pub node_type: Option<String>,
    pub rabbitmq_version: Option<String>,
    pub erlang_version: Option<String>,
    #[ts(type = "number | null")]
    pub uptime_ms: Option<u64>,
    #[ts(type = "number | null")]
    pub mem_used: Option<u64>,
    #[ts(type = "number | null")]
    pub mem_limit: Option<u64>,
    pub mem_alarm: Option<bool>,
    #[ts(type = "number | null")]
    pub disk_free: Option<u64>,
    #[ts(type = "number | null")]
    pub disk_free_limit: Option<u64>,
    pub disk_free_alarm: Option<bool>,
    #[ts(type = "number | null")]
    pub fd_used: Option<u64>,
    #[ts(type = "number | null")]
    pub fd_total: Option<u64>,
    #[ts(type = "number | null")]
    pub sockets_used: Option<u64>,
    #[ts(type = "number | null")]
    pub sockets_total: Option<u64>,
    #[ts(type = "number | null")]
    pub proc_used: Option<u64>,
    #[ts(type = "number | null")]
    pub proc_total: Option<u64>,
    /// Nodes this node cannot see although they are in the cluster.
    pub partitions: Vec<String>,
    /// Warren's AMQP link to this node, when one of the profile's endpoints is known to be it.
    pub amqp: Option<LinkStatus>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct EndpointStatus {
    /// AMQP `host:port`, or the management URL for API-only endpoints.
    pub label: String,
    pub management_url: Option<String>,
    /// The node behind this endpoint, as its management API named itself.
    pub node_name: Option<String>,
    /// Versions as this endpoint's own API reported them.
    pub rabbitmq_version: Option<String>,
    pub erlang_version: Option<String>,
    pub amqp: Option<LinkStatus>,
    pub management_reachable: Option<bool>,
    pub management_error: Option<ErrorReport>,
    /// Whether this endpoint is OK, decided here once for the app, the CLI and the status
    /// health: see [`EndpointStatus::judge`].
    pub ok: bool,
}

impl EndpointStatus {
    /// Warren's AMQP link to this endpoint is connected (true when it has no AMQP listener).
    pub fn amqp_connected(&self) -> bool {
        self.amqp
            .as_ref()
            .is_none_or(|l| l.state == LinkState::Connected)
    }

    /// Its management API answered (true when it has none).
    pub fn api_answers(&self) -> bool {
        self.management_reachable != Some(false)
    }

    /// An endpoint is OK when every way Warren reaches it works: [`Self::amqp_connected`]
    /// and [`Self::api_answers`]. Sets `ok`.
    pub fn judge(mut self) -> Self {
        self.ok = self.amqp_connected() && self.api_answers();
        self
    }
}

#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct QueueCounts {
    pub total: u32,
    pub classic: u32,
    pub mirrored: u32,
    pub quorum: u32,
    pub stream: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MirroredQueue {
    pub vhost: String,
    pub name: String,
    pub policy: Option<String>,
    pub master: Option<String>,
    pub mirrors: Vec<String>,
    pub synchronised: Vec<String>,
    pub unsynchronised: Vec<String>,
    pub state: Option<String>,
    #[ts(type = "number | null")]
    pub messages: Option<u64>,
}

/// A quorum queue or a stream: a Raft-style group with a leader and members.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ReplicatedQueue {
    pub vhost: String,
    pub name: String,
    pub leader: Option<String>,
    pub members: Vec<String>,
    pub online: Vec<String>,
    pub offline: Vec<String>,
    /// Members needed for a majority.
    pub quorum: u32,
    /// How many more members may go offline before the majority is lost (0: the next loss
    /// makes the queue unavailable; negative: it already is).
    pub spare_members: i32,
    pub state: Option<String>,
    #[ts(type = "number | null")]
    pub messages: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Severity {
    Warning,
    Critical,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AtRiskQueue {
    pub vhost: String,
    pub name: String,
    #[serde(rename = "type")]
    pub queue_type: QueueType,
    pub severity: Severity,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DeadPolicy {
    pub vhost: String,
    pub name: String,
    pub pattern: String,
    pub keys: Vec<String>,
    pub reason: String,
}

// ---------------------------------------------------------------------------------------------
// Gathering.

/// Everything [`analyze`] needs, as read from the cluster.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub overview: api::Overview,
    pub nodes: Vec<api::Node>,
    pub queues: Vec<api::Queue>,
    pub policies: Vec<api::Policy>,
    pub endpoints: Vec<EndpointStatus>,
    pub health_checks: Vec<NodeHealthChecks>,
    pub shovels: Option<Vec<ShovelStatus>>,
    pub federation: Option<Vec<FederationLinkStatus>>,
    pub api_endpoint: String,
}

/// Reads the cluster through `client`. `links` gives Warren's AMQP links (from a session, or
/// one-off probes still running), one per AMQP endpoint of `target`, in order; `known_names`
/// are node names learned earlier per endpoint index, used when an endpoint does not answer
/// now.
pub async fn fetch(
    client: &ManagementClient,
    target: &ClusterTarget,
    links: impl Future<Output = Vec<LinkStatus>>,
    known_names: &BTreeMap<usize, String>,
) -> Result<Snapshot> {
    let cluster = async {
        let overview = client.read_overview().await?;
        let api_endpoint = client.current_endpoint();
        let (nodes, queues, policies, (shovels, federation)) = tokio::join!(
            client.get::<Vec<api::Node>>("nodes"),
            read_queues(client, broker::mirroring_supported(overview.version())),
            client.get::<Vec<api::Policy>>("policies"),
            links::read(client),
        );
        let movers = (shovels, federation);
        Ok::<_, crate::Error>((overview, api_endpoint, nodes?, queues?, policies?, movers))
    };
    let per_endpoint = endpoint_statuses(client, target, links, known_names);
    let (cluster, endpoints) = tokio::join!(cluster, per_endpoint);
    let (overview, api_endpoint, nodes, queues, policies, (shovels, federation)) = cluster?;
    let health_checks = checks::read(client, &endpoints, ENDPOINT_TIMEOUT).await;
    Ok(Snapshot {
        overview,
        nodes,
        queues,
        policies,
        endpoints,
        health_checks,
        shovels,
        federation,
        api_endpoint,
    })
}

/// Reads every queue in the way that is fast at scale and still exact where it matters.
///
/// The API builds the whole list for every request, so paging costs about one full request per
/// page, while one request with `disable_stats=true` and only our columns is the cheapest read
/// (figures in docs/benchmarks.md). Without statistics,
/// though, a mirrored queue's `synchronised_slave_nodes` can lag behind (a resynchronised
/// mirror stays "unsynchronised") and a stream's members are missing. So the vhosts holding
/// such queues are read again with statistics, which costs in proportion to their size only.
async fn read_queues(client: &ManagementClient, mirroring: bool) -> Result<Vec<api::Queue>> {
    let columns = QUEUE_COLUMNS.join(",");
    let mut queues: Vec<api::Queue> = client
        .get(&format!("queues?disable_stats=true&columns={columns}"))
        .await?;
    let needs_stats = |q: &api::Queue| match q.kind() {
        QueueType::Stream => q.members.is_none(),
        QueueType::Classic => mirroring && (q.slave_nodes.is_some() || has_ha_policy(q)),
        _ => false,
    };
    let vhosts: BTreeSet<String> = queues
        .iter()
        .filter(|q| needs_stats(q))
        .map(|q| q.vhost.clone())
        .collect();
    // A vhost no path can address (`.` or `..`) is read with all of them: the replies are
    // matched by vhost and name below.
    let paths: BTreeSet<String> = vhosts
        .iter()
        .map(|v| match crate::management::path_segment("vhost", v) {
            Ok(v) => format!("queues/{v}?columns={columns}"),
            Err(_) => format!("queues?columns={columns}"),
        })
        .collect();
    let replies =
        futures_util::future::join_all(paths.iter().map(|p| client.get::<Vec<api::Queue>>(p)))
            .await;
    let mut exact: BTreeMap<(String, String), api::Queue> = BTreeMap::new();
    for reply in replies {
        for q in reply? {
            exact.insert((q.vhost.clone(), q.name.clone()), q);
        }
    }
    for q in &mut queues {
        if let Some(full) = exact.remove(&(q.vhost.clone(), q.name.clone())) {
            *q = full;
        }
    }
    Ok(queues)
}

/// Every endpoint of `target`: its management API asked for its own overview (each bounded by
/// [`ENDPOINT_TIMEOUT`]) while `links` (Warren's AMQP links, one per AMQP endpoint in order:
/// a session's, or one-off probes still under way) come in, so a node that answers neither
/// costs the longer of the two waits, not their sum.
pub async fn endpoint_statuses(
    client: &ManagementClient,
    target: &ClusterTarget,
    links: impl Future<Output = Vec<LinkStatus>>,
    known_names: &BTreeMap<usize, String>,
) -> Vec<EndpointStatus> {
    let mut api_index = 0;
    let apis: Vec<Option<(usize, url::Url)>> = target
        .nodes
        .iter()
        .map(|node| {
            node.management.as_ref().map(|u| {
                let k = api_index;
                api_index += 1;
                (k, u.clone())
            })
        })
        .collect();
    let answers = futures_util::future::join_all(apis.iter().map(|api| async move {
        let Some((k, url)) = api else {
            return (None, None, None);
        };
        let reply = tokio::time::timeout(
            ENDPOINT_TIMEOUT,
            client.get_from::<api::Overview>(*k, api::OVERVIEW_PATH),
        )
        .await;
        match reply {
            Ok(Ok(o)) => (Some(true), None, Some(o)),
            Ok(Err(e)) => (Some(false), Some(ErrorReport::from(&e)), None),
            Err(_) => (
                Some(false),
                Some(ErrorReport::from(&crate::Error::Timeout {
                    endpoint: redact(url),
                    after: ENDPOINT_TIMEOUT,
                })),
                None,
            ),
        }
    }));
    let (links, answers) = tokio::join!(links, answers);
    let mut link_iter = links.into_iter();
    target
        .nodes
        .iter()
        .zip(apis)
        .zip(answers)
        .enumerate()
        .map(|(i, ((node, api), (reachable, error, overview)))| {
            let amqp = node.amqp.as_ref().and_then(|_| link_iter.next());
            EndpointStatus {
                label: node
                    .amqp
                    .as_ref()
                    .map(host_port)
                    .or_else(|| api.as_ref().map(|(_, u)| redact(u)))
                    .unwrap_or_default(),
                management_url: api.as_ref().map(|(_, u)| redact(u)),
                node_name: overview
                    .as_ref()
                    .and_then(|o: &api::Overview| o.node.clone())
                    .or_else(|| known_names.get(&i).cloned()),
                rabbitmq_version: overview.as_ref().and_then(|o| o.rabbitmq_version.clone()),
                erlang_version: overview.and_then(|o| o.erlang_version),
                amqp,
                management_reachable: reachable,
                management_error: error,
                ok: false,
            }
            .judge()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_ok_when_every_link_to_it_works() {
        let link = |state| LinkStatus {
            endpoint: "127.0.0.1:5672".into(),
            state,
            latency_ms: None,
            since_ms: 0,
            last_error: None,
            failed_attempts: 0,
            blocked: false,
            active: false,
            answered_at: None,
        };
        let endpoint = |amqp: Option<LinkStatus>, reachable: Option<bool>| {
            EndpointStatus {
                label: "127.0.0.1:5672".into(),
                management_url: None,
                node_name: None,
                rabbitmq_version: None,
                erlang_version: None,
                amqp,
                management_reachable: reachable,
                management_error: None,
                ok: false,
            }
            .judge()
            .ok
        };
        assert!(endpoint(Some(link(LinkState::Connected)), Some(true)));
        assert!(endpoint(None, Some(true)), "an API-only endpoint");
        assert!(
            endpoint(Some(link(LinkState::Connected)), None),
            "an AMQP-only endpoint"
        );
        assert!(!endpoint(Some(link(LinkState::Down)), Some(true)));
        assert!(!endpoint(Some(link(LinkState::Connecting)), Some(true)));
        assert!(!endpoint(Some(link(LinkState::Connected)), Some(false)));
    }
}
