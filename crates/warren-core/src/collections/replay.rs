//! Replaying a collection: its messages (all or a selection) sent again, to where they were
//! recorded or to a target given instead, with collection and replay variables rendered, paced
//! as fast as confirms allow, at a rate, or at the recorded timing times a speed factor.
//!
//! Why there is no publisher here: a replay is a publish run ([`crate::publish::run`]) of a
//! list of messages with a per-message schedule, so it has publish's guarantees (every
//! message checked before the first goes out, confirms and mandatory, one outcome per
//! message, failover to another node with "maybe sent" for what the lost node had not
//! confirmed). This module turns a collection and a [`ReplayRequest`] into a publish plan, and
//! the publish summary into a [`ReplayReport`] whose outcomes name collection positions.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::format::{timestamp, Collection};
use crate::error::{Error, Result};
use crate::management::ManagementClient;
use crate::message::MessageJson;
use crate::publish::{self, Outcome, Plan, PublishProgress, PublishRequest};
use crate::session::ClusterSession;

/// How a replay paces its messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum Pacing {
    /// Each message as soon as the window of unconfirmed messages allows.
    #[default]
    AsFastAsConfirms,
    /// A fixed number of messages per second.
    Rate { per_second: f64 },
    /// The gaps between the messages' `recorded_at`, divided by `speed` (2 is twice as fast,
    /// 0.5 half as fast). Every replayed message must have a `recorded_at`.
    Original { speed: f64 },
}

/// Where replayed messages go instead of where they were recorded; each part left out keeps
/// the message's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReplayTarget {
    /// The exchange ("" is the default exchange).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub exchange: Option<String>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub routing_key: Option<String>,
}

/// What to replay and how.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReplayRequest {
    #[serde(default)]
    pub target: ReplayTarget,
    /// 0-based positions of the messages to replay, in the order given; all when absent.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub selection: Option<Vec<u32>>,
    /// Variables on top of the collection's (the same name here wins).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub pacing: Pacing,
}

/// How one replayed message ended, by its position in the collection.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReplayOutcome {
    /// 0-based position of the message in the collection.
    pub index: u32,
    pub outcome: Outcome,
}

/// The report of one replay run, kept beside the collection (see `reports`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReplayReport {
    /// The collection's name.
    pub collection: String,
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub confirmed: u64,
    #[ts(type = "number")]
    pub returned: u64,
    #[ts(type = "number")]
    pub nacked: u64,
    #[ts(type = "number")]
    pub failed: u64,
    /// Sent on a node lost before it confirmed: maybe delivered, not re-sent.
    #[ts(type = "number")]
    pub maybe_sent: u64,
    /// Never sent (the run was cancelled first). The six counts add up to `total`.
    #[ts(type = "number")]
    pub not_sent: u64,
    /// Confirmed messages per second.
    pub rate: f64,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: String,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    pub cancelled: bool,
    /// The node that carried the replay (the last one after a failover), and how many times
    /// it moved to another.
    pub endpoint: String,
    pub failovers: u32,
    /// Paced replays: how late the latest send started after its scheduled time (ms).
    #[ts(type = "number | null")]
    pub max_late_ms: Option<u64>,
    pub pacing: Pacing,
    pub target: ReplayTarget,
    /// Every message that did not end confirmed, in replay order; every other replayed message
    /// was confirmed.
    pub outcomes: Vec<ReplayOutcome>,
}

/// A replay checked and ready to run: the publish plan and the collection positions of its
/// messages in sending order.
#[derive(Debug, Clone)]
pub struct ReplayPlan {
    publish: Plan,
    indices: Vec<u32>,
    collection: String,
    request: ReplayRequest,
}

impl ReplayPlan {
    /// How many messages the replay sends.
    pub fn total(&self) -> u64 {
        self.indices.len() as u64
    }

