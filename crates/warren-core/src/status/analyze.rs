//! Judging a cluster: [`analyze`] turns what [`super::fetch`] read into a [`ClusterStatus`]. A
//! pure function of the API's replies, so every rule about what counts as "at risk" is
//! unit-tested on recorded replies here.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{
    AtRiskQueue, ClusterStatus, DeadPolicy, EndpointStatus, Health, HealthLevel, MirroredQueue,
    NodeHealthChecks, NodeStatus, QueueCounts, ReplicatedQueue, Severity, Snapshot,
};
use crate::api;
use crate::broker::{self, QueueType};

pub fn analyze(snapshot: Snapshot, fetched_at_ms: u64) -> ClusterStatus {
    let Snapshot {
        overview,
        nodes,
        queues,
        policies,
        endpoints,
        health_checks,
        shovels,
        federation,
        api_endpoint,
    } = snapshot;
    let mirroring_supported = broker::mirroring_supported(overview.version());
    let running: BTreeSet<&str> = nodes
        .iter()
        .filter(|n| n.running)
        .map(|n| n.name.as_str())
        .collect();
    // Queue replies lag node state by up to a statistics interval: a mirror or member on a
    // node the cluster already reports down is counted as gone now, not seconds later.
    let down: BTreeSet<&str> = nodes
        .iter()
        .filter(|n| !n.running)
        .map(|n| n.name.as_str())
        .collect();

    let node_statuses: Vec<NodeStatus> = nodes
        .iter()
        .map(|n| node_status(n, &overview, &endpoints))
        .collect();

    let mut counts = QueueCounts::default();
    let mut mirrored = Vec::new();
    let mut quorum = Vec::new();
    let mut streams = Vec::new();
    let mut at_risk = Vec::new();
    for q in &queues {
        counts.total += 1;
        let risk = |severity, reason: String| AtRiskQueue {
            vhost: q.vhost.clone(),
            name: q.name.clone(),
            queue_type: q.kind(),
            severity,
            reason,
        };
        let mut risks: Vec<AtRiskQueue> = Vec::new();
        match q.kind() {
            QueueType::Quorum | QueueType::Stream => {
                let group = replicated(q, &down);
                risks.extend(
                    replication_risks(&group)
                        .into_iter()
                        .map(|(s, r)| risk(s, r)),
                );
                if q.kind() == QueueType::Quorum {
                    counts.quorum += 1;
                    quorum.push(group);
                } else {
                    counts.stream += 1;
                    streams.push(group);
                }
            }
            QueueType::Classic | QueueType::Other => {
                counts.classic += 1;
                let is_mirrored =
                    mirroring_supported && (q.slave_nodes.is_some() || has_ha_policy(q));
                if is_mirrored {
                    counts.mirrored += 1;
                    let m = mirrored_queue(q, &down);
                    risks.extend(
                        mirror_risks(&m, &running)
                            .into_iter()
                            .map(|(s, r)| risk(s, r)),
                    );
                    mirrored.push(m);
                } else if let Some(node) = &q.node {
                    if !running.contains(node.as_str()) && !nodes.is_empty() {
                        risks.push(risk(
                            Severity::Critical,
                            format!("its node {node} is down: the queue is unavailable"),
                        ));
                    }
                }
            }
        }
        if risks.is_empty() {
            if let Some(state) = q.state.as_deref().filter(|s| !is_healthy_state(s)) {
                risks.push(risk(Severity::Critical, format!("state is \"{state}\"")));
            }
        }
        at_risk.extend(risks);
    }
    at_risk.extend(super::links::risks(
        shovels.as_deref(),
        federation.as_deref(),
        &queues,
    ));
    at_risk.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| (&a.vhost, &a.name).cmp(&(&b.vhost, &b.name)))
    });

    let dead_policies = if mirroring_supported {
        Vec::new()
    } else {
        policies
            .iter()
            .filter_map(|p| {
                let keys: Vec<String> = p
                    .definition
                    .keys()
                    .filter(|k| k.starts_with("ha-"))
                    .cloned()
                    .collect();
                (!keys.is_empty()).then(|| DeadPolicy {
                    vhost: p.vhost.clone(),
                    name: p.name.clone(),
                    pattern: p.pattern.clone(),
                    reason: "classic queue mirroring was removed in RabbitMQ 4.0: these keys have \
                             no effect; use quorum queues for replication"
                        .into(),
                    keys,
                })
            })
            .collect()
    };

    let mut health = health(
        &node_statuses,
        &endpoints,
        &at_risk,
        &dead_policies,
        &health_checks,
    );
    super::links::judge(&mut health, shovels.as_deref(), federation.as_deref());
    ClusterStatus {
        cluster_name: overview.cluster_name.clone(),
        rabbitmq_version: overview.rabbitmq_version.clone(),
        erlang_version: overview.erlang_version.clone(),
        mirroring_supported,
        health,
        nodes: node_statuses,
        endpoints,
        queue_counts: counts,
        mirrored_queues: mirrored,
        quorum_queues: quorum,
        streams,
        at_risk,
        dead_policies,
        health_checks,
        shovels,
        federation,
        api_endpoint,
        fetched_at_ms,
    }
}

