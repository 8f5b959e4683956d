//! Publish with a truthful result: publisher confirms always on, `mandatory` on by default,
//! and every message ends as exactly one [`Outcome`]. Never "sent" on a guess.
//!
//! (Contract types; the engine is implemented below them.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::message::MessageJson;

/// What to publish. `message` is a template: `{{seq}}`, `{{uuid}}`, `{{now}}`, `{{now_ms}}`,
/// `{{now_epoch}}`, `{{random_int A B}}`, `{{random_choice a b c}}` and user `variables` may
/// appear in the body, the routing key, string properties and string header values (see
/// `crate::template`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishRequest {
    pub message: MessageJson,
    /// How many messages (1 when absent).
    #[serde(default = "one")]
    #[ts(type = "number")]
    pub count: u64,
    /// Messages per second; `None` sends as fast as the broker confirms.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub rate: Option<f64>,
    #[serde(default = "yes")]
    pub mandatory: bool,
    /// User variables for the template.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Read the body from this file instead of `message.body` (any size the broker accepts;
    /// not templated).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub body_file: Option<String>,
}

fn one() -> u64 {
    1
}

fn yes() -> bool {
    true
}

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum Outcome {
    /// The broker confirmed it and (with mandatory) routed it to at least one queue.
    Confirmed,
    /// Unroutable: the broker returned it.
    Returned { reply_code: u16, reply_text: String },
    /// The broker nacked it (it could not take responsibility for it).
    Nacked,
    /// The connection or channel failed before a confirm; the message's fate is unknown or it
    /// was never sent.
    Failed { reason: String },
}

/// A message that did not end confirmed, for the summary.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MessageOutcome {
    /// 1-based sequence number of the message in this publish.
    #[ts(type = "number")]
    pub seq: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishProgress {
    #[ts(type = "number")]
    pub published: u64,
    #[ts(type = "number")]
    pub confirmed: u64,
    #[ts(type = "number")]
    pub returned: u64,
    #[ts(type = "number")]
    pub nacked: u64,
    #[ts(type = "number")]
    pub failed: u64,
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// The broker is blocking publishers (memory or disk alarm).
    pub blocked: bool,
    pub blocked_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishSummary {
    #[ts(type = "number")]
    pub published: u64,
    #[ts(type = "number")]
    pub confirmed: u64,
    #[ts(type = "number")]
    pub returned: u64,
    #[ts(type = "number")]
    pub nacked: u64,
    #[ts(type = "number")]
    pub failed: u64,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Confirmed messages per second over the whole run.
    pub rate: f64,
    pub cancelled: bool,
    /// The first non-confirmed outcomes (at most 100), in sequence order.
    pub problems: Vec<MessageOutcome>,
    /// The node that carried the publish.
    pub endpoint: String,
}
