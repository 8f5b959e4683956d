//! Readings in, alerts out, on crossings only (pure).
//!
//! A rule alerts when it becomes true: on its first reading if it is true then (the user asked
//! to hear about that condition), afterwards only after a reading where it was false. While it
//! stays true nothing more is said; a false reading re-arms it. A rule that is edited is a new
//! rule (its state starts afresh). A reading that could not be taken (queue gone, cluster
//! unreachable) changes no state and raises nothing: the rule's state shows why.
//!
//! A cluster's health alerts when its level changes from the one last seen (ok → warning,
//! critical → ok, anything → unknown when it cannot be read). The first level seen is the
//! baseline and raises nothing, so starting the app does not announce every known warning.

use std::collections::HashMap;

use serde::Serialize;
use ts_rs::TS;

use super::read::Reading;
use super::rules::WatchRule;
use crate::status::HealthLevel;

/// Why an alert was raised.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum AlertKind {
    /// The cluster's health level changed.
    Health {
        from: HealthLevel,
        to: HealthLevel,
        /// The status's reasons for the new level, worst first.
        reasons: Vec<String>,
    },
    /// A watch rule became true.
    Rule {
        rule: WatchRule,
        #[ts(type = "number")]
        value: u64,
    },
}

/// One alert, as the app lists it and as the desktop notification says it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Alert {
    /// Unique among the alerts of one watcher, in the order they were raised.
    #[ts(type = "number")]
    pub id: u64,
    pub profile: String,
    /// When the reading that raised it was taken (Unix epoch milliseconds).
    #[ts(type = "number")]
    pub at_ms: u64,
    /// One line, e.g. `prod is critical` or `prod: depth of "orders" above 100`.
    pub title: String,
    /// What was read, e.g. `was ok: node rabbit@b is down` or `now 150 (vhost /)`.
    pub body: String,
    #[serde(flatten)]
    pub kind: AlertKind,
}

/// What a rule looked like at its last reading, for the app's list of rules.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct RuleState {
    pub rule_id: u32,
    /// The last value read; none before the first reading or when it could not be read.
    #[ts(type = "number | null")]
    pub value: Option<u64>,
    /// The rule is true and has alerted; it alerts again only after a false reading.
    pub firing: bool,
    /// Why the last reading could not be taken.
    pub problem: Option<String>,
    #[ts(type = "number")]
    pub at_ms: u64,
}

/// The memory of what was last seen, per cluster and per rule.
#[derive(Debug, Default)]
pub struct Watcher {
    health: HashMap<String, HealthLevel>,
    rules: HashMap<WatchRule, RuleState>,
    next_id: u64,
}

impl Watcher {
    pub fn new() -> Self {
        Self::default()
    }

    /// The health level of `profile` as read at `at_ms`; an alert when it changed.
    pub fn observe_health(
        &mut self,
        profile: &str,
        level: HealthLevel,
        reasons: &[String],
        at_ms: u64,
    ) -> Option<Alert> {
        let before = self.health.insert(profile.to_owned(), level)?;
        if before == level {
            return None;
        }
        let title = format!("{profile} is {}", level_word(level));
        let body = match reasons.first() {
            Some(first) => format!("was {}: {first}", level_word(before)),
            None => format!("was {}", level_word(before)),
        };
        Some(self.alert(
            profile,
            at_ms,
            title,
            body,
            AlertKind::Health {
                from: before,
                to: level,
                reasons: reasons.to_vec(),
            },
        ))
    }

    /// Forgets the health last seen of `profile` (its switch went off): switched on again, its
    /// next level is a new baseline.
    pub fn forget_health(&mut self, profile: &str) {
        self.health.remove(profile);
    }

    /// A reading of `rule` taken at `at_ms`; an alert when the rule became true.
    pub fn observe_rule(
        &mut self,
        rule: &WatchRule,
        reading: Reading,
        at_ms: u64,
    ) -> Option<Alert> {
        let state = self.rules.entry(rule.clone()).or_insert(RuleState {
            rule_id: rule.id,
            value: None,
            firing: false,
            problem: None,
            at_ms,
        });
        state.at_ms = at_ms;
        let value = match reading {
            Reading::Value(v) => v,
            Reading::Unavailable(why) => {
                state.value = None;
                state.problem = Some(why);
                return None;
            }
        };
        state.value = Some(value);
        state.problem = None;
        let holds = rule.comparison.holds(value, rule.threshold);
        let crossed = holds && !state.firing;
        state.firing = holds;
        if !crossed {
            return None;
        }
        let title = format!("{}: {}", rule.profile, rule.describe());
        let body = format!("now {value} (vhost {})", rule.vhost);
        Some(self.alert(
            &rule.profile,
            at_ms,
            title,
            body,
            AlertKind::Rule {
                rule: rule.clone(),
                value,
            },
        ))
    }

    /// Drops the state of rules no longer among `rules` (deleted or edited).
    pub fn keep_rules(&mut self, rules: &[WatchRule]) {
        self.rules.retain(|r, _| rules.contains(r));
    }

    /// The state of each rule read so far, by rule id.
    pub fn rule_states(&self) -> Vec<RuleState> {
        let mut states: Vec<RuleState> = self.rules.values().cloned().collect();
        states.sort_by_key(|s| s.rule_id);
        states
    }

