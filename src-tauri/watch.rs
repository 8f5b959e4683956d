//! Watch rules and health notifications in the app: the commands that read and change what
//! is watched, the alerts kept for the UI, and the loop that takes readings.
//!
//! The loop runs for the life of the app, whatever view is on screen, every [`WATCH_EVERY`]:
//! for each cluster with its health switch on or a rule, the cluster's status (skipped when
//! the status view or a home card read it within that time; their readings count) and each
//! rule's reading, through `warren_core::watch`, which decides what is an alert. Each alert
//! is kept (the last [`KEPT_ALERTS`]), sent to the window as a `watch-alert` event and shown
//! as a desktop notification by the shell (tauri-plugin-notification, called from Rust: the
//! window holds no notification permission). A cluster that refused the login is not asked
//! again until the user touches its settings or opens it (failed logins lock accounts).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_notification::NotificationExt;
use ts_rs::TS;
use warren_core::session::now_ms;
use warren_core::status::{ClusterStatus, HealthLevel};
use warren_core::watch::{
    self, Alert, Reading, RuleState, WatchRule, WatchSettings, WatchStore, Watcher,
};
use warren_core::{Error, ErrorKind};

use crate::commands::{report, CmdResult};
use crate::state::AppState;

/// How often the loop takes readings; also the longest a reading may take.
pub const WATCH_EVERY: Duration = Duration::from_secs(10);
/// The alerts kept for the UI, newest last; older ones are dropped.
const KEPT_ALERTS: usize = 100;
/// The event each new alert is sent to the window as.
const ALERT_EVENT: &str = "watch-alert";

/// What the app keeps for watching.
pub struct WatchState {
    pub store: WatchStore,
    watcher: Mutex<Watcher>,
    alerts: Mutex<VecDeque<Alert>>,
    /// When each cluster's health was last read, by the loop or by a view.
    health_read: Mutex<HashMap<String, Instant>>,
    /// Clusters whose login was refused: not asked again until the user acts.
    refused: Mutex<HashSet<String>>,
}

impl WatchState {
    pub fn new(store: WatchStore) -> Self {
        WatchState {
            store,
            watcher: Mutex::new(Watcher::new()),
            alerts: Mutex::new(VecDeque::new()),
            health_read: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashSet::new()),
        }
    }

    fn lift_refusal(&self, profile: &str) {
        self.refused
            .lock()
            .expect("refused poisoned")
            .remove(profile);
    }

    fn keep(&self, alert: &Alert) {
        let mut alerts = self.alerts.lock().expect("alerts poisoned");
        alerts.push_back(alert.clone());
        while alerts.len() > KEPT_ALERTS {
            alerts.pop_front();
        }
    }
}

/// What the Notifications view shows: the settings and each rule's last reading.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct WatchOverview {
    pub settings: WatchSettings,
    pub states: Vec<RuleState>,
    /// The clusters whose login was refused; not watched until the user acts.
    pub refused: Vec<String>,
}

/// Delivers an alert: kept, sent to the window, shown by the desktop.
fn deliver(app: &AppHandle, alert: Alert) {
    let state = app.state::<AppState>();
    state.watch.keep(&alert);
    if let Err(e) = app.emit(ALERT_EVENT, &alert) {
        tracing::warn!("could not send an alert to the window: {e}");
    }
    let shown = app
        .notification()
        .builder()
        .title(format!("Warren: {}", alert.title))
        .body(&alert.body)
        .show();
    if let Err(e) = shown {
        tracing::warn!("no desktop notification (the alert is in the app): {e}");
    }
}

/// A status a view read: counts as this cluster's health reading when its switch is on.
pub fn status_read(app: &AppHandle, profile: &str, status: &ClusterStatus) {
    let state = app.state::<AppState>();
    state.watch.lift_refusal(profile);
    let on = state
        .watch
        .store
        .load()
        .map(|s| s.health_on(profile))
        .unwrap_or(false);
    if on {
        health(app, profile, status.health.level, &status.health.reasons);
    }
}

fn health(app: &AppHandle, profile: &str, level: HealthLevel, reasons: &[String]) {
    let state = app.state::<AppState>();
    state
        .watch
        .health_read
        .lock()
        .expect("health times poisoned")
        .insert(profile.to_owned(), Instant::now());
    let alert = state
        .watch
        .watcher
        .lock()
        .expect("watcher poisoned")
        .observe_health(profile, level, reasons, now_ms());
    if let Some(alert) = alert {
        deliver(app, alert);
    }
}

/// Runs for the life of the app.
pub async fn run(app: AppHandle) {
    let mut tick = tokio::time::interval(WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        round(&app).await;
    }
}

