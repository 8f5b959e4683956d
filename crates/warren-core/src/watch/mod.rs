//! Watching saved clusters: the user's watch rules on queues and the per-cluster switch for
//! health changes, and the alerts they raise.
//!
//! A person who keeps Warren open wants a nudge when something they care about changes, not a
//! dashboard to stare at: a cluster going from ok to critical, a queue backing up, a
//! dead-letter queue filling, consumers going away. Alerts fire on a *crossing* (a rule that
//! becomes true, a health level that changes), never once per poll while a condition holds,
//! so a notification always means "something changed".
//!
//! `rules.rs`: the rules and switches the user sets, kept in `watch.json` beside the profiles
//! (written atomically). `evaluate.rs` (pure): the `Watcher`, which turns readings into
//! alerts on crossings. `read.rs`: the readings, from the management API.
//!
//! Nothing is watched unless the user asked: health changes only for clusters whose switch is
//! on (off for every cluster by default), queue readings only for rules a user created.

mod evaluate;
mod read;
mod rules;

pub use evaluate::{Alert, AlertKind, RuleState, Watcher};
pub use read::{read_rule, read_rules, Reading};
pub use rules::{ClusterWatch, Comparison, Metric, WatchRule, WatchSettings, WatchStore};
