//! Plain-text renderings for people at a terminal. Scripts use `--json` instead, whose shape
//! is the core's serialised types.
//!
//! Every table goes through [`table`] (comfy-table): columns are sized by display width, so
//! names in CJK scripts, with accents or emoji, and names of any length line up; at a terminal
//! a table too wide for it wraps its widest cells, and piped output keeps each row on a line.

use std::fmt::Write;

use comfy_table::{CellAlignment, ContentArrangement, Table};

use warren_core::profiles::Profile;
use warren_core::session::{LinkState, LinkStatus};
use warren_core::status::{
    CheckOutcome, ClusterStatus, EndpointStatus, FederationLinkStatus, HealthLevel,
    NodeHealthChecks, ShovelStatus,
};

const UNKNOWN: &str = "?";

/// A table for a terminal: no borders, a header row, the columns at `right` aligned right
/// (numbers). Widths are display widths; at a terminal the table fits its width.
pub fn table(header: &[&str], right: &[usize]) -> TextTable {
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, 2));
        if right.contains(&i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    TextTable(t)
}

/// A [`Table`] printed without the spaces that pad the end of its lines.
pub struct TextTable(Table);

impl TextTable {
    pub fn add_row(&mut self, cells: Vec<String>) {
        self.0.add_row(cells);
    }
}

impl std::fmt::Display for TextTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.trim_fmt())
    }
}

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
    let mut nodes = table(
        &[
            "name",
            "state",
            "uptime",
            "memory (used/limit)",
            "disk free (limit)",
            "alarms",
            "amqp",
            "partitions",
        ],
        &[],
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
        nodes.add_row(vec![
            n.name.clone(),
            if n.running { "running" } else { "DOWN" }.to_owned(),
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
        ]);
    }
    let _ = writeln!(out, "{nodes}");
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
    if let Some(shovels) = &s.shovels {
        out.push_str(&shovels_text(shovels));
    }
    if let Some(links) = &s.federation {
        out.push_str(&federation_text(links));
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

fn shovels_text(shovels: &[ShovelStatus]) -> String {
    if shovels.is_empty() {
        return "\nSHOVELS  none\n".into();
    }
    let mut t = table(
        &[
            "name",
            "vhost",
            "state",
            "source",
            "destination",
            "last error",
        ],
        &[],
    );
    for s in shovels {
        t.add_row(vec![
            s.name.clone(),
            s.vhost.clone(),
            s.state.clone(),
            s.source.clone().unwrap_or_default(),
            s.destination.clone().unwrap_or_default(),
            s.last_error.clone().unwrap_or_default(),
        ]);
    }
    format!("\nSHOVELS  {}\n{t}\n", shovels.len())
}

fn federation_text(links: &[FederationLinkStatus]) -> String {
    if links.is_empty() {
        return "\nFEDERATION  none\n".into();
    }
    let mut t = table(
        &["vhost", "local", "upstream", "status", "uri", "last error"],
        &[],
    );
    for l in links {
        t.add_row(vec![
            l.vhost.clone(),
            format!("{} {}", l.kind, l.local),
            l.upstream.clone(),
            l.status.clone(),
            l.uri.clone().unwrap_or_default(),
            l.last_error.clone().unwrap_or_default(),
        ]);
    }
    format!("\nFEDERATION  {}\n{t}\n", links.len())
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
    let mut t = table(&["endpoint", "node", "amqp", "api"], &[]);
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
        t.add_row(vec![
            e.label.clone(),
            e.node_name
                .as_deref()
                .unwrap_or("(node unknown)")
                .to_owned(),
            amqp,
            api,
        ]);
    }
    format!("ENDPOINTS\n{t}\n")
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

    #[test]
    fn shovels_and_links_are_tables_aligned_by_display_width() {
        use unicode_width::UnicodeWidthStr;
        let shovel = |name: &str, state: &str| ShovelStatus {
            name: name.into(),
            vhost: "/".into(),
            kind: "dynamic".into(),
            state: state.into(),
            node: None,
            source: Some("queue \"orders\" on amqp://".into()),
            destination: Some("queue \"archive\" on amqp://10.0.0.2".into()),
            last_error: (state != "running").then(|| "failed to connect to destination".into()),
            source_queue: Some("orders".into()),
        };
        let text = shovels_text(&[
            shovel("注文-転送", "terminated"),
            shovel("plain", "running"),
        ]);
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("/ ")).collect();
        assert_eq!(lines.len(), 2, "{text}");
        let state_at: Vec<usize> = lines
            .iter()
            .map(|l| {
                let i = l.find("terminated").or_else(|| l.find("running")).unwrap();
                l[..i].width()
            })
            .collect();
        assert_eq!(state_at[0], state_at[1], "{text}");
        assert!(text.starts_with("\nSHOVELS  2\n"), "{text}");
        assert!(text.contains("failed to connect to destination"));
        assert_eq!(shovels_text(&[]), "\nSHOVELS  none\n");
        let link = FederationLinkStatus {
            vhost: "/".into(),
            upstream: "hq".into(),
            kind: "queue".into(),
            local: "jobs".into(),
            upstream_name: Some("jobs".into()),
            status: "error".into(),
            node: None,
            uri: Some("amqp://hq".into()),
            last_error: Some("ACCESS_REFUSED".into()),
        };
        let text = federation_text(&[link]);
        assert!(
            text.contains("queue jobs") && text.contains("ACCESS_REFUSED"),
            "{text}"
        );
    }
}
