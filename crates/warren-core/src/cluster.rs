//! An open cluster: the AMQP session and the management client of one target, and the
//! entry points the app and the CLI call for cluster-wide facts.

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures_util::future::join_all;

use crate::api;
use crate::endpoint::ClusterTarget;
use crate::error::Result;
use crate::management::ManagementClient;
use crate::session::{now_ms, probe_node, ClusterSession, LinkStatus};
use crate::status::{self, ClusterStatus, EndpointStatus};

/// A cluster the app keeps open: long-lived AMQP links to every node and an API client.
pub struct OpenCluster {
    session: ClusterSession,
    api: ManagementClient,
    /// Node names learned per endpoint index, kept so that an endpoint whose API is down can
    /// still be matched to its node.
    node_names: Mutex<BTreeMap<usize, String>>,
}

impl OpenCluster {
    pub fn open(target: ClusterTarget) -> Result<Self> {
        let api = ManagementClient::new(&target)?;
        let session = ClusterSession::open(target)?;
        Ok(OpenCluster {
            session,
            api,
            node_names: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn session(&self) -> &ClusterSession {
        &self.session
    }

    pub fn api(&self) -> &ManagementClient {
        &self.api
    }

    /// The cluster's name and versions, read once for this open cluster (see
    /// [`ManagementClient::overview`]).
    pub async fn overview(&self) -> Result<api::Overview> {
        self.api.overview().await
    }

    pub async fn status(&self) -> Result<ClusterStatus> {
        let links = self.session.links();
        let known = self.node_names.lock().expect("node names poisoned").clone();
        let snapshot = status::fetch(&self.api, self.session.target(), &links, &known).await?;
        remember_names(
            &mut self.node_names.lock().expect("node names poisoned"),
            &snapshot.endpoints,
        );
        Ok(status::analyze(snapshot, now_ms()))
    }

    pub async fn close(self) {
        self.session.close().await;
    }
}

/// Long operations that outlive a call (a consumer) take the session and the API client
/// through these, never the open cluster itself.
impl AsRef<ClusterSession> for OpenCluster {
    fn as_ref(&self) -> &ClusterSession {
        &self.session
    }
}

impl AsRef<ManagementClient> for OpenCluster {
    fn as_ref(&self) -> &ManagementClient {
        &self.api
    }
}

fn remember_names(names: &mut BTreeMap<usize, String>, endpoints: &[EndpointStatus]) {
    for (i, e) in endpoints.iter().enumerate() {
        if let Some(n) = &e.node_name {
            names.insert(i, n.clone());
        }
    }
}

/// Connects once to every AMQP endpoint of `target`, concurrently.
pub async fn probe_all(target: &ClusterTarget) -> Vec<LinkStatus> {
    join_all(target.amqp_nodes().map(|(_, url)| probe_node(target, url))).await
}

/// Cluster status without a long-lived session: one connection attempt per node for the
/// AMQP column. This is what `warren status` runs.
pub async fn status_once(target: &ClusterTarget) -> Result<ClusterStatus> {
    let api = ManagementClient::new(target)?;
    let links = probe_all(target).await;
    let snapshot = status::fetch(&api, target, &links, &BTreeMap::new()).await?;
    Ok(status::analyze(snapshot, now_ms()))
}

/// "Can I reach each node?": one AMQP connection and one API request per endpoint, with the
/// reason for each failure. Used by the profile editor and `warren profile test`.
pub async fn test_endpoints(target: &ClusterTarget) -> Result<Vec<EndpointStatus>> {
    let links = probe_all(target).await;
    let api = ManagementClient::new(target)?;
    Ok(status::endpoint_statuses(&api, target, &links, &BTreeMap::new()).await)
}