    fn alert(
        &mut self,
        profile: &str,
        at_ms: u64,
        title: String,
        body: String,
        kind: AlertKind,
    ) -> Alert {
        self.next_id += 1;
        Alert {
            id: self.next_id,
            profile: profile.to_owned(),
            at_ms,
            title,
            body,
            kind,
        }
    }
}

fn level_word(level: HealthLevel) -> &'static str {
    match level {
        HealthLevel::Ok => "ok",
        HealthLevel::Warning => "in warning",
        HealthLevel::Critical => "critical",
        HealthLevel::Unknown => "unreachable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::{Comparison, Metric};

    fn rule(comparison: Comparison, threshold: u64) -> WatchRule {
        WatchRule {
            id: 1,
            profile: "prod".into(),
            vhost: "/".into(),
            queue: "orders".into(),
            metric: Metric::Depth,
            comparison,
            threshold,
        }
    }

    /// Feeds `values` to a fresh watcher; the values whose reading alerted.
    fn alerts(rule: &WatchRule, values: &[u64]) -> Vec<u64> {
        let mut w = Watcher::new();
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| w.observe_rule(rule, Reading::Value(*v), i as u64))
            .map(|a| match a.kind {
                AlertKind::Rule { value, .. } => value,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_rule_alerts_once_per_crossing_not_per_reading() {
        let above = rule(Comparison::Above, 10);
        assert_eq!(alerts(&above, &[0, 5, 11, 12, 50, 11]), vec![11]);
        // Cleared by a reading at or under the threshold, then crossing again.
        assert_eq!(alerts(&above, &[11, 10, 11, 3, 20]), vec![11, 11, 20]);
        // Exactly the threshold is not above it.
        assert!(alerts(&above, &[10, 10]).is_empty());
    }

    #[test]
    fn below_rules_alert_when_the_reading_drops_under_the_threshold() {
        let below = rule(Comparison::Below, 2);
        assert_eq!(alerts(&below, &[3, 2, 1, 0, 1, 2, 1]), vec![1, 1]);
    }

    #[test]
    fn a_rule_true_at_its_first_reading_alerts_then() {
        assert_eq!(alerts(&rule(Comparison::Above, 0), &[7, 8]), vec![7]);
    }

    #[test]
    fn an_unreadable_reading_neither_alerts_nor_rearms() {
        let r = rule(Comparison::Above, 10);
        let mut w = Watcher::new();
        assert!(w.observe_rule(&r, Reading::Value(20), 1).is_some());
        assert!(w
            .observe_rule(&r, Reading::Unavailable("no such queue".into()), 2)
            .is_none());
        let state = &w.rule_states()[0];
        assert_eq!(state.problem.as_deref(), Some("no such queue"));
        assert!(state.firing, "still firing: nothing showed it cleared");
        assert!(w.observe_rule(&r, Reading::Value(20), 3).is_none());
        assert!(w.observe_rule(&r, Reading::Value(5), 4).is_none());
        assert!(w.observe_rule(&r, Reading::Value(20), 5).is_some());
    }

    #[test]
    fn an_edited_rule_starts_afresh_and_a_deleted_one_is_forgotten() {
        let mut w = Watcher::new();
        let r = rule(Comparison::Above, 10);
        assert!(w.observe_rule(&r, Reading::Value(20), 1).is_some());
        let mut edited = r.clone();
        edited.threshold = 15;
        w.keep_rules(std::slice::from_ref(&edited));
        assert!(w.rule_states().is_empty());
        let a = w.observe_rule(&edited, Reading::Value(20), 2).unwrap();
        assert_eq!(a.title, "prod: depth of \"orders\" above 15");
        assert_eq!(a.body, "now 20 (vhost /)");
    }

    #[test]
    fn health_alerts_on_each_change_of_level_after_the_first_reading() {
        let mut w = Watcher::new();
        let why = vec!["node rabbit@b is down".to_owned()];
        assert!(w
            .observe_health("prod", HealthLevel::Warning, &[], 1)
            .is_none());
        assert!(w
            .observe_health("prod", HealthLevel::Warning, &[], 2)
            .is_none());
        let worse = w
            .observe_health("prod", HealthLevel::Critical, &why, 3)
            .unwrap();
        assert_eq!(worse.title, "prod is critical");
        assert_eq!(worse.body, "was in warning: node rabbit@b is down");
        assert_eq!(
            worse.kind,
            AlertKind::Health {
                from: HealthLevel::Warning,
                to: HealthLevel::Critical,
                reasons: why.clone()
            }
        );
        assert!(w
            .observe_health("prod", HealthLevel::Critical, &why, 4)
            .is_none());
        let back = w.observe_health("prod", HealthLevel::Ok, &[], 5).unwrap();
        assert_eq!(
            (back.title.as_str(), back.body.as_str()),
            ("prod is ok", "was critical")
        );
        assert!(back.id > worse.id);
        // Other clusters have their own baseline.
        assert!(w
            .observe_health("test", HealthLevel::Critical, &[], 6)
            .is_none());
        // Switched off and on: a new baseline.
        w.forget_health("prod");
        assert!(w
            .observe_health("prod", HealthLevel::Unknown, &[], 7)
            .is_none());
    }
}
