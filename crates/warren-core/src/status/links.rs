//! Shovels and federation links: the cluster's own message movers, read from `/api/shovels`
//! and `/api/federation-links` where their management plugins run. A cluster without the
//! plugin answers 404 there: that is "none to report" (omitted from the status), not an
//! error. A link that is not running leaves messages where they are: its source queue grows
//! (a shovel) or its local queue stops receiving from upstream (queue federation), so those
//! queues are listed at risk with the link's state and last error as the reason.
//!
//! URIs are shown without their credentials: the API already hides passwords, and
//! [`redact_str`] makes sure.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::{AtRiskQueue, Health, HealthLevel, Severity};
use crate::api;
use crate::endpoint::redact_str;
use crate::error::Error;
use crate::management::ManagementClient;

/// One shovel, dynamic (a runtime parameter) or static (in the broker's configuration).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ShovelStatus {
    pub name: String,
    pub vhost: String,
    /// `dynamic` or `static`.
    pub kind: String,
    /// `running`, `starting`, `terminated`, ... as the broker says.
    pub state: String,
    pub node: Option<String>,
    /// Where it takes from: `queue Q` or `exchange X` on a URI (without credentials).
    pub source: Option<String>,
    pub destination: Option<String>,
    /// The broker's last error (a terminated shovel's reason).
    pub last_error: Option<String>,
    /// The queue it takes messages from, when it is a queue (what grows while it is down).
    pub source_queue: Option<String>,
}

/// One federation link: an exchange or a queue following an upstream.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct FederationLinkStatus {
    pub vhost: String,
    pub upstream: String,
    /// `exchange` or `queue`.
    pub kind: String,
    /// The local exchange or queue.
    pub local: String,
    /// The exchange or queue it follows upstream.
    pub upstream_name: Option<String>,
    /// `running`, `starting`, `error`, `shutdown`, ... as the broker says.
    pub status: String,
    pub node: Option<String>,
    /// The upstream's URI (without credentials).
    pub uri: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ApiShovel {
    #[serde(default)]
    name: String,
    #[serde(default)]
    vhost: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    state: Option<String>,
    node: Option<String>,
    src_uri: Option<Value>,
    src_queue: Option<String>,
    src_exchange: Option<String>,
    src_exchange_key: Option<String>,
    dest_uri: Option<Value>,
    dest_queue: Option<String>,
    dest_exchange: Option<String>,
    reason: Option<Value>,
}

/// One entry of `/api/parameters/shovel`: a dynamic shovel's definition. `/api/shovels` gives
/// the ends of a running shovel only; one that is starting or terminated is read from here.
#[derive(Debug, Default, Deserialize)]
struct ApiShovelParameter {
    #[serde(default)]
    name: String,
    #[serde(default)]
    vhost: String,
    #[serde(default)]
    value: serde_json::Map<String, Value>,
}

