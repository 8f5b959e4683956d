//! An open cluster: the AMQP session and the management client of one target, and the
//! entry points the app and the CLI call for cluster-wide facts.
//!
//! The AMQP session starts on first use, not when the cluster is opened: the app's home screen
//! shows every saved cluster through the management API alone, and only a cluster the user
//! works with keeps connections to its nodes (each a login, and a failed login counts against
//! directory-backed accounts).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::future::join_all;

use crate::api;
use crate::endpoint::ClusterTarget;
use crate::error::Result;
use crate::management::ManagementClient;
use crate::queues::history::{self, HistoryBook, QueueHistory};
use crate::session::{now_ms, probe_node, ClusterSession, LinkStatus};
use crate::status::{self, ClusterStatus, EndpointStatus};

/// A cluster the app keeps open: an API client, and long-lived AMQP links to every node once
/// something needs them.
pub struct OpenCluster {
    target: ClusterTarget,
    session: OnceLock<ClusterSession>,
    api: ManagementClient,
    /// Node names learned per endpoint index, kept so that an endpoint whose API is down can
    /// still be matched to its node.
    node_names: Mutex<BTreeMap<usize, String>>,
    /// Queue histories Warren keeps itself where the broker keeps none, while this cluster
    /// is open.
    histories: Mutex<HistoryBook>,
}

impl OpenCluster {
    pub fn open(target: ClusterTarget) -> Result<Self> {
        let api = ManagementClient::new(&target)?;
        Ok(OpenCluster {
            target,
            session: OnceLock::new(),
            api,
            node_names: Mutex::new(BTreeMap::new()),
            histories: Mutex::new(HistoryBook::default()),
        })
    }

    /// The AMQP session, started on first use.
    pub fn session(&self) -> Result<&ClusterSession> {
        if let Some(s) = self.session.get() {
            return Ok(s);
        }
        let started = ClusterSession::open(self.target.clone())?;
        // Another caller may have started one meanwhile: the first stays, ours stops when
        // dropped.
        let _ = self.session.set(started);
        Ok(self.session.get().expect("set above"))
    }

    pub fn api(&self) -> &ManagementClient {
        &self.api
    }

    /// The cluster's name and versions, read once for this open cluster (see
    /// [`ManagementClient::overview`]).
    pub async fn overview(&self) -> Result<api::Overview> {
        self.api.overview().await
    }

    /// The cluster's status. With `links`, Warren's own AMQP links are part of it (and start
    /// if they have not); without, they appear only if something started them already.
    pub async fn status(&self, links: bool) -> Result<ClusterStatus> {
        let links = match (links, self.session.get()) {
            (true, _) => self.session()?.links(),
            (false, Some(s)) => s.links(),
            (false, None) => Vec::new(),
        };
        let known = self.node_names.lock().expect("node names poisoned").clone();
        let snapshot =
            status::fetch(&self.api, &self.target, std::future::ready(links), &known).await?;
        remember_names(
            &mut self.node_names.lock().expect("node names poisoned"),
            &snapshot.endpoints,
        );
        Ok(status::analyze(snapshot, now_ms()))
    }

    /// A queue's depth and rates over time (see [`history`]): the broker's samples, or the
    /// history this open cluster keeps, to which this call adds a point.
    pub async fn queue_history(&self, vhost: &str, name: &str) -> Result<QueueHistory> {
        history::read(&self.api, &self.histories, vhost, name, now_ms()).await
    }

    pub async fn close(self) {
        if let Some(s) = self.session.into_inner() {
            s.close().await;
        }
    }
}

/// An open cluster whose AMQP session has started: what long operations that outlive a call
/// (a consumer, a tap) hold. They take the session and the API client through `AsRef`, never
/// the open cluster itself.
pub struct StartedCluster(Arc<OpenCluster>);

impl OpenCluster {
    /// This cluster with its session started (see [`OpenCluster::session`]).
    pub fn started(self: &Arc<Self>) -> Result<Arc<StartedCluster>> {
        self.session()?;
        Ok(Arc::new(StartedCluster(self.clone())))
    }
}

impl AsRef<ClusterSession> for StartedCluster {
    fn as_ref(&self) -> &ClusterSession {
        // A `StartedCluster` is made only once the session is set, and it is never unset.
        self.0
            .session
            .get()
            .expect("a started cluster has a session")
    }
}

impl AsRef<ManagementClient> for StartedCluster {
    fn as_ref(&self) -> &ManagementClient {
        &self.0.api
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
    let snapshot = status::fetch(&api, target, probe_all(target), &BTreeMap::new()).await?;
    Ok(status::analyze(snapshot, now_ms()))
}

/// "Can I reach each node?": one AMQP connection and one API request per endpoint, with the
/// reason for each failure. Used by the profile editor and `warren profile test`.
pub async fn test_endpoints(target: &ClusterTarget) -> Result<Vec<EndpointStatus>> {
    let api = ManagementClient::new(target)?;
    Ok(status::endpoint_statuses(&api, target, probe_all(target), &BTreeMap::new()).await)
}
