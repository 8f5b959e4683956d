//! A queue's depth and message rates over time, for the app's charts.
//!
//! The management API keeps samples of every queue (its depth, and its message counters) for a
//! while when asked (`lengths_age`, `msg_rates_age`): where it does, those samples are the
//! history, and the chart shows the last ten minutes at once, even for a queue opened a second
//! ago. A broker that keeps none (statistics turned off, or a version that trims them) answers
//! with the current values only; then Warren keeps its own history, one point per poll while
//! the cluster is open ([`HistoryBook`]), within a fixed budget: at most
//! [`BUFFER_POINTS`] points per series and [`BUFFER_QUEUES`] queues, the queue polled longest
//! ago given up first.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use super::{not_found_as_queue, queue_path};
use crate::api::{QueueSamples, Sample, Samples};
use crate::error::Result;
use crate::management::ManagementClient;

/// How far back the broker's samples are asked for, in seconds.
pub const WINDOW_SECS: u64 = 600;
/// The spacing of the broker's samples, in seconds (also the app's poll interval).
pub const STEP_SECS: u64 = 5;
/// Points kept per series in Warren's own history: one hour at one point every 5 s.
pub const BUFFER_POINTS: usize = 720;
/// Queues whose history Warren keeps at once.
pub const BUFFER_QUEUES: usize = 64;
/// Polls closer together than this replace the last point instead of adding one, so several
/// views polling the same queue do not crowd the budget.
const MIN_SPACING_MS: u64 = 1_000;

/// Where a history comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HistorySource {
    /// The management API's own samples.
    Broker,
    /// Warren's polls since the queue was first charted in this open cluster.
    Warren,
}

/// A value at a time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Point {
    /// Milliseconds since the epoch.
    #[ts(type = "number")]
    pub t_ms: u64,
    pub value: f64,
}

/// A queue's history, every series oldest first. A series the broker did not report is empty.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct QueueHistory {
    pub source: HistorySource,
    /// Messages ready.
    pub ready: Vec<Point>,
    /// Messages delivered and not yet acknowledged.
    pub unacked: Vec<Point>,
    /// Publishes per second into the queue.
    pub publish: Vec<Point>,
    /// Deliveries and gets per second from the queue.
    pub deliver: Vec<Point>,
    /// Acknowledgements per second.
    pub ack: Vec<Point>,
}

/// The path that reads a queue with its samples, only the fields the history needs.
fn samples_path(vhost: &str, name: &str) -> Result<String> {
    Ok(format!(
        "{}?lengths_age={WINDOW_SECS}&lengths_incr={STEP_SECS}&msg_rates_age={WINDOW_SECS}\
&msg_rates_incr={STEP_SECS}&columns=messages_ready,messages_unacknowledged,\
messages_ready_details,messages_unacknowledged_details,message_stats",
        queue_path(vhost, name)?
    ))
}

/// A queue's history: the broker's samples where it keeps them, else Warren's own, to which
/// this read adds a point. A missing queue is `ErrorKind::NotFound` naming it.
pub async fn read(
    api: &ManagementClient,
    book: &Mutex<HistoryBook>,
    vhost: &str,
    name: &str,
    now_ms: u64,
) -> Result<QueueHistory> {
    let raw: Value = api
        .get(&samples_path(vhost, name)?)
        .await
        .map_err(|e| not_found_as_queue(e, vhost, name))?;
    let reply = samples_of(raw);
    if let Some(history) = from_broker(&reply) {
        return Ok(history);
    }
    Ok(book
        .lock()
        .expect("history book poisoned")
        .record(vhost, name, now_ms, &reply))
}

/// The reply read leniently. A queue the broker has no statistics of yet (declared a moment
/// ago: 3.10 answers `[]` until its first statistics arrive, the `columns` leaving nothing)
/// has no values at all, as does a field of an unexpected shape.
pub fn samples_of(raw: Value) -> QueueSamples {
    if raw.is_object() {
        serde_json::from_value(raw).unwrap_or_default()
    } else {
        QueueSamples::default()
    }
}

/// The broker's samples as a history, or `None` when it sent no depth samples.
pub fn from_broker(reply: &QueueSamples) -> Option<QueueHistory> {
    let depth = |d: &Option<Samples>| -> Vec<Point> {
        let mut points: Vec<Point> = d
            .iter()
            .flat_map(|d| d.samples.iter())
            .map(|s| Point {
                t_ms: s.timestamp,
                value: s.value,
            })
            .collect();
        points.sort_by_key(|p| p.t_ms);
        points.dedup_by_key(|p| p.t_ms);
        points
    };
    let ready = depth(&reply.messages_ready_details);
    let unacked = depth(&reply.messages_unacknowledged_details);
    if ready.is_empty() && unacked.is_empty() {
        return None;
    }
    let stats = reply.message_stats.as_ref();
    let rate = |pick: fn(&crate::api::SampledStats) -> &Option<Samples>| {
        stats
            .and_then(|s| pick(s).as_ref())
            .map_or_else(Vec::new, |d| rates(&d.samples))
    };
    Some(QueueHistory {
        source: HistorySource::Broker,
        ready,
        unacked,
        publish: rate(|s| &s.publish_details),
        deliver: rate(|s| &s.deliver_get_details),
        ack: rate(|s| &s.ack_details),
    })
}