fn node_status(
    n: &api::Node,
    overview: &api::Overview,
    endpoints: &[EndpointStatus],
) -> NodeStatus {
    let endpoint = endpoints
        .iter()
        .find(|e| e.node_name.as_deref() == Some(n.name.as_str()));
    // The node's own API knows its versions; so does the overview when it came from this node.
    let own_overview = (overview.node.as_deref() == Some(n.name.as_str())).then_some(overview);
    let rabbit_app = n
        .applications
        .iter()
        .find(|a| a.name == "rabbit")
        .map(|a| a.version.clone());
    NodeStatus {
        name: n.name.clone(),
        running: n.running,
        node_type: n.node_type.clone(),
        rabbitmq_version: rabbit_app
            .or_else(|| endpoint.and_then(|e| e.rabbitmq_version.clone()))
            .or_else(|| own_overview.and_then(|o| o.rabbitmq_version.clone())),
        erlang_version: endpoint
            .and_then(|e| e.erlang_version.clone())
            .or_else(|| own_overview.and_then(|o| o.erlang_version.clone())),
        uptime_ms: n.uptime.filter(|_| n.running),
        mem_used: n.mem_used,
        mem_limit: n.mem_limit,
        mem_alarm: n.mem_alarm,
        disk_free: n.disk_free,
        disk_free_limit: n.disk_free_limit,
        disk_free_alarm: n.disk_free_alarm,
        fd_used: n.fd_used,
        fd_total: n.fd_total,
        sockets_used: n.sockets_used,
        sockets_total: n.sockets_total,
        proc_used: n.proc_used,
        proc_total: n.proc_total,
        partitions: n.partitions.clone(),
        amqp: endpoint.and_then(|e| e.amqp.clone()),
    }
}

fn is_healthy_state(state: &str) -> bool {
    // "live" is what the API says without statistics.
    matches!(state, "running" | "live" | "idle" | "flow")
}

pub(super) fn has_ha_policy(q: &api::Queue) -> bool {
    q.effective_policy_definition
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|d| d.contains_key("ha-mode"))
}