impl ApiShovel {
    /// Fills the ends this entry lacks from the shovel's definition.
    fn fill_from(&mut self, def: &serde_json::Map<String, Value>) {
        let get = |k: &str| def.get(k).and_then(Value::as_str).map(str::to_owned);
        let either = |a: &str, b: &str| get(a).or_else(|| get(b));
        if self.src_queue.is_none() && self.src_exchange.is_none() {
            self.src_queue = either("src-queue", "src-address");
            self.src_exchange = get("src-exchange");
            self.src_exchange_key = get("src-exchange-key");
        }
        if self.dest_queue.is_none() && self.dest_exchange.is_none() {
            self.dest_queue = either("dest-queue", "dest-address");
            self.dest_exchange = get("dest-exchange");
        }
        if self.src_uri.is_none() {
            self.src_uri = def.get("src-uri").cloned();
        }
        if self.dest_uri.is_none() {
            self.dest_uri = def.get("dest-uri").cloned();
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ApiFederationLink {
    #[serde(default)]
    vhost: String,
    #[serde(default)]
    upstream: String,
    #[serde(rename = "type", default)]
    kind: String,
    exchange: Option<String>,
    queue: Option<String>,
    upstream_exchange: Option<String>,
    upstream_queue: Option<String>,
    #[serde(default)]
    status: String,
    node: Option<String>,
    uri: Option<Value>,
    error: Option<Value>,
}

/// Text of a field the API gives as a string or as something else (an Erlang term printed).
fn text(v: &Option<Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        // An Erlang string printed as a term keeps its quotes (4.3: "\"failed to connect\"").
        Some(Value::String(s)) => Some(
            s.strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(s)
                .to_owned(),
        ),
        Some(other) => Some(other.to_string()),
    }
}

fn endpoint(kind: &str, name: Option<&str>, uri: Option<String>) -> Option<String> {
    let uri = uri.map(|u| redact_str(&u));
    match (name, uri) {
        (Some(n), Some(u)) => Some(format!("{kind} \"{n}\" on {u}")),
        (Some(n), None) => Some(format!("{kind} \"{n}\"")),
        (None, u) => u,
    }
}

fn shovels_from(reply: Vec<ApiShovel>) -> Vec<ShovelStatus> {
    reply
        .into_iter()
        .map(|s| {
            // A list of URIs (a static shovel's) is shown as its first.
            let uri = |v: &Option<Value>| match v {
                Some(Value::Array(a)) => a.first().and_then(|u| u.as_str()).map(str::to_owned),
                other => text(other),
            };
            let source = match (&s.src_queue, &s.src_exchange) {
                (Some(q), _) => endpoint("queue", Some(q), uri(&s.src_uri)),
                (None, Some(x)) => {
                    let with_key = match &s.src_exchange_key {
                        Some(k) if !k.is_empty() => format!("{x}\" key \"{k}"),
                        _ => x.clone(),
                    };
                    endpoint("exchange", Some(&with_key), uri(&s.src_uri))
                }
                (None, None) => endpoint("", None, uri(&s.src_uri)),
            };
            let destination = match (&s.dest_queue, &s.dest_exchange) {
                (Some(q), _) => endpoint("queue", Some(q), uri(&s.dest_uri)),
                (None, Some(x)) => endpoint("exchange", Some(x), uri(&s.dest_uri)),
                (None, None) => endpoint("", None, uri(&s.dest_uri)),
            };
            ShovelStatus {
                vhost: s.vhost.unwrap_or_else(|| "/".into()),
                kind: s.kind.unwrap_or_else(|| "dynamic".into()),
                state: s.state.unwrap_or_else(|| "unknown".into()),
                node: s.node,
                source,
                destination,
                last_error: text(&s.reason),
                source_queue: s.src_queue.filter(|q| !q.is_empty()),
                name: s.name,
            }
        })
        .collect()
}

fn federation_from(reply: Vec<ApiFederationLink>) -> Vec<FederationLinkStatus> {
    reply
        .into_iter()
        .map(|l| {
            let (local, upstream_name) = if l.kind == "queue" {
                (l.queue, l.upstream_queue)
            } else {
                (l.exchange, l.upstream_exchange)
            };
            FederationLinkStatus {
                vhost: l.vhost,
                upstream: l.upstream,
                kind: l.kind,
                local: local.unwrap_or_default(),
                upstream_name,
                status: l.status,
                node: l.node,
                uri: text(&l.uri).map(|u| redact_str(&u)),
                last_error: text(&l.error),
            }
        })
        .collect()
}

/// Reads a plugin's list: `None` when the plugin does not run there (404) or the list cannot
/// be read, which status reports by leaving it out rather than failing.
async fn read_optional<T: serde::de::DeserializeOwned>(
    client: &ManagementClient,
    path: &str,
) -> Option<Vec<T>> {
    match client.get::<Vec<T>>(path).await {
        Ok(v) => Some(v),
        Err(Error::Http { status: 404, .. }) => None,
        Err(e) => {
            tracing::debug!("status: {path} not read: {e}");
            None
        }
    }
}

/// The shovels and federation links, where their plugins run.
pub async fn read(
    client: &ManagementClient,
) -> (Option<Vec<ShovelStatus>>, Option<Vec<FederationLinkStatus>>) {
    let (shovels, federation) = tokio::join!(
        read_optional::<ApiShovel>(client, "shovels"),
        read_optional::<ApiFederationLink>(client, "federation-links"),
    );
    let shovels = match shovels {
        Some(list) if list.iter().any(lacks_ends) => {
            let definitions = read_optional(client, "parameters/shovel").await;
            Some(with_definitions(list, definitions.unwrap_or_default()))
        }
        other => other,
    };
    (shovels.map(shovels_from), federation.map(federation_from))
}

fn lacks_ends(s: &ApiShovel) -> bool {
    s.src_queue.is_none() && s.src_exchange.is_none()
}

fn with_definitions(mut list: Vec<ApiShovel>, defs: Vec<ApiShovelParameter>) -> Vec<ApiShovel> {
    for s in list.iter_mut().filter(|s| lacks_ends(s)) {
        let vhost = s.vhost.as_deref().unwrap_or("/");
        if let Some(d) = defs.iter().find(|d| d.name == s.name && d.vhost == vhost) {
            s.fill_from(&d.value);
        }
    }
    list
}

fn shovel_running(s: &ShovelStatus) -> bool {
    s.state == "running"
}

fn link_running(l: &FederationLinkStatus) -> bool {
    l.status == "running"
}

/// The queues a link that is not running puts at risk, with why. `queues` gives each queue's
/// type.
pub fn risks(
    shovels: Option<&[ShovelStatus]>,
    federation: Option<&[FederationLinkStatus]>,
    queues: &[api::Queue],
) -> Vec<AtRiskQueue> {
    let kind = |vhost: &str, name: &str| {
        queues
            .iter()
            .find(|q| q.vhost == vhost && q.name == name)
            .map_or(crate::broker::QueueType::Classic, api::Queue::kind)
    };
    let error = |e: &Option<String>| e.as_ref().map_or(String::new(), |e| format!(": {e}"));
    let mut out = Vec::new();
    for s in shovels.unwrap_or_default() {
        if shovel_running(s) {
            continue;
        }
        if let Some(q) = &s.source_queue {
            out.push(AtRiskQueue {
                vhost: s.vhost.clone(),
                name: q.clone(),
                queue_type: kind(&s.vhost, q),
                severity: Severity::Warning,
                reason: format!(
                    "shovel \"{}\" is {}{}: its messages are not moved{}",
                    s.name,
                    s.state,
                    error(&s.last_error),
                    s.destination
                        .as_ref()
                        .map_or(String::new(), |d| format!(" to {d}"))
                ),
            });
        }
    }
    for l in federation.unwrap_or_default() {
        if link_running(l) || l.kind != "queue" {
            continue;
        }
        out.push(AtRiskQueue {
            vhost: l.vhost.clone(),
            name: l.local.clone(),
            queue_type: kind(&l.vhost, &l.local),
            severity: Severity::Warning,
            reason: format!(
                "federation link from upstream \"{}\" is {}{}: no messages come from {}",
                l.upstream,
                l.status,
                error(&l.last_error),
                l.upstream_name
                    .as_ref()
                    .map_or("upstream".to_owned(), |n| format!("queue \"{n}\" upstream"))
            ),
        });
    }
    out
}

/// Adds a warning to `health` for every link that is not running.
pub fn judge(
    health: &mut Health,
    shovels: Option<&[ShovelStatus]>,
    federation: Option<&[FederationLinkStatus]>,
) {
    let mut lines = Vec::new();
    for s in shovels.unwrap_or_default() {
        if !shovel_running(s) {
            lines.push(format!(
                "shovel \"{}\" in {} is {}",
                s.name, s.vhost, s.state
            ));
        }
    }
    for l in federation.unwrap_or_default() {
        if !link_running(l) {
            lines.push(format!(
                "federation link of {} \"{}\" in {} (upstream \"{}\") is {}",
                l.kind, l.local, l.vhost, l.upstream, l.status
            ));
        }
    }
    if lines.is_empty() {
        return;
    }
    if health.level == HealthLevel::Ok {
        health.level = HealthLevel::Warning;
    }
    // Warnings: after whatever is critical, so the reasons stay worst first.
    health.reasons.extend(lines);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/api/shovels` as RabbitMQ 4.3.6 answered it here: one running dynamic shovel, one
    /// that cannot reach its destination (3.10.8 shows that one as `starting`, with neither
    /// reason nor ends), and a static one (hand-written: not seen here).
    const SHOVELS: &str = r##"[
      {"node":"warren43-1@localhost","timestamp":"2026-12-02 17:57:43","name":"cli.cap.bad","vhost":"/",
       "type":"dynamic","state":"terminated","reason":"\"failed to connect to destination\""},
      {"node":"warren43-1@localhost","timestamp":"2026-12-02 17:57:43","name":"cli.cap.ok","vhost":"/",
       "type":"dynamic","pending":0,"remaining":"unlimited","remaining_unacked":"unlimited","forwarded":0,
       "state":"running","src_uri":"amqp://","src_protocol":"amqp091","dest_protocol":"amqp091",
       "dest_uri":"amqp://127.0.0.1:5792","src_queue":"cli.cap.src","dest_queue":"cli.cap.dst",
       "blocked_status":"running"},
      {"node":"warren-1@localhost","name":"fanout-in","vhost":"/","type":"static","state":"starting",
       "src_uri":["amqp://ops:secret@10.0.0.1"],"src_exchange":"events","src_exchange_key":"#",
       "dest_uri":["amqp://"],"dest_exchange":"events.copy"}
    ]"##;

    /// `/api/parameters/shovel` as 3.10.8 and 4.3.6 answered it here: the definitions, with the
    /// password of a URI as it was given.
    const DEFINITIONS: &str = r#"[
      {"value":{"dest-protocol":"amqp091","dest-queue":"x","dest-uri":"amqp://guest:secret@127.0.0.1:1",
        "src-protocol":"amqp091","src-queue":"cli.cap.src2","src-uri":"amqp://"},
       "vhost":"/","component":"shovel","name":"cli.cap.bad"},
      {"value":{"dest-protocol":"amqp091","dest-queue":"cli.cap.dst","dest-uri":"amqp://guest:guest@127.0.0.1:5792",
        "src-protocol":"amqp091","src-queue":"cli.cap.src","src-uri":"amqp://"},
       "vhost":"/","component":"shovel","name":"cli.cap.ok"}
    ]"#;

    /// `/api/federation-links` as 3.10.8 answers it: an exchange link running, a queue link
    /// in error.
    const LINKS: &str = r#"[
      {"node":"warren-1@localhost","exchange":"prices","upstream_exchange":"prices",
       "type":"exchange","vhost":"/","upstream":"hq","id":"a1b2","status":"running",
       "local_connection":"<rabbit@hq.1.2>","uri":"amqp://hq-host","timestamp":"2026-12-02 17:50:05"},
      {"node":"warren-2@localhost","queue":"jobs","upstream_queue":"jobs.hq","type":"queue",
       "vhost":"/","upstream":"hq","id":"c3d4","status":"error",
       "error":"{auth_failure,\"ACCESS_REFUSED\"}","uri":"amqp://bob:pw@hq-host",
       "timestamp":"2026-12-02 17:50:06"}
    ]"#;

    fn parsed() -> (Vec<ShovelStatus>, Vec<FederationLinkStatus>) {
        let shovels: Vec<ApiShovel> = serde_json::from_str(SHOVELS).unwrap();
        assert!(shovels.iter().any(lacks_ends));
        let definitions = serde_json::from_str(DEFINITIONS).unwrap();
        (
            shovels_from(with_definitions(shovels, definitions)),
            federation_from(serde_json::from_str(LINKS).unwrap()),
        )
    }

    #[test]
    fn shovels_and_links_read_with_state_ends_and_last_error() {
        let (shovels, links) = parsed();
        assert_eq!(shovels.len(), 3);
        let failed = &shovels[0];
        assert_eq!(failed.state, "terminated");
        assert_eq!(
            failed.last_error.as_deref(),
            Some("failed to connect to destination")
        );
        // Its ends come from its definition, the password left out.
        assert_eq!(failed.source_queue.as_deref(), Some("cli.cap.src2"));
        assert_eq!(
            failed.destination.as_deref(),
            Some("queue \"x\" on amqp://127.0.0.1:1")
        );
        let ok = &shovels[1];
        assert_eq!(ok.state, "running");
        assert_eq!(
            ok.source.as_deref(),
            Some("queue \"cli.cap.src\" on amqp://")
        );
        assert_eq!(
            ok.destination.as_deref(),
            Some("queue \"cli.cap.dst\" on amqp://127.0.0.1:5792")
        );
        let fanout = &shovels[2];
        assert_eq!(fanout.kind, "static");
        assert_eq!(
            fanout.source.as_deref(),
            Some("exchange \"events\" key \"#\" on amqp://10.0.0.1")
        );
        assert_eq!(fanout.source_queue, None);
        let json = serde_json::to_string(&shovels).unwrap();
        assert!(
            !json.contains("secret") && !json.contains("guest"),
            "{json}"
        );

        assert_eq!(links[0].kind, "exchange");
        assert_eq!(links[0].local, "prices");
        assert_eq!(links[1].local, "jobs");
        assert_eq!(links[1].upstream_name.as_deref(), Some("jobs.hq"));
        assert_eq!(links[1].uri.as_deref(), Some("amqp://hq-host"));
        assert!(links[1]
            .last_error
            .as_deref()
            .unwrap()
            .contains("ACCESS_REFUSED"));
    }

    #[test]
    fn a_link_that_is_down_puts_its_queue_at_risk_and_warns() {
        let (shovels, links) = parsed();
        let queues: Vec<api::Queue> =
            serde_json::from_str(r#"[{"name":"jobs","vhost":"/","type":"quorum"}]"#).unwrap();
        let at_risk = risks(Some(&shovels), Some(&links), &queues);
        let names: Vec<&str> = at_risk.iter().map(|r| r.name.as_str()).collect();
        // The terminated shovel's source queue and the queue whose link is in error; not the
        // starting shovel (its source is an exchange) nor the running ones.
        assert_eq!(names, ["cli.cap.src2", "jobs"]);
        assert!(
            at_risk[0]
                .reason
                .contains("shovel \"cli.cap.bad\" is terminated: failed to connect to destination"),
            "{}",
            at_risk[0].reason
        );
        assert!(at_risk[0]
            .reason
            .contains("queue \"x\" on amqp://127.0.0.1:1"));
        assert!(at_risk[1].reason.contains("upstream \"hq\" is error"));
        assert_eq!(at_risk[1].queue_type, crate::broker::QueueType::Quorum);
        assert!(at_risk.iter().all(|r| r.severity == Severity::Warning));

        let mut health = Health {
            level: HealthLevel::Ok,
            reasons: vec![],
        };
        judge(&mut health, Some(&shovels), Some(&links));
        assert_eq!(health.level, HealthLevel::Warning);
        assert_eq!(health.reasons.len(), 3, "{:?}", health.reasons);

        // No plugin: nothing at risk, nothing said.
        assert!(risks(None, None, &queues).is_empty());
        let mut quiet = Health {
            level: HealthLevel::Ok,
            reasons: vec![],
        };
        judge(&mut quiet, None, None);
        assert_eq!(quiet.level, HealthLevel::Ok);
    }
}
