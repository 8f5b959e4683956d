//! The broker's own health checks (`/api/health/checks/...`), asked of each node's API.
//!
//! Most checks judge the node that answers (is it quorum-critical, in service, below its
//! connection limit), so every reachable endpoint is asked, not just one. The set of checks
//! differs by version (4.x removed the mirror-sync check and added the readiness ones); a
//! check that answers 404 is "not available" on that node, never an error, and the report
//! keeps it so the user sees what was asked.

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::api;
use crate::error::{Error, Result};
use crate::management::ManagementClient;

use super::EndpointStatus;

/// A health check of the management API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HealthCheckKind {
    /// No resource alarm (memory, disk) anywhere in the cluster.
    Alarms,
    /// No resource alarm on this node.
    LocalAlarms,
    /// Stopping this node would not leave a quorum queue without a majority.
    NodeIsQuorumCritical,
    /// Stopping this node would not lose the only synchronised copy of a mirrored queue
    /// (3.x only).
    NodeIsMirrorSyncCritical,
    /// Every virtual host runs on this node.
    VirtualHosts,
    /// The node is running and not being drained (4.x).
    IsInService,
    /// The node is below its connection limit (4.x).
    BelowNodeConnectionLimit,
    /// The node is ready to serve clients (4.x).
    ReadyToServeClients,
    /// The node's metadata store is initialised (4.x).
    MetadataStoreInitialized,
}

impl HealthCheckKind {
    /// Every check Warren asks for, in display order.
    pub const ALL: [HealthCheckKind; 9] = [
        HealthCheckKind::Alarms,
        HealthCheckKind::LocalAlarms,
        HealthCheckKind::NodeIsQuorumCritical,
        HealthCheckKind::NodeIsMirrorSyncCritical,
        HealthCheckKind::VirtualHosts,
        HealthCheckKind::IsInService,
        HealthCheckKind::BelowNodeConnectionLimit,
        HealthCheckKind::ReadyToServeClients,
        HealthCheckKind::MetadataStoreInitialized,
    ];

    /// The check's name in the API's path (after `/api/health/checks/`).
    pub fn api_name(self) -> &'static str {
        match self {
            HealthCheckKind::Alarms => "alarms",
            HealthCheckKind::LocalAlarms => "local-alarms",
            HealthCheckKind::NodeIsQuorumCritical => "node-is-quorum-critical",
            HealthCheckKind::NodeIsMirrorSyncCritical => "node-is-mirror-sync-critical",
            HealthCheckKind::VirtualHosts => "virtual-hosts",
            HealthCheckKind::IsInService => "is-in-service",
            HealthCheckKind::BelowNodeConnectionLimit => "below-node-connection-limit",
            HealthCheckKind::ReadyToServeClients => "ready-to-serve-clients",
            HealthCheckKind::MetadataStoreInitialized => "metadata-store/initialized",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// This node's version has no such check (404).
    NotAvailable,
    /// The check did not answer usefully (timeout, other error): unknown, not failed.
    Unknown,
}

/// One check's result on one node.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct HealthCheck {
    pub kind: HealthCheckKind,
    /// The path name, e.g. `node-is-quorum-critical`.
    pub name: String,
    pub outcome: CheckOutcome,
    /// The broker's reason (why a check failed, or a note such as "single node cluster"), or
    /// what went wrong asking.
    pub reason: Option<String>,
}

/// The checks as one node's API answered them.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NodeHealthChecks {
    /// The node that answered, as its API named itself.
    pub node_name: Option<String>,
    /// The management endpoint asked (redacted).
    pub endpoint: String,
    pub checks: Vec<HealthCheck>,
}

impl NodeHealthChecks {
    pub fn failed(&self) -> impl Iterator<Item = &HealthCheck> {
        self.checks
            .iter()
            .filter(|c| c.outcome == CheckOutcome::Failed)
    }
}