/// Per-second rates from a counter's samples (its running total at times, in any order): one
/// point per pair of neighbours, at the later time. A counter that went down (the queue was
/// declared anew, or a node restarted) gives 0 for that step, not a negative rate.
pub fn rates(samples: &[Sample]) -> Vec<Point> {
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.timestamp);
    sorted.dedup_by_key(|s| s.timestamp);
    sorted
        .windows(2)
        .map(|w| {
            let secs = (w[1].timestamp - w[0].timestamp) as f64 / 1000.0;
            Point {
                t_ms: w[1].timestamp,
                value: ((w[1].value - w[0].value) / secs).max(0.0),
            }
        })
        .collect()
}

/// Warren's own history of the queues it was asked about, while their cluster is open.
#[derive(Debug, Default)]
pub struct HistoryBook {
    queues: BTreeMap<(String, String), Kept>,
    /// Counts records, so the queue recorded longest ago is known.
    clock: u64,
}

#[derive(Debug, Default)]
struct Kept {
    last_recorded: u64,
    ready: VecDeque<Point>,
    unacked: VecDeque<Point>,
    publish: VecDeque<Point>,
    deliver: VecDeque<Point>,
    ack: VecDeque<Point>,
}

impl HistoryBook {
    /// Adds the current values of `reply` at `now_ms` to the queue's history and returns it.
    pub fn record(
        &mut self,
        vhost: &str,
        name: &str,
        now_ms: u64,
        reply: &QueueSamples,
    ) -> QueueHistory {
        self.clock += 1;
        let key = (vhost.to_owned(), name.to_owned());
        if !self.queues.contains_key(&key) && self.queues.len() >= BUFFER_QUEUES {
            let oldest = self
                .queues
                .iter()
                .min_by_key(|(_, k)| k.last_recorded)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.queues.remove(&oldest);
            }
        }
        let kept = self.queues.entry(key).or_default();
        kept.last_recorded = self.clock;
        let current = |d: &Option<Samples>| d.as_ref().and_then(|d| d.rate);
        let stats = reply.message_stats.as_ref();
        push(
            &mut kept.ready,
            now_ms,
            reply.messages_ready.map(|n| n as f64),
        );
        push(
            &mut kept.unacked,
            now_ms,
            reply.messages_unacknowledged.map(|n| n as f64),
        );
        // Without statistics the broker sends no counters at all: no rate is known, and none
        // is drawn (rather than a line at zero).
        push(
            &mut kept.publish,
            now_ms,
            stats.and_then(|s| current(&s.publish_details)),
        );
        push(
            &mut kept.deliver,
            now_ms,
            stats.and_then(|s| current(&s.deliver_get_details)),
        );
        push(
            &mut kept.ack,
            now_ms,
            stats.and_then(|s| current(&s.ack_details)),
        );
        let all = |d: &VecDeque<Point>| d.iter().copied().collect();
        QueueHistory {
            source: HistorySource::Warren,
            ready: all(&kept.ready),
            unacked: all(&kept.unacked),
            publish: all(&kept.publish),
            deliver: all(&kept.deliver),
            ack: all(&kept.ack),
        }
    }

    /// How many queues have a history kept.
    pub fn len(&self) -> usize {
        self.queues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }
}

