//! Plain-text renderings for people at a terminal. Scripts use `--json` instead, whose shape
//! is the core's serialised types.

use std::fmt::Write;

use warren_core::profiles::Profile;
use warren_core::session::{LinkState, LinkStatus};
use warren_core::status::{
    CheckOutcome, ClusterStatus, EndpointStatus, HealthLevel, NodeHealthChecks,
};

const UNKNOWN: &str = "?";

pub fn status_text(s: &ClusterStatus) -> String {
    let mut out = String::new();
    let level = match s.health.level {
        HealthLevel::Ok => "OK",
        HealthLevel::Warning => "WARNING",
        HealthLevel::Critical => "CRITICAL",
        HealthLevel::Unknown => "UNKNOWN",
    };
    let _ = writeln!(
        out,
        "cluster {}  RabbitMQ {}  Erlang {}  health {level}",
        s.cluster_name.as_deref().unwrap_or(UNKNOWN),
        s.rabbitmq_version.as_deref().unwrap_or(UNKNOWN),
        s.erlang_version.as_deref().unwrap_or(UNKNOWN),
    );
    for r in &s.health.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    let _ = writeln!(out, "\nNODES");
    let _ = writeln!(
        out,
        "  {:<26} {:<7} {:<9} {:<21} {:<21} {:<7} {:<10} partitions",
        "name", "state", "uptime", "memory (used/limit)", "disk free (limit)", "alarms", "amqp"
    );
    for n in &s.nodes {
        let alarms = match (n.mem_alarm, n.disk_free_alarm) {
            (Some(false), Some(false)) => "none".to_owned(),
            (None, None) => UNKNOWN.to_owned(),
            (m, d) => [(m, "mem"), (d, "disk")]
                .iter()
                .filter(|(a, _)| *a == Some(true))
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(","),
        };
        let _ = writeln!(
            out,
            "  {:<26} {:<7} {:<9} {:<21} {:<21} {:<7} {:<10} {}",
            n.name,
            if n.running { "running" } else { "DOWN" },
            n.uptime_ms.map_or(UNKNOWN.into(), duration),
            format!("{}/{}", bytes(n.mem_used), bytes(n.mem_limit)),
            format!("{} ({})", bytes(n.disk_free), bytes(n.disk_free_limit)),
            alarms,
            n.amqp.as_ref().map_or("-".into(), link),
            if n.partitions.is_empty() {
                "none".into()
            } else {
                n.partitions.join(",")
            },
        );
    }
    out.push('\n');
    out.push_str(&endpoints_text(&s.endpoints));
    out.push_str(&health_checks_text(&s.health_checks));
    let c = &s.queue_counts;
    let _ = writeln!(
        out,
        "\nQUEUES  {} total: {} classic ({} mirrored), {} quorum, {} stream",
        c.total, c.classic, c.mirrored, c.quorum, c.stream
    );
    if s.at_risk.is_empty() {
        let _ = writeln!(out, "\nAT RISK  none");
    } else {
        let _ = writeln!(out, "\nAT RISK  {}", s.at_risk.len());
        for q in &s.at_risk {
            let _ = writeln!(
                out,
                "  [{:?}] {} {} ({:?}): {}",
                q.severity, q.vhost, q.name, q.queue_type, q.reason
            );
        }
    }
    for p in &s.dead_policies {
        let _ = writeln!(
            out,
            "\nDEAD POLICY {} {} ({}): {}",
            p.vhost,
            p.name,
            p.keys.join(", "),
            p.reason
        );
    }
    out
}

/// The broker's health checks, one line per node: failures with their reason, then the rest
/// by outcome.
fn health_checks_text(nodes: &[NodeHealthChecks]) -> String {
    let mut out = String::from("\nHEALTH CHECKS");
    if nodes.is_empty() {
        out.push_str("  none read (no node's API answered)\n");
        return out;
    }
    out.push('\n');
    for n in nodes {
        let names = |outcome: CheckOutcome| {
            n.checks
                .iter()
                .filter(|c| c.outcome == outcome)
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
        };
        let _ = write!(
            out,
            "  {:<26}",
            n.node_name.as_deref().unwrap_or(&n.endpoint)
        );
        for c in n
            .checks
            .iter()
            .filter(|c| c.outcome == CheckOutcome::Failed)
        {
            let _ = write!(
                out,
                " FAILED {}: {};",
                c.name,
                c.reason.as_deref().unwrap_or(UNKNOWN)
            );
        }
        let passed = names(CheckOutcome::Passed);
        let _ = write!(out, " passed {}/{}", passed.len(), n.checks.len());
        for (outcome, label) in [
            (CheckOutcome::Unknown, "unknown"),
            (CheckOutcome::NotAvailable, "not available"),
        ] {
            let list = names(outcome);
            if !list.is_empty() {
                let _ = write!(out, "; {label}: {}", list.join(", "));
            }
        }
        out.push('\n');
    }
    out
}