    /// The first `n` messages as they would be sent (see [`Plan::preview`]).
    pub fn preview(&self, n: u64) -> Result<Vec<MessageJson>> {
        self.publish.preview(n)
    }
}

/// Checks a replay without the network: the selection, the pacing, the target, every message
/// rendered with the variables. Errors name the field (`selection`, `pacing.speed`,
/// `variables.NAME`, a message field with "(message N)").
pub fn plan(collection: &Collection, request: &ReplayRequest) -> Result<ReplayPlan> {
    let indices: Vec<u32> = match &request.selection {
        Some(s) => {
            collection.check_indices(s)?;
            s.clone()
        }
        None => (0..collection.messages.len() as u32).collect(),
    };
    if indices.is_empty() {
        return Err(Error::invalid("selection", "no message to replay"));
    }
    // Borrowed, not copied, unless a target given instead changes them.
    let retarget = request.target.exchange.is_some() || request.target.routing_key.is_some();
    let messages: Vec<Cow<MessageJson>> = indices
        .iter()
        .map(|&i| {
            let m = &collection.messages[i as usize].message;
            if !retarget {
                return Cow::Borrowed(m);
            }
            let mut m = m.clone();
            if let Some(e) = &request.target.exchange {
                m.exchange = e.clone();
            }
            if let Some(k) = &request.target.routing_key {
                m.routing_key = k.clone();
            }
            Cow::Owned(m)
        })
        .collect();
    let mut variables = collection.variables.clone();
    variables.extend(request.variables.clone());
    let rate = match request.pacing {
        Pacing::Rate { per_second } => Some(per_second),
        _ => None,
    };
    let publish_request = PublishRequest {
        message: messages[0].clone().into_owned(),
        count: 1,
        rate,
        mandatory: true,
        variables,
        body_file: None,
    };
    let mut publish = Plan::from_messages(&messages, &publish_request)?.listing_every_problem();
    if let Pacing::Original { speed } = request.pacing {
        publish = publish.with_schedule(schedule(collection, &indices, speed)?)?;
    }
    Ok(ReplayPlan {
        publish,
        indices,
        collection: collection.name.clone(),
        request: request.clone(),
    })
}

/// The send time of each message from the start: the recorded gaps divided by `speed`. A
/// message recorded before the one replayed before it (a reordered collection) goes right
/// after it.
fn schedule(collection: &Collection, indices: &[u32], speed: f64) -> Result<Vec<Duration>> {
    if !(speed.is_finite() && speed > 0.0) {
        return Err(Error::invalid(
            "pacing.speed",
            format!("{speed} is not a positive factor"),
        ));
    }
    let mut out = Vec::with_capacity(indices.len());
    let mut at = 0f64;
    let mut previous: Option<i64> = None;
    for &i in indices {
        let Some(ms) = collection.messages[i as usize].recorded_ms() else {
            return Err(Error::invalid(
                "pacing",
                format!(
                    "message {} has no recorded_at, so there is no original timing to follow",
                    i + 1
                ),
            ));
        };
        if let Some(p) = previous {
            at += (ms - p).max(0) as f64 / speed;
        }
        previous = Some(ms);
        out.push(Duration::from_secs_f64(at / 1000.0));
    }
    Ok(out)
}

