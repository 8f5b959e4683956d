//! The long operations the UI has running (peeks, publishes, and whatever comes next), in one
//! registry, so that each feature does not keep its own map, guard and cancel command.
//!
//! The backend gives every operation its id, from one counter, and tells the UI first thing
//! over the operation's channel ([`OperationEvent::Started`]): ids are then unique in the app
//! whichever tab or view started them, and `cancel_operation(id)` reaches exactly that one.
//! Each operation remembers the profile it runs against, so that leaving a cluster cancels
//! everything it started. An operation leaves the registry when its command ends, however it
//! ends ([`Running`] is a guard).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

/// What an operation's channel carries: its id first, then its progress.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
#[ts(export)]
pub enum OperationEvent<P: TS> {
    Started { id: u32 },
    Progress { progress: P },
}

#[derive(Default)]
pub struct Operations {
    next_id: AtomicU32,
    running: Mutex<HashMap<u32, Entry>>,
}

struct Entry {
    profile: String,
    cancel: CancellationToken,
    released: Arc<AtomicBool>,
}

/// A running operation: its id and cancel token. Dropping it takes the operation out of the
/// registry.
pub struct Running<'a> {
    registry: &'a Operations,
    pub id: u32,
    pub cancel: CancellationToken,
    released: Arc<AtomicBool>,
}

impl Running<'_> {
    /// True once the UI left the operation's cluster: what the operation made (an
    /// inspection) has nobody to go to. Set before the cancel, so an operation that checks
    /// it after keeping its result never keeps it past a release.
    pub fn released(&self) -> bool {
        self.released.load(Ordering::SeqCst)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.registry
            .running
            .lock()
            .expect("operations poisoned")
            .remove(&self.id);
    }
}

impl Operations {
    /// Registers a new operation against profile `profile`.
    pub fn start(&self, profile: &str) -> Running<'_> {
        // Starts at 1: 0 is never an operation, whatever a UI defaults to.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let cancel = CancellationToken::new();
        let released = Arc::new(AtomicBool::new(false));
        self.running.lock().expect("operations poisoned").insert(
            id,
            Entry {
                profile: profile.to_owned(),
                cancel: cancel.clone(),
                released: released.clone(),
            },
        );
        Running {
            registry: self,
            id,
            cancel,
            released,
        }
    }

    /// Cancels operation `id`; nothing when it already ended.
    pub fn cancel(&self, id: u32) {
        if let Some(e) = self.running.lock().expect("operations poisoned").get(&id) {
            e.cancel.cancel();
        }
    }

    /// Cancels every operation running against profile `profile`, marking them released.
    pub fn release_profile(&self, profile: &str) {
        for e in self
            .running
            .lock()
            .expect("operations poisoned")
            .values()
            .filter(|e| e.profile == profile)
        {
            e.released.store(true, Ordering::SeqCst);
            e.cancel.cancel();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.running.lock().expect("operations poisoned").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_cancels_reach_their_operation_only() {
        let ops = Operations::default();
        let a = ops.start("one");
        let b = ops.start("one");
        let c = ops.start("two");
        assert!(a.id != b.id && b.id != c.id && a.id != c.id && a.id != 0);
        ops.cancel(b.id);
        assert!(!a.cancel.is_cancelled() && b.cancel.is_cancelled());
        ops.release_profile("one");
        assert!(a.cancel.is_cancelled() && !c.cancel.is_cancelled());
        assert!(a.released() && b.released() && !c.released());
        let (b_id, c_token) = (b.id, c.cancel.clone());
        drop(b);
        drop(c);
        assert_eq!(ops.len(), 1);
        // An operation that ended is gone: cancelling it is a no-op, and its profile's
        // release does not reach it.
        ops.cancel(b_id);
        ops.release_profile("two");
        assert!(!c_token.is_cancelled());
        drop(a);
        assert_eq!(ops.len(), 0);
    }

    #[test]
    fn events_serialise_as_the_ui_expects() {
        let started: OperationEvent<u8> = OperationEvent::Started { id: 7 };
        assert_eq!(
            serde_json::to_value(&started).unwrap(),
            serde_json::json!({"event": "started", "id": 7})
        );
        let progress = OperationEvent::Progress { progress: 3u8 };
        assert_eq!(
            serde_json::to_value(&progress).unwrap(),
            serde_json::json!({"event": "progress", "progress": 3})
        );
    }
}