fn push(series: &mut VecDeque<Point>, now_ms: u64, value: Option<f64>) {
    let Some(value) = value else { return };
    let point = Point {
        t_ms: now_ms,
        value,
    };
    match series.back_mut() {
        // A clock that went back, or a poll right after the last: the newest value stands.
        Some(last) if now_ms < last.t_ms + MIN_SPACING_MS => {
            *last = Point {
                t_ms: last.t_ms.max(now_ms),
                value,
            }
        }
        _ => series.push_back(point),
    }
    while series.len() > BUFFER_POINTS {
        series.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(json: &str) -> QueueSamples {
        serde_json::from_str(json).unwrap()
    }

    /// The shape 3.10.8 answered here for a queue with samples (trimmed to three of each).
    const SAMPLED: &str = r#"{
      "messages_ready": 30, "messages_unacknowledged": 2,
      "messages_ready_details": {"avg": 15, "avg_rate": 0.1, "rate": 2.0,
        "samples": [{"sample": 30, "timestamp": 1010000}, {"sample": 20, "timestamp": 1005000},
                    {"sample": 0, "timestamp": 1000000}]},
      "messages_unacknowledged_details": {"rate": 0.0,
        "samples": [{"sample": 2, "timestamp": 1010000}, {"sample": 0, "timestamp": 1005000},
                    {"sample": 0, "timestamp": 1000000}]},
      "message_stats": {"publish": 32, "publish_details": {"rate": 2.0,
        "samples": [{"sample": 32, "timestamp": 1010000}, {"sample": 22, "timestamp": 1005000},
                    {"sample": 2, "timestamp": 1000000}]}}
    }"#;

    #[test]
    fn the_brokers_samples_become_the_history_oldest_first() {
        let h = from_broker(&reply(SAMPLED)).expect("samples");
        assert_eq!(h.source, HistorySource::Broker);
        let values = |s: &[Point]| s.iter().map(|p| (p.t_ms, p.value)).collect::<Vec<_>>();
        assert_eq!(
            values(&h.ready),
            vec![(1000000, 0.0), (1005000, 20.0), (1010000, 30.0)]
        );
        assert_eq!(values(&h.unacked).len(), 3);
        // Counter totals 2, 22, 32 five seconds apart: 4/s, then 2/s.
        assert_eq!(values(&h.publish), vec![(1005000, 4.0), (1010000, 2.0)]);
        assert!(h.deliver.is_empty() && h.ack.is_empty());
    }

    #[test]
    fn a_queue_without_statistics_yet_has_no_values() {
        let none = samples_of(serde_json::json!([]));
        assert!(none.messages_ready.is_none() && none.messages_ready_details.is_none());
        let odd = samples_of(serde_json::json!({"messages_ready_details": "n/a"}));
        assert!(odd.messages_ready_details.is_none());
        assert_eq!(
            samples_of(serde_json::json!({"messages_ready": 4})).messages_ready,
            Some(4)
        );
    }

    #[test]
    fn a_reply_without_depth_samples_is_not_a_broker_history() {
        assert!(from_broker(&reply(
            r#"{"messages_ready": 3, "messages_unacknowledged": 0}"#
        ))
        .is_none());
        assert!(from_broker(&reply(
            r#"{"messages_ready_details": {"rate": 0.0, "samples": []}}"#
        ))
        .is_none());
    }

    #[test]
    fn a_counter_that_goes_down_gives_no_negative_rate() {
        let s = |timestamp, value| Sample { timestamp, value };
        let r = rates(&[s(3000, 1.0), s(1000, 50.0), s(2000, 60.0), s(2000, 60.0)]);
        assert_eq!(
            r,
            vec![
                Point {
                    t_ms: 2000,
                    value: 10.0
                },
                Point {
                    t_ms: 3000,
                    value: 0.0
                }
            ]
        );
        assert!(rates(&[s(1000, 5.0)]).is_empty());
    }

    #[test]
    fn warrens_history_adds_a_point_per_poll_within_its_budget() {
        let mut book = HistoryBook::default();
        let at = |i: u64| 1_000_000 + i * 5_000;
        for i in 0..(BUFFER_POINTS as u64 + 10) {
            let json = format!(
                r#"{{"messages_ready": {i}, "messages_unacknowledged": 1,
                    "message_stats": {{"publish_details": {{"rate": 2.5}}}}}}"#
            );
            book.record("/", "q", at(i), &reply(&json));
        }
        let h = book.record(
            "/",
            "q",
            at(BUFFER_POINTS as u64 + 10),
            &reply(r#"{"messages_ready": 7}"#),
        );
        assert_eq!(h.source, HistorySource::Warren);
        assert_eq!(h.ready.len(), BUFFER_POINTS);
        assert_eq!(h.ready.last().unwrap().value, 7.0);
        // The oldest points went first.
        assert_eq!(h.ready[0].t_ms, at(11));
        // A series the last reply lacked keeps its points and gains none.
        assert_eq!(h.publish.len(), BUFFER_POINTS);
        assert_eq!(h.publish.last().unwrap().t_ms, at(BUFFER_POINTS as u64 + 9));
        assert!(h.deliver.is_empty());
    }

    #[test]
    fn a_poll_right_after_the_last_replaces_it() {
        let mut book = HistoryBook::default();
        book.record("/", "q", 10_000, &reply(r#"{"messages_ready": 1}"#));
        let h = book.record("/", "q", 10_400, &reply(r#"{"messages_ready": 2}"#));
        assert_eq!(
            h.ready,
            vec![Point {
                t_ms: 10_400,
                value: 2.0
            }]
        );
        let h = book.record("/", "q", 11_400, &reply(r#"{"messages_ready": 3}"#));
        assert_eq!(h.ready.len(), 2);
    }

    #[test]
    fn the_queue_recorded_longest_ago_is_given_up_first() {
        let mut book = HistoryBook::default();
        let one = reply(r#"{"messages_ready": 1}"#);
        for i in 0..BUFFER_QUEUES {
            book.record("/", &format!("q{i}"), 1_000, &one);
        }
        // q0 is polled again, so q1 is now the one recorded longest ago.
        book.record("/", "q0", 9_000, &one);
        book.record("/", "new", 9_000, &one);
        assert_eq!(book.len(), BUFFER_QUEUES);
        assert!(book.queues.contains_key(&("/".into(), "q0".into())));
        assert!(!book.queues.contains_key(&("/".into(), "q1".into())));
        assert!(book.queues.contains_key(&("/".into(), "new".into())));
    }
}