/// Runs a replay on `session` (see [`crate::publish::run`]: errors before the first message
/// is sent are `Err`; from then on every message has its outcome in the report). Progress
/// counts replayed messages.
pub async fn run(
    session: &ClusterSession,
    api: &ManagementClient,
    plan: &ReplayPlan,
    cancel: CancellationToken,
    on_progress: impl FnMut(PublishProgress),
) -> Result<ReplayReport> {
    let started_at = timestamp(SystemTime::now());
    let summary = publish::run(session, api, &plan.publish, cancel, on_progress).await?;
    let outcomes = summary
        .problems
        .iter()
        .map(|p| ReplayOutcome {
            index: plan.indices[(p.seq - 1) as usize],
            outcome: p.outcome.clone(),
        })
        .collect();
    Ok(ReplayReport {
        collection: plan.collection.clone(),
        total: plan.total(),
        confirmed: summary.confirmed,
        returned: summary.returned,
        nacked: summary.nacked,
        failed: summary.failed,
        maybe_sent: summary.maybe_sent,
        not_sent: summary.not_sent,
        rate: summary.rate,
        started_at,
        ended_at: timestamp(SystemTime::now()),
        elapsed_ms: summary.elapsed_ms,
        cancelled: summary.cancelled,
        endpoint: summary.endpoint,
        failovers: summary.failovers,
        max_late_ms: summary.max_late_ms,
        pacing: plan.request.pacing,
        target: plan.request.target.clone(),
        outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::format::Entry;

    fn collection(recorded: &[Option<&str>]) -> Collection {
        Collection {
            name: "c".into(),
            variables: [("tenant".to_owned(), "acme".to_owned())].into(),
            messages: recorded
                .iter()
                .enumerate()
                .map(|(i, r)| Entry {
                    message: serde_json::from_value(serde_json::json!({
                        "exchange": "x", "routing_key": format!("k{i}.{{{{tenant}}}}")
                    }))
                    .unwrap(),
                    recorded_at: r.map(str::to_owned),
                    source: None,
                })
                .collect(),
            ..Collection::default()
        }
    }

    fn request(pacing: Pacing) -> ReplayRequest {
        ReplayRequest {
            target: ReplayTarget::default(),
            selection: None,
            variables: BTreeMap::new(),
            pacing,
        }
    }

    #[test]
    fn original_timing_follows_the_recorded_gaps_over_the_speed() {
        let c = collection(&[
            Some("2026-01-01T00:00:00.000Z"),
            Some("2026-01-01T00:00:01.000Z"),
            Some("2026-01-01T00:00:00.500Z"),
            Some("2026-01-01T00:00:03.000Z"),
        ]);
        let s = schedule(&c, &[0, 1, 2, 3], 2.0).unwrap();
        let ms: Vec<u128> = s.iter().map(Duration::as_millis).collect();
        // The third was recorded before the second: it goes right after it, and the fourth
        // keeps its recorded gap after the third.
        assert_eq!(ms, [0, 500, 500, 1750]);
        let s = schedule(&c, &[3, 0], 0.5).unwrap();
        assert_eq!(
            s.iter().map(Duration::as_millis).collect::<Vec<_>>(),
            [0, 0]
        );
        assert!(schedule(&c, &[0], 0.0).is_err());
        let missing = collection(&[Some("2026-01-01T00:00:00Z"), None]);
        let e = plan(&missing, &request(Pacing::Original { speed: 1.0 })).unwrap_err();
        assert!(
            e.to_string().contains("message 2 has no recorded_at"),
            "{e}"
        );
    }

    #[test]
    fn variables_layer_and_the_target_overrides() {
        let c = collection(&[None, None, None]);
        let p = plan(&c, &request(Pacing::AsFastAsConfirms)).unwrap();
        assert_eq!(p.preview(1).unwrap()[0].routing_key, "k0.acme");
        let mut r = request(Pacing::Rate { per_second: 10.0 });
        r.variables.insert("tenant".into(), "globex".into());
        r.selection = Some(vec![2, 0]);
        r.target.exchange = Some(String::new());
        let p = plan(&c, &r).unwrap();
        let m = p.preview(2).unwrap();
        assert_eq!(
            (
                m[0].exchange.as_str(),
                m[0].routing_key.as_str(),
                m[1].routing_key.as_str()
            ),
            ("", "k2.globex", "k0.globex")
        );
        r.selection = Some(vec![3]);
        assert!(plan(&c, &r).unwrap_err().to_string().contains("selection"));
        r.selection = Some(vec![]);
        assert!(plan(&c, &r).is_err());
    }
}
