//! The watch rules and per-cluster switches a user sets, and the file that keeps them.
//!
//! One versioned `watch.json` beside `profiles.json`, rewritten whole and atomically on each
//! change (`message::file::write_atomically`), read afresh on each call so the app and any
//! other writer see each other's changes. A cluster missing from the file is not watched for
//! health: the default is off for every cluster.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::message::file;

const FILE_NAME: &str = "watch.json";
const FILE_VERSION: u32 = 1;

/// What a rule reads of its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Metric {
    /// The messages in the queue (ready and unacknowledged).
    Depth,
    /// The messages waiting in the queue's dead-letter queues: the queues bound to its
    /// dead-letter exchange, or with the default exchange as dead-letter exchange, the queue
    /// its dead-letter routing key names. A queue without a dead-letter exchange has no
    /// reading (the alert list says so).
    DeadLetters,
    /// The consumers on the queue.
    Consumers,
}

impl Metric {
    pub fn label(self) -> &'static str {
        match self {
            Metric::Depth => "depth",
            Metric::DeadLetters => "dead letters",
            Metric::Consumers => "consumers",
        }
    }
}

/// Which side of the threshold makes a rule true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Comparison {
    /// True while the reading is greater than the threshold.
    Above,
    /// True while the reading is less than the threshold.
    Below,
}

impl Comparison {
    pub fn holds(self, value: u64, threshold: u64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::Below => value < threshold,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Comparison::Above => "above",
            Comparison::Below => "below",
        }
    }
}

/// One rule: a reading of one queue on one saved cluster, and the threshold it is held to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WatchRule {
    /// Given by the store when the rule is first saved; 0 in a rule not saved yet.
    pub id: u32,
    /// The saved profile (cluster) the queue is on.
    pub profile: String,
    pub vhost: String,
    pub queue: String,
    pub metric: Metric,
    pub comparison: Comparison,
    #[ts(type = "number")]
    pub threshold: u64,
}

impl WatchRule {
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &str, reason: &str| {
            Err(Error::InvalidInput {
                field: field.into(),
                reason: reason.into(),
            })
        };
        if self.profile.trim().is_empty() {
            return invalid("profile", "name the cluster the queue is on");
        }
        if self.vhost.is_empty() {
            return invalid("vhost", "name the queue's vhost");
        }
        if self.queue.is_empty() {
            return invalid("queue", "name the queue to watch");
        }
        if self.comparison == Comparison::Below && self.threshold == 0 {
            return invalid("threshold", "no reading is below 0: pick 1 or more");
        }
        Ok(())
    }

    /// The rule in words, e.g. `depth of "orders" above 100`.
    pub fn describe(&self) -> String {
        format!(
            "{} of \"{}\" {} {}",
            self.metric.label(),
            self.queue,
            self.comparison.label(),
            self.threshold
        )
    }
}

/// A saved cluster's watch switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ClusterWatch {
    pub profile: String,
    /// Notify when the cluster's health level changes.
    pub health: bool,
}

/// Everything the user set: the clusters whose health is watched and the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WatchSettings {
    /// Only clusters the user switched; any other cluster is off.
    pub clusters: Vec<ClusterWatch>,
    pub rules: Vec<WatchRule>,
}

impl WatchSettings {
    /// Whether the health of `profile` is watched (off unless switched on).
    pub fn health_on(&self, profile: &str) -> bool {
        self.clusters
            .iter()
            .any(|c| c.profile == profile && c.health)
    }