pub fn endpoints_text(endpoints: &[EndpointStatus]) -> String {
    let mut out = String::from("ENDPOINTS\n");
    for e in endpoints {
        let api = match (e.management_reachable, &e.management_error) {
            (Some(true), _) => "api ok".to_owned(),
            (Some(false), Some(err)) => format!("api FAILED: {}", err.message),
            (Some(false), None) => "api FAILED".to_owned(),
            (None, _) => "no api".to_owned(),
        };
        let amqp = e.amqp.as_ref().map_or("no amqp".to_owned(), |l| {
            let mut s = format!("amqp {}", link(l));
            if let (LinkState::Down | LinkState::LoginRefused, Some(err)) = (l.state, &l.last_error)
            {
                let _ = write!(s, ": {}", err.message);
            }
            s
        });
        let _ = writeln!(
            out,
            "  {:<22} {:<26} {amqp}; {api}",
            e.label,
            e.node_name.as_deref().unwrap_or("(node unknown)")
        );
    }
    out
}

pub fn profile_text(p: &Profile) -> String {
    let mut out = format!(
        "name      {}\nuser      {}\nvhost     {}\n",
        p.name, p.username, p.vhost
    );
    for (i, n) in p.nodes.iter().enumerate() {
        let _ = writeln!(out, "node {}    {}  {}", i + 1, n.amqp, n.management);
    }
    let t = &p.tls;
    if let Some(ca) = &t.ca_file {
        let _ = writeln!(out, "ca file   {ca}");
    }
    if let Some(c) = &t.client_cert_file {
        let _ = writeln!(out, "client    {c}");
    }
    if p.auth() == warren_core::endpoint::AuthMechanism::External {
        let _ = writeln!(
            out,
            "login     EXTERNAL (the client certificate names the user)"
        );
    }
    if !t.verify_peer {
        let _ = writeln!(out, "tls       certificate verification OFF");
    }
    out
}

fn link(l: &LinkStatus) -> String {
    match (l.state, l.latency_ms) {
        (LinkState::Connected, Some(ms)) => format!("up {ms:.1}ms"),
        (LinkState::Connected, None) => "up".into(),
        (LinkState::Connecting, _) => "connecting".into(),
        (LinkState::Down, _) => "DOWN".into(),
        (LinkState::LoginRefused, _) => "LOGIN REFUSED".into(),
        (LinkState::Closed, _) => "closed".into(),
    }
}

fn bytes(v: Option<u64>) -> String {
    let Some(v) = v else { return UNKNOWN.into() };
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v as f64;
    let mut u = 0;
    while x >= 1024.0 && u < units.len() - 1 {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v}B")
    } else {
        format!("{x:.1}{}", units[u])
    }
}

fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(bytes(Some(512)), "512B");
        assert_eq!(bytes(Some(3 * 1024 * 1024 * 1024 / 2)), "1.5GiB");
        assert_eq!(bytes(None), "?");
        assert_eq!(duration(59_000), "59s");
        assert_eq!(duration(3_725_000), "1h2m");
        assert_eq!(duration(90_000_000), "1d1h");
    }

    #[test]
    fn health_checks_show_failures_with_reasons_and_what_is_missing() {
        use warren_core::status::{HealthCheck, HealthCheckKind};
        let check = |kind: HealthCheckKind, outcome, reason: Option<&str>| HealthCheck {
            kind,
            name: kind.api_name().into(),
            outcome,
            reason: reason.map(str::to_owned),
        };
        let text = health_checks_text(&[NodeHealthChecks {
            node_name: Some("warren43-1@localhost".into()),
            endpoint: "http://127.0.0.1:15791".into(),
            checks: vec![
                check(HealthCheckKind::Alarms, CheckOutcome::Passed, None),
                check(
                    HealthCheckKind::NodeIsQuorumCritical,
                    CheckOutcome::Failed,
                    Some("quorum queues would lose their majority"),
                ),
                check(
                    HealthCheckKind::NodeIsMirrorSyncCritical,
                    CheckOutcome::NotAvailable,
                    None,
                ),
            ],
        }]);
        assert_eq!(
            text,
            "\nHEALTH CHECKS\n  warren43-1@localhost       FAILED node-is-quorum-critical: quorum queues would lose their majority; passed 1/3; not available: node-is-mirror-sync-critical\n"
        );
        assert!(health_checks_text(&[]).contains("none read"));
    }
}