fn policy_name(q: &api::Queue) -> Option<String> {
    q.policy
        .as_ref()
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn mirrored_queue(q: &api::Queue, down: &BTreeSet<&str>) -> MirroredQueue {
    let up = |nodes: &Option<Vec<String>>| -> Vec<String> {
        let nodes = nodes.iter().flatten();
        nodes
            .filter(|n| !down.contains(n.as_str()))
            .cloned()
            .collect()
    };
    let mirrors = up(&q.slave_nodes);
    let synced = up(&q.synchronised_slave_nodes);
    let unsynchronised = mirrors
        .iter()
        .filter(|m| !synced.contains(m))
        .cloned()
        .collect();
    MirroredQueue {
        vhost: q.vhost.clone(),
        name: q.name.clone(),
        policy: policy_name(q),
        master: q.node.clone(),
        synchronised: synced.into_iter().filter(|s| mirrors.contains(s)).collect(),
        unsynchronised,
        mirrors,
        state: q.state.clone(),
        messages: q.messages,
    }
}

fn mirror_risks(m: &MirroredQueue, running: &BTreeSet<&str>) -> Vec<(Severity, String)> {
    let mut out = Vec::new();
    match &m.master {
        Some(master) if !running.is_empty() && !running.contains(master.as_str()) => {
            out.push((
                Severity::Critical,
                format!("its master node {master} is down"),
            ));
        }
        None => out.push((Severity::Critical, "it has no master".into())),
        _ => {}
    }
    let master = m.master.as_deref().unwrap_or("?");
    if m.mirrors.is_empty() {
        out.push((
            Severity::Critical,
            format!(
                "the mirroring policy applies but it has no mirror: its only copy is on {master}"
            ),
        ));
    } else if m.synchronised.is_empty() {
        out.push((
            Severity::Critical,
            format!(
                "no mirror is synchronised ({} unsynchronised): losing {master} loses messages",
                m.unsynchronised.join(", ")
            ),
        ));
    } else if !m.unsynchronised.is_empty() {
        out.push((
            Severity::Warning,
            format!(
                "{} of {} mirrors unsynchronised: {}",
                m.unsynchronised.len(),
                m.mirrors.len(),
                m.unsynchronised.join(", ")
            ),
        ));
    }
    out
}

fn replicated(q: &api::Queue, down: &BTreeSet<&str>) -> ReplicatedQueue {
    let members = q.members.clone().unwrap_or_default();
    // Older versions omit `online`; then only the leader is known to be up.
    let online: Vec<String> = match &q.online {
        Some(o) => members.iter().filter(|m| o.contains(m)).cloned().collect(),
        None => q.leader.iter().cloned().collect(),
    };
    let online: Vec<String> = online
        .into_iter()
        .filter(|m| !down.contains(m.as_str()))
        .collect();
    let offline = members
        .iter()
        .filter(|m| !online.contains(m))
        .cloned()
        .collect();
    let quorum = members.len() as u32 / 2 + 1;
    ReplicatedQueue {
        vhost: q.vhost.clone(),
        name: q.name.clone(),
        // Streams name their leader in `node`.
        leader: q
            .leader
            .clone()
            .or_else(|| q.node.clone())
            .filter(|l| !l.is_empty()),
        spare_members: online.len() as i32 - quorum as i32,
        quorum,
        members,
        online,
        offline,
        state: q.state.clone(),
        messages: q.messages,
    }
}

fn replication_risks(g: &ReplicatedQueue) -> Vec<(Severity, String)> {
    let (online, total) = (g.online.len(), g.members.len());
    if total == 0 {
        return vec![(Severity::Critical, "the API reports no members".into())];
    }
    if g.spare_members < 0 {
        return vec![(
            Severity::Critical,
            format!(
                "quorum lost: {online} of {total} members online, {} needed; the queue is unavailable",
                g.quorum
            ),
        )];
    }
    let mut out = Vec::new();
    if g.leader.is_none() {
        out.push((Severity::Critical, "no leader elected".to_owned()));
    }
    if online < total {
        if g.spare_members == 0 {
            out.push((
                Severity::Critical,
                format!(
                    "{online} of {total} members online ({} offline): one more node loss loses quorum",
                    g.offline.join(", ")
                ),
            ));
        } else {
            out.push((
                Severity::Warning,
                format!(
                    "under-replicated: {online} of {total} members online ({} offline)",
                    g.offline.join(", ")
                ),
            ));
        }
    } else if total == 1 {
        out.push((
            Severity::Warning,
            format!("a single member on {}: not replicated", g.members[0]),
        ));
    }
    out
}

fn health(
    nodes: &[NodeStatus],
    endpoints: &[EndpointStatus],
    at_risk: &[AtRiskQueue],
    dead: &[DeadPolicy],
    checks: &[NodeHealthChecks],
) -> Health {
    let mut findings: Vec<(HealthLevel, String)> = Vec::new();
    let mut critical = |s: String| findings.push((HealthLevel::Critical, s));
    for n in nodes {
        if !n.running {
            critical(format!("node {} is down", n.name));
            continue;
        }
        if n.mem_alarm == Some(true) {
            critical(format!("memory alarm on {}: publishing is blocked", n.name));
        }
        if n.disk_free_alarm == Some(true) {
            critical(format!("disk alarm on {}: publishing is blocked", n.name));
        }
        if !n.partitions.is_empty() {
            critical(format!(
                "network partition: {} cannot see {}",
                n.name,
                n.partitions.join(", ")
            ));
        }
    }
    let critical_queues = at_risk
        .iter()
        .filter(|q| q.severity == Severity::Critical)
        .count();
    if critical_queues > 0 {
        findings.push((
            HealthLevel::Critical,
            format!("{critical_queues} queue(s) at critical risk"),
        ));
    }
    for n in nodes.iter().filter(|n| n.running) {
        if let (Some(used), Some(limit)) = (n.mem_used, n.mem_limit) {
            // Widened: broker numbers can be anything up to u64::MAX.
            let (used, limit) = (u128::from(used), u128::from(limit));
            if limit > 0 && used * 10 >= limit * 9 {
                findings.push((
                    HealthLevel::Warning,
                    format!(
                        "{} uses {}% of its memory high watermark",
                        n.name,
                        used * 100 / limit
                    ),
                ));
            }
        }
        if let (Some(used), Some(total)) = (n.fd_used, n.fd_total) {
            if total > 0 && u128::from(used) * 10 >= u128::from(total) * 9 {
                findings.push((
                    HealthLevel::Warning,
                    format!("{} uses {used} of {total} file descriptors", n.name),
                ));
            }
        }
    }
    let warning_queues = at_risk.len() - critical_queues;
    if warning_queues > 0 {
        findings.push((
            HealthLevel::Warning,
            format!("{warning_queues} queue(s) at risk"),
        ));
    }
    for e in endpoints {
        if !e.amqp_connected() {
            findings.push((
                HealthLevel::Warning,
                format!("Warren has no AMQP connection to {}", e.label),
            ));
        }
    }
    if !dead.is_empty() {
        findings.push((
            HealthLevel::Warning,
            format!("{} policy(ies) with dead ha-* keys", dead.len()),
        ));
    }
    for n in checks {
        let failed: Vec<&str> = n.failed().map(|c| c.name.as_str()).collect();
        if !failed.is_empty() {
            findings.push((
                HealthLevel::Warning,
                format!(
                    "{}: health check(s) failing: {}",
                    n.node_name.as_deref().unwrap_or(&n.endpoint),
                    failed.join(", ")
                ),
            ));
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.0));
    Health {
        level: findings.first().map_or(HealthLevel::Ok, |f| f.0),
        reasons: findings.into_iter().map(|f| f.1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const N1: &str = "warren-1@localhost";
    const N2: &str = "warren-2@localhost";
    const N3: &str = "warren-3@localhost";

    fn running_node(name: &str) -> Value {
        json!({"name": name, "running": true, "type": "disc", "uptime": 43939,
               "mem_used": 136077312u64, "mem_limit": 10110425497u64, "mem_alarm": false,
               "disk_free": 80523489280u64, "disk_free_limit": 50000000, "disk_free_alarm": false,
               "fd_used": 40, "fd_total": 20000, "sockets_used": 0, "sockets_total": 17910,
               "proc_used": 357, "proc_total": 1048576, "partitions": [],
               "applications": [{"name": "rabbit", "description": "RabbitMQ", "version": "3.10.8"}]})
    }

    /// What 3.10 reports for a member whose app is stopped: hardly anything.
    fn stopped_node(name: &str) -> Value {
        json!({"name": name, "running": false, "type": "disc"})
    }

    fn snapshot(version: &str, nodes: Vec<Value>, queues: Value, policies: Value) -> Snapshot {
        Snapshot {
            overview: api::Overview {
                cluster_name: Some("warren-demo".into()),
                rabbitmq_version: Some(version.into()),
                erlang_version: Some("25.2.3".into()),
                node: Some(N1.into()),
            },
            nodes: serde_json::from_value(Value::Array(nodes)).unwrap(),
            queues: serde_json::from_value(queues).unwrap(),
            policies: serde_json::from_value(policies).unwrap(),
            endpoints: Vec::new(),
            health_checks: Vec::new(),
            shovels: None,
            federation: None,
            api_endpoint: "http://127.0.0.1:15781".into(),
        }
    }

    fn healthy_queues() -> Value {
        json!([
            {"name": "demo.classic", "vhost": "/", "type": "classic", "state": "running", "node": N1, "messages": 6},
            {"name": "ha.orders", "vhost": "/", "type": "classic", "state": "running", "node": N1,
             "policy": "ha-demo", "effective_policy_definition": {"ha-mode": "all"},
             "slave_nodes": [N2, N3], "synchronised_slave_nodes": [N3, N2]},
            {"name": "demo.quorum", "vhost": "/", "type": "quorum", "state": "running", "leader": N2,
             "members": [N2, N3, N1], "online": [N2, N3, N1], "messages": 0},
            {"name": "demo.stream", "vhost": "/", "type": "stream", "state": "running", "node": N3,
             "members": [N3, N2, N1], "online": [N3, N2, N1]}
        ])
    }

    /// A node reply with `field` replaced by `value`, as an odd broker sends it.
    fn node_with(name: &str, field: &str, value: Value) -> Value {
        let mut n = running_node(name);
        n[field] = value;
        n
    }

    fn status_with_odd_field(field: &str, value: Value) -> ClusterStatus {
        let nodes = vec![
            node_with(N1, field, value),
            running_node(N2),
            running_node(N3),
        ];
        analyze(snapshot("3.10.8", nodes, healthy_queues(), json!([])), 1)
    }

    #[test]
    fn a_string_where_a_number_belongs_is_unknown() {
        let s = status_with_odd_field("fd_used", json!("unknown"));
        assert_eq!(s.nodes[0].fd_used, None);
        assert_eq!(s.nodes[0].fd_total, Some(20000), "the rest is still read");
        assert_eq!(s.nodes[1].fd_used, Some(40));
        assert_eq!(s.health.level, HealthLevel::Ok, "{:?}", s.health.reasons);
    }

    #[test]
    fn a_negative_number_is_unknown() {
        let s = status_with_odd_field("mem_used", json!(-1));
        assert_eq!(s.nodes[0].mem_used, None);
        assert_eq!(s.nodes[0].mem_limit, Some(10110425497));
    }

    #[test]
    fn a_fractional_number_is_unknown() {
        let s = status_with_odd_field("sockets_used", json!(2.5));
        assert_eq!(s.nodes[0].sockets_used, None);
        assert_eq!(s.nodes[0].sockets_total, Some(17910));
    }

    #[test]
    fn a_number_past_u64_is_unknown_and_the_largest_ones_do_not_overflow() {
        let s = status_with_odd_field("disk_free", json!(1e30));
        assert_eq!(s.nodes[0].disk_free, None);
        let huge: Value = serde_json::from_str("184467440737095516160").unwrap();
        let s = status_with_odd_field("proc_used", huge);
        assert_eq!(s.nodes[0].proc_used, None);
        // Both at u64::MAX: the comparisons with the limits must not overflow.
        let mut n1 = running_node(N1);
        n1["mem_used"] = json!(u64::MAX);
        n1["mem_limit"] = json!(u64::MAX);
        n1["fd_used"] = json!(u64::MAX);
        n1["fd_total"] = json!(u64::MAX);
        let s = analyze(snapshot("3.10.8", vec![n1], healthy_queues(), json!([])), 1);
        assert_eq!(s.nodes[0].mem_used, Some(u64::MAX));
        assert!(
            s.health
                .reasons
                .iter()
                .any(|r| r.contains("uses 100% of its memory")),
            "{:?}",
            s.health.reasons
        );
        assert!(
            s.health
                .reasons
                .iter()
                .any(|r| r.contains("file descriptors")),
            "{:?}",
            s.health.reasons
        );
    }

    #[test]
    fn healthy_cluster_has_nothing_at_risk() {
        let s = analyze(
            snapshot(
                "3.10.8",
                vec![running_node(N1), running_node(N2), running_node(N3)],
                healthy_queues(),
                json!([]),
            ),
            1,
        );
        assert_eq!(s.health.level, HealthLevel::Ok, "{:?}", s.health.reasons);
        assert!(s.at_risk.is_empty(), "{:?}", s.at_risk);
        assert!(s.mirroring_supported);
        let c = &s.queue_counts;
        assert_eq!(
            (c.total, c.classic, c.mirrored, c.quorum, c.stream),
            (4, 2, 1, 1, 1)
        );
        assert_eq!(s.mirrored_queues[0].synchronised.len(), 2);
        assert_eq!(s.quorum_queues[0].spare_members, 1);
        assert_eq!(
            s.streams[0].leader.as_deref(),
            Some(N3),
            "a stream's leader is its `node`"
        );
        assert_eq!(s.nodes[0].rabbitmq_version.as_deref(), Some("3.10.8"));
        assert_eq!(s.nodes[0].erlang_version.as_deref(), Some("25.2.3"));
        assert_eq!(
            s.nodes[1].erlang_version, None,
            "only the answering node's Erlang is known"
        );
    }

    #[test]
    fn a_failing_health_check_is_a_warning_and_a_missing_one_is_not() {
        use crate::status::{CheckOutcome, HealthCheck, HealthCheckKind};
        let check = |kind: HealthCheckKind, outcome, reason: Option<&str>| HealthCheck {
            kind,
            name: kind.api_name().into(),
            outcome,
            reason: reason.map(str::to_owned),
        };
        let node_checks = |node: &str, failing: bool| NodeHealthChecks {
            node_name: Some(node.into()),
            endpoint: "http://127.0.0.1:15791".into(),
            checks: vec![
                check(HealthCheckKind::Alarms, CheckOutcome::Passed, None),
                check(
                    HealthCheckKind::NodeIsQuorumCritical,
                    if failing {
                        CheckOutcome::Failed
                    } else {
                        CheckOutcome::Passed
                    },
                    failing.then_some("quorum queues would lose their majority"),
                ),
                check(
                    HealthCheckKind::NodeIsMirrorSyncCritical,
                    CheckOutcome::NotAvailable,
                    None,
                ),
                check(
                    HealthCheckKind::IsInService,
                    CheckOutcome::Unknown,
                    Some("timed out"),
                ),
            ],
        };
        let nodes = || vec![running_node(N1), running_node(N2), running_node(N3)];
        let mut all_pass = snapshot("4.3.6", nodes(), healthy_queues(), json!([]));
        all_pass.health_checks = vec![node_checks(N1, false), node_checks(N2, false)];
        let ok = analyze(all_pass, 1);
        assert_eq!(ok.health.level, HealthLevel::Ok, "{:?}", ok.health.reasons);
        assert_eq!(ok.health_checks.len(), 2);

        let mut one_fails = snapshot("4.3.6", nodes(), healthy_queues(), json!([]));
        one_fails.health_checks = vec![node_checks(N1, false), node_checks(N2, true)];
        let s = analyze(one_fails, 1);
        assert_eq!(s.health.level, HealthLevel::Warning);
        assert_eq!(
            s.health.reasons,
            [format!(
                "{N2}: health check(s) failing: node-is-quorum-critical"
            )]
        );
    }

    #[test]
    fn stopped_node_shows_unknowns_and_puts_queues_at_risk() {
        let queues = json!([
            {"name": "on-n2", "vhost": "/", "type": "classic", "state": "down", "node": N2},
            {"name": "ha.orders", "vhost": "/", "type": "classic", "state": "running", "node": N1,
             "policy": "ha-demo", "effective_policy_definition": {"ha-mode": "all"},
             "slave_nodes": [N3], "synchronised_slave_nodes": [N3]},
            {"name": "demo.quorum", "vhost": "/", "type": "quorum", "state": "running", "leader": N1,
             "members": [N2, N3, N1], "online": [N3, N1]}
        ]);
        let s = analyze(
            snapshot(
                "3.10.8",
                vec![running_node(N1), stopped_node(N2), running_node(N3)],
                queues,
                json!([]),
            ),
            1,
        );
        let n2 = &s.nodes[1];
        assert!(!n2.running);
        assert_eq!(
            (n2.mem_used, n2.mem_alarm, n2.uptime_ms),
            (None, None, None)
        );
        assert_eq!(s.health.level, HealthLevel::Critical);
        assert_eq!(s.health.reasons[0], format!("node {N2} is down"));

        let risk = |name: &str| s.at_risk.iter().find(|r| r.name == name);
        let on_n2 = risk("on-n2").expect("a classic queue on a down node is at risk");
        assert_eq!(on_n2.severity, Severity::Critical);
        assert!(on_n2.reason.contains("is down"), "{}", on_n2.reason);
        let quorum = risk("demo.quorum").expect("quorum queue with a member offline");
        assert_eq!(quorum.severity, Severity::Critical);
        assert!(
            quorum.reason.contains("one more node loss loses quorum"),
            "{}",
            quorum.reason
        );
        assert_eq!(s.quorum_queues[0].offline, [N2]);
        assert_eq!(s.quorum_queues[0].spare_members, 0);
        // One synchronised mirror left: not at risk by itself.
        assert!(risk("ha.orders").is_none());
    }

    #[test]
    fn replicas_on_a_down_node_count_as_gone_before_the_queue_reply_catches_up() {
        // The queue reply still lists warren-2 as a synchronised mirror and an online member.
        let s = analyze(
            snapshot(
                "3.10.8",
                vec![running_node(N1), stopped_node(N2), running_node(N3)],
                healthy_queues(),
                json!([]),
            ),
            1,
        );
        let m = &s.mirrored_queues[0];
        assert_eq!(
            (m.mirrors.as_slice(), m.synchronised.as_slice()),
            ([N3.to_owned()].as_slice(), [N3.to_owned()].as_slice())
        );
        assert_eq!(s.quorum_queues[0].offline, [N2]);
        assert_eq!(s.quorum_queues[0].spare_members, 0);
        assert_eq!(s.streams[0].offline, [N2]);
    }

    #[test]
    fn quorum_lost_and_under_replicated_are_told_apart() {
        let five = [N1, N2, N3, "n4", "n5"];
        let queues = json!([
            {"name": "lost", "vhost": "/", "type": "quorum", "leader": "", "members": [N1, N2, N3], "online": [N1]},
            {"name": "thin", "vhost": "/", "type": "quorum", "leader": N1, "members": five, "online": [N1, N2, N3, "n4"]},
            {"name": "single", "vhost": "/", "type": "quorum", "leader": N1, "members": [N1], "online": [N1]}
        ]);
        let s = analyze(
            snapshot("3.10.8", vec![running_node(N1)], queues, json!([])),
            1,
        );
        let by = |n: &str| s.at_risk.iter().find(|r| r.name == n).unwrap();
        assert_eq!(by("lost").severity, Severity::Critical);
        assert!(
            by("lost").reason.starts_with("quorum lost: 1 of 3"),
            "{}",
            by("lost").reason
        );
        assert_eq!(by("thin").severity, Severity::Warning);
        assert!(
            by("thin").reason.contains("under-replicated: 4 of 5"),
            "{}",
            by("thin").reason
        );
        assert_eq!(by("single").severity, Severity::Warning);
        // Critical first.
        assert_eq!(s.at_risk[0].name, "lost");
    }

    #[test]
    fn unsynchronised_mirrors_are_flagged() {
        let queues = json!([
            {"name": "half", "vhost": "/", "type": "classic", "node": N1, "policy": "p",
             "slave_nodes": [N2, N3], "synchronised_slave_nodes": [N3]},
            {"name": "none", "vhost": "/", "type": "classic", "node": N1, "policy": "p",
             "slave_nodes": [N2], "synchronised_slave_nodes": []},
            {"name": "alone", "vhost": "/", "type": "classic", "node": N1, "policy": "p",
             "effective_policy_definition": {"ha-mode": "all"}}
        ]);
        let s = analyze(
            snapshot(
                "3.10.8",
                vec![running_node(N1), running_node(N2), running_node(N3)],
                queues,
                json!([]),
            ),
            1,
        );
        let by = |n: &str| s.at_risk.iter().find(|r| r.name == n).unwrap();
        assert_eq!(by("half").severity, Severity::Warning);
        assert!(by("half")
            .reason
            .contains("1 of 2 mirrors unsynchronised: warren-2@localhost"));
        assert_eq!(by("none").severity, Severity::Critical);
        assert_eq!(by("alone").severity, Severity::Critical);
        assert_eq!(s.mirrored_queues[0].unsynchronised, [N2]);
    }

    #[test]
    fn rabbitmq_4_has_no_mirroring_and_flags_ha_policies() {
        let queues = json!([{"name": "ha.orders", "vhost": "/", "type": "classic", "state": "running", "node": N1,
                             "policy": "ha-demo", "effective_policy_definition": {"ha-mode": "all"}}]);
        let policies = json!([
            {"name": "ha-demo", "vhost": "/", "pattern": "^ha\\.", "apply-to": "queues",
             "definition": {"ha-mode": "all", "ha-sync-mode": "automatic", "max-length": 10}},
            {"name": "limits", "vhost": "/", "pattern": ".*", "definition": {"max-length": 10}}
        ]);
        let s = analyze(
            snapshot("4.1.0", vec![running_node(N1)], queues, policies),
            1,
        );
        assert!(!s.mirroring_supported);
        assert!(s.mirrored_queues.is_empty());
        assert_eq!(s.queue_counts.mirrored, 0);
        assert!(s.at_risk.is_empty());
        assert_eq!(s.dead_policies.len(), 1);
        assert_eq!(s.dead_policies[0].keys, ["ha-mode", "ha-sync-mode"]);
        assert_eq!(s.health.level, HealthLevel::Warning);
    }

    #[test]
    fn alarms_and_partitions_are_critical() {
        let mut n1 = running_node(N1);
        n1["mem_alarm"] = json!(true);
        let mut n2 = running_node(N2);
        n2["partitions"] = json!([N3]);
        let s = analyze(snapshot("3.10.8", vec![n1, n2], json!([]), json!([])), 1);
        assert_eq!(s.health.level, HealthLevel::Critical);
        assert!(s
            .health
            .reasons
            .iter()
            .any(|r| r.contains("memory alarm on warren-1")));
        assert!(s
            .health
            .reasons
            .iter()
            .any(|r| r.contains("warren-2@localhost cannot see warren-3")));
    }
}