    /// The profiles with anything to watch: health switched on, or a rule.
    pub fn watched_profiles(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .clusters
            .iter()
            .filter(|c| c.health)
            .map(|c| c.profile.clone())
            .chain(self.rules.iter().map(|r| r.profile.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn rules_of<'a>(&'a self, profile: &'a str) -> impl Iterator<Item = &'a WatchRule> + 'a {
        self.rules.iter().filter(move |r| r.profile == profile)
    }

    /// Adds `rule` (id 0: a new id) or replaces the rule with its id.
    fn put_rule(&mut self, mut rule: WatchRule) -> Result<WatchRule> {
        rule.validate()?;
        if rule.id == 0 {
            rule.id = self.rules.iter().map(|r| r.id).max().unwrap_or(0) + 1;
            self.rules.push(rule.clone());
            return Ok(rule);
        }
        match self.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => {
                *slot = rule.clone();
                Ok(rule)
            }
            None => Err(Error::InvalidInput {
                field: "id".into(),
                reason: format!("no watch rule {} (deleted meanwhile?)", rule.id),
            }),
        }
    }

    fn set_health(&mut self, profile: &str, on: bool) {
        match self.clusters.iter_mut().find(|c| c.profile == profile) {
            Some(c) => c.health = on,
            None => self.clusters.push(ClusterWatch {
                profile: profile.to_owned(),
                health: on,
            }),
        }
        self.clusters.retain(|c| c.health);
        self.clusters.sort_by(|a, b| a.profile.cmp(&b.profile));
    }
}

#[derive(Serialize, Deserialize)]
struct WatchFile {
    version: u32,
    #[serde(flatten)]
    settings: WatchSettings,
}

/// The watch file (`watch.json`) in a folder, normally the profiles' folder.
#[derive(Debug, Clone)]
pub struct WatchStore {
    path: PathBuf,
}

impl WatchStore {
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        WatchStore {
            path: dir.as_ref().join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the user set; nothing (every cluster off, no rule) when the file does not exist.
    pub fn load(&self) -> Result<WatchSettings> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(WatchSettings::default())
            }
            Err(e) => return Err(self.file_error(e)),
        };
        let file: WatchFile = serde_json::from_str(&text).map_err(|e| self.file_error(e))?;
        if file.version != FILE_VERSION {
            return Err(self.file_error(format!(
                "version {} is not supported (this Warren reads version {FILE_VERSION})",
                file.version
            )));
        }
        Ok(file.settings)
    }

    /// Saves a new rule (id 0) or changes a saved one; returns it with its id.
    pub fn save_rule(&self, rule: WatchRule) -> Result<WatchRule> {
        let mut settings = self.load()?;
        let saved = settings.put_rule(rule)?;
        self.write(settings)?;
        Ok(saved)
    }

    /// Deletes rule `id`; nothing when there is no such rule.
    pub fn delete_rule(&self, id: u32) -> Result<()> {
        let mut settings = self.load()?;
        let before = settings.rules.len();
        settings.rules.retain(|r| r.id != id);
        if settings.rules.len() != before {
            self.write(settings)?;
        }
        Ok(())
    }

    /// Switches health notifications of `profile` on or off.
    pub fn set_health(&self, profile: &str, on: bool) -> Result<WatchSettings> {
        if profile.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "profile".into(),
                reason: "name the cluster".into(),
            });
        }
        let mut settings = self.load()?;
        settings.set_health(profile, on);
        self.write(settings.clone())?;
        Ok(settings)
    }

    fn write(&self, settings: WatchSettings) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| self.file_error(e))?;
        let mut text = serde_json::to_string_pretty(&WatchFile {
            version: FILE_VERSION,
            settings,
        })
        .map_err(|e| self.file_error(e))?;
        text.push('\n');
        file::write_atomically(&self.path, |w| w.write_all(text.as_bytes()))
            .map_err(|e| self.file_error(e))
    }

    fn file_error(&self, reason: impl ToString) -> Error {
        Error::File {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(queue: &str) -> WatchRule {
        WatchRule {
            id: 0,
            profile: "local".into(),
            vhost: "/".into(),
            queue: queue.into(),
            metric: Metric::Depth,
            comparison: Comparison::Above,
            threshold: 10,
        }
    }

    #[test]
    fn every_cluster_is_off_until_switched_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = WatchStore::in_dir(dir.path());
        let empty = store.load().unwrap();
        assert!(!empty.health_on("local"));
        assert!(empty.watched_profiles().is_empty());
        assert!(!store.path().exists(), "loading writes nothing");

        let on = store.set_health("local", true).unwrap();
        assert!(on.health_on("local"));
        assert!(!on.health_on("other"));
        let off = store.set_health("local", false).unwrap();
        assert!(!off.health_on("local"));
        assert!(
            off.clusters.is_empty(),
            "an off switch is the default, not kept"
        );
    }

    #[test]
    fn rules_get_ids_survive_a_reload_and_can_be_changed_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = WatchStore::in_dir(dir.path());
        let a = store.save_rule(rule("a")).unwrap();
        let b = store.save_rule(rule("b")).unwrap();
        assert_eq!((a.id, b.id), (1, 2));

        let mut changed = b.clone();
        changed.threshold = 99;
        changed.metric = Metric::Consumers;
        changed.comparison = Comparison::Below;
        store.save_rule(changed.clone()).unwrap();

        let again = WatchStore::in_dir(dir.path()).load().unwrap();
        assert_eq!(again.rules, vec![a.clone(), changed]);
        assert_eq!(again.watched_profiles(), vec!["local".to_owned()]);

        store.delete_rule(b.id).unwrap();
        store.delete_rule(77).unwrap();
        assert_eq!(store.load().unwrap().rules, vec![a]);
    }

    #[test]
    fn a_rule_that_cannot_be_true_or_names_nothing_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = WatchStore::in_dir(dir.path());
        let mut never = rule("q");
        never.comparison = Comparison::Below;
        never.threshold = 0;
        let e = store.save_rule(never).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "threshold"));
        let e = store.save_rule(rule("")).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "queue"));
        let mut gone = rule("q");
        gone.id = 5;
        assert!(
            store.save_rule(gone).is_err(),
            "changing a rule that is not there"
        );
        assert!(!store.path().exists(), "nothing written for refused rules");
    }

    #[test]
    fn a_file_of_another_version_is_refused_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = WatchStore::in_dir(dir.path());
        std::fs::write(store.path(), r#"{"version":9,"clusters":[],"rules":[]}"#).unwrap();
        assert!(matches!(store.load(), Err(Error::File { .. })));
        assert!(store.save_rule(rule("q")).is_err());
        assert!(std::fs::read_to_string(store.path())
            .unwrap()
            .contains("\"version\":9"));
    }
}