async fn round(app: &AppHandle) {
    let state = app.state::<AppState>();
    let settings = match state.watch.store.load() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("watch settings unreadable, nothing watched: {e}");
            return;
        }
    };
    {
        let mut watcher = state.watch.watcher.lock().expect("watcher poisoned");
        watcher.keep_rules(&settings.rules);
    }
    let refused = state
        .watch
        .refused
        .lock()
        .expect("refused poisoned")
        .clone();
    let profiles: Vec<String> = settings
        .watched_profiles()
        .into_iter()
        .filter(|p| !refused.contains(p))
        .collect();
    let settings = &settings;
    let polls = profiles.iter().map(|p| async move {
        if tokio::time::timeout(WATCH_EVERY, poll(app, settings, p))
            .await
            .is_err()
        {
            tracing::warn!("watching {p}: no answer within {WATCH_EVERY:?}");
        }
    });
    futures_util::future::join_all(polls).await;
}

async fn poll(app: &AppHandle, settings: &WatchSettings, profile: &str) {
    let state = app.state::<AppState>();
    let rules: Vec<WatchRule> = settings.rules_of(profile).cloned().collect();
    let health_on = settings.health_on(profile);
    let cluster = match state.cluster(profile).await {
        Ok(c) => c,
        Err(e) => return unreadable(app, profile, health_on, &rules, &e),
    };
    let recently = state
        .watch
        .health_read
        .lock()
        .expect("health times poisoned")
        .get(profile)
        .is_some_and(|t| t.elapsed() < WATCH_EVERY);
    let status = async {
        if health_on && !recently {
            Some(cluster.status(false).await)
        } else {
            None
        }
    };
    let (status, readings) = tokio::join!(status, watch::read_rules(cluster.api(), &rules));
    match status {
        Some(Ok(s)) => health(app, profile, s.health.level, &s.health.reasons),
        Some(Err(e)) => return unreadable(app, profile, health_on, &rules, &e),
        None => {}
    }
    let at = now_ms();
    let alerts: Vec<Alert> = {
        let mut watcher = state.watch.watcher.lock().expect("watcher poisoned");
        rules
            .iter()
            .zip(readings)
            .filter_map(|(rule, reading)| watcher.observe_rule(rule, reading, at))
            .collect()
    };
    for alert in alerts {
        deliver(app, alert);
    }
}

/// The cluster could not be read at all: its health is unknown, its rules unreadable.
fn unreadable(app: &AppHandle, profile: &str, health_on: bool, rules: &[WatchRule], e: &Error) {
    let state = app.state::<AppState>();
    if e.kind() == ErrorKind::Auth {
        state
            .watch
            .refused
            .lock()
            .expect("refused poisoned")
            .insert(profile.to_owned());
    }
    if health_on {
        health(app, profile, HealthLevel::Unknown, &[e.to_string()]);
    }
    let at = now_ms();
    let mut watcher = state.watch.watcher.lock().expect("watcher poisoned");
    for rule in rules {
        watcher.observe_rule(rule, Reading::Unavailable(e.to_string()), at);
    }
}

fn overview(state: &AppState) -> CmdResult<WatchOverview> {
    let settings = state.watch.store.load().map_err(report)?;
    let states = state
        .watch
        .watcher
        .lock()
        .expect("watcher poisoned")
        .rule_states();
    let mut refused: Vec<String> = state
        .watch
        .refused
        .lock()
        .expect("refused poisoned")
        .iter()
        .cloned()
        .collect();
    refused.sort();
    Ok(WatchOverview {
        settings,
        states,
        refused,
    })
}

#[tauri::command]
pub fn watch_overview(state: State<'_, AppState>) -> CmdResult<WatchOverview> {
    overview(&state)
}

/// Saves a new rule (id 0) or changes one; the loop reads it from its next round.
#[tauri::command]
pub fn save_watch_rule(state: State<'_, AppState>, rule: WatchRule) -> CmdResult<WatchRule> {
    state.watch.lift_refusal(&rule.profile);
    state.watch.store.save_rule(rule).map_err(report)
}

#[tauri::command]
pub fn delete_watch_rule(state: State<'_, AppState>, id: u32) -> CmdResult<()> {
    state.watch.store.delete_rule(id).map_err(report)
}

/// Switches health notifications of a cluster on or off.
#[tauri::command]
pub fn set_cluster_watch(
    state: State<'_, AppState>,
    profile: String,
    health: bool,
) -> CmdResult<WatchOverview> {
    state.watch.lift_refusal(&profile);
    state
        .watch
        .store
        .set_health(&profile, health)
        .map_err(report)?;
    if !health {
        state
            .watch
            .watcher
            .lock()
            .expect("watcher poisoned")
            .forget_health(&profile);
    }
    overview(&state)
}

/// The alerts kept, oldest first.
#[tauri::command]
pub fn watch_alerts(state: State<'_, AppState>) -> Vec<Alert> {
    state
        .watch
        .alerts
        .lock()
        .expect("alerts poisoned")
        .iter()
        .cloned()
        .collect()
}

#[tauri::command]
pub fn clear_watch_alerts(state: State<'_, AppState>) {
    state.watch.alerts.lock().expect("alerts poisoned").clear();
}