/// Reads a check's answer: 200 passed, 503 failed (with the broker's reason), 404 not
/// available on this version; anything else unknown. Pure.
pub fn outcome_of(kind: HealthCheckKind, reply: Result<api::HealthCheckReply>) -> HealthCheck {
    let (outcome, reason) = match reply {
        Ok(r) if r.status.as_deref().is_none_or(|s| s == "ok") => (CheckOutcome::Passed, r.reason),
        Ok(r) => (CheckOutcome::Failed, r.reason.or(r.status)),
        Err(Error::Http { status: 404, .. }) => (CheckOutcome::NotAvailable, None),
        Err(Error::Http {
            status: 503,
            reason,
            ..
        }) => (CheckOutcome::Failed, Some(reason).filter(|r| !r.is_empty())),
        Err(e) => (CheckOutcome::Unknown, Some(e.to_string())),
    };
    HealthCheck {
        kind,
        name: kind.api_name().to_owned(),
        outcome,
        reason,
    }
}

/// Asks every check of each endpoint whose API answered (`endpoints` as
/// [`super::endpoint_statuses`] returned them), each request bounded by `limit`.
pub async fn read(
    client: &ManagementClient,
    endpoints: &[EndpointStatus],
    limit: Duration,
) -> Vec<NodeHealthChecks> {
    let with_api = endpoints.iter().filter(|e| e.management_url.is_some());
    let asked = with_api
        .enumerate()
        .filter(|(_, e)| e.management_reachable == Some(true))
        .map(|(k, e)| async move {
            let checks = HealthCheckKind::ALL.map(|kind| async move {
                let path = format!("{}{}", api::HEALTH_CHECKS_PATH, kind.api_name());
                let reply =
                    tokio::time::timeout(limit, client.get_from::<api::HealthCheckReply>(k, &path))
                        .await
                        .unwrap_or_else(|_| {
                            Err(Error::Timeout {
                                endpoint: e.management_url.clone().unwrap_or_default(),
                                after: limit,
                            })
                        });
                outcome_of(kind, reply)
            });
            NodeHealthChecks {
                node_name: e.node_name.clone(),
                endpoint: e.management_url.clone().unwrap_or_default(),
                checks: futures_util::future::join_all(checks).await,
            }
        });
    futures_util::future::join_all(asked).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(json: &str) -> Result<api::HealthCheckReply> {
        Ok(serde_json::from_str(json).unwrap())
    }

    fn http(status: u16, reason: &str) -> Result<api::HealthCheckReply> {
        Err(Error::Http {
            endpoint: "http://127.0.0.1:15672".into(),
            path: "/api/health/checks/x".into(),
            status,
            reason: reason.into(),
        })
    }

    #[test]
    fn answers_become_outcomes() {
        let k = HealthCheckKind::NodeIsQuorumCritical;
        let passed = outcome_of(k, reply(r#"{"status":"ok"}"#));
        assert_eq!(
            (passed.outcome, passed.reason),
            (CheckOutcome::Passed, None)
        );
        assert_eq!(passed.name, "node-is-quorum-critical");
        let noted = outcome_of(
            k,
            reply(r#"{"status":"ok","reason":"single node cluster"}"#),
        );
        assert_eq!(
            (noted.outcome, noted.reason.as_deref()),
            (CheckOutcome::Passed, Some("single node cluster"))
        );
        let failed = outcome_of(
            k,
            http(503, "there are quorum queues with minimum online quorum"),
        );
        assert_eq!(failed.outcome, CheckOutcome::Failed);
        assert!(failed.reason.unwrap().contains("minimum online quorum"));
        let missing = outcome_of(HealthCheckKind::IsInService, http(404, "Not Found"));
        assert_eq!(
            (missing.outcome, missing.reason),
            (CheckOutcome::NotAvailable, None)
        );
        let refused = outcome_of(k, http(500, "boom"));
        assert_eq!(refused.outcome, CheckOutcome::Unknown);
        let timeout = outcome_of(
            k,
            Err(Error::Timeout {
                endpoint: "e".into(),
                after: Duration::from_secs(4),
            }),
        );
        assert_eq!(timeout.outcome, CheckOutcome::Unknown);
        let odd = outcome_of(k, reply(r#"{"status":"failed","reason":"r"}"#));
        assert_eq!(
            (odd.outcome, odd.reason.as_deref()),
            (CheckOutcome::Failed, Some("r"))
        );
    }
}
