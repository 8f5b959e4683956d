//! What the app keeps between commands: the profile store, the keychain, the clusters the
//! user has open (each an [`OpenCluster`] with live AMQP links to its nodes), the operations
//! running and the inspections held, each of the latter two tied to the profile it belongs to
//! so that leaving a cluster releases them; and what is watched (see `watch.rs`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use warren_core::cluster::OpenCluster;
use warren_core::consume::ConsumerHandle;
use warren_core::inspector::Inspection;
use warren_core::profiles::saved;
use warren_core::profiles::Keychain;
use warren_core::profiles::ProfileStore;
use warren_core::watch::WatchStore;
use warren_core::Result;

use crate::operations::Operations;
use crate::watch::WatchState;

pub struct AppState {
    pub profiles: ProfileStore,
    pub keychain: Keychain,
    /// Never held across an await: commands clone the `Arc` out and drop the guard.
    open: Mutex<HashMap<String, Arc<OpenCluster>>>,
    /// Finished peeks whose messages the inspector shows, by inspection id.
    pub inspections: Mutex<HashMap<u32, Held>>,
    /// Long operations running, by the id the backend gave them.
    pub operations: Operations,
    /// Consumers and taps by their operation's id, kept after they stop until their tab closes.
    pub consumers: Mutex<HashMap<u32, HeldConsumer>>,
    /// Watch rules, health switches, the alerts raised (`watch.json` beside the profiles).
    pub watch: WatchState,
}

/// A consumer (or tap) and the profile whose cluster it consumes from.
pub struct HeldConsumer {
    pub profile: String,
    pub handle: ConsumerHandle,
    /// The vhost it reads in, and its queue (none for a tap: Warren's temporary queue).
    pub vhost: String,
    pub queue: Option<String>,
}

/// An inspection and the profile whose queue it was peeked from.
pub struct Held {
    pub profile: String,
    pub inspection: SharedInspection,
}

/// An inspection as commands share it: cloned out of the registry, read by many at once.
pub type SharedInspection = Arc<RwLock<Inspection>>;

impl AppState {
    pub fn load() -> Result<Self> {
        let profiles = ProfileStore::default_location()?;
        let folder = profiles
            .path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(AppState {
            watch: WatchState::new(WatchStore::in_dir(folder)),
            profiles,
            keychain: Keychain::default(),
            open: Mutex::new(HashMap::new()),
            inspections: Mutex::new(HashMap::new()),
            operations: Operations::default(),
            consumers: Mutex::new(HashMap::new()),
        })
    }

    /// The open cluster of profile `name`, opening it (and starting its AMQP links) if needed.
    pub async fn cluster(&self, name: &str) -> Result<Arc<OpenCluster>> {
        if let Some(c) = self.open.lock().expect("open clusters poisoned").get(name) {
            return Ok(c.clone());
        }
        let target = saved::target(&self.profiles, &self.keychain, name).await?;
        let opened = Arc::new(OpenCluster::open(target)?);
        // Another command may have opened it meanwhile: keep the first, drop ours.
        let mut open = self.open.lock().expect("open clusters poisoned");
        Ok(open.entry(name.to_owned()).or_insert(opened).clone())
    }

    /// The UI left the cluster of profile `name`: cancels what it started there and frees the
    /// inspections of its queues. The cluster stays open (its links are the status view's).
    pub fn release(&self, name: &str) {
        // Operations first: a peek that ends meanwhile then sees it was released (see
        // `Running::released`) and drops what it made.
        self.operations.release_profile(name);
        self.inspections
            .lock()
            .expect("inspections poisoned")
            .retain(|_, held| held.profile != name);
        self.consumers
            .lock()
            .expect("consumers poisoned")
            .retain(|_, held| held.profile != name);
    }

    /// Closes the open cluster of profile `name`, if any (after the profile changed or went).
    pub async fn close(&self, name: &str) {
        let removed = self
            .open
            .lock()
            .expect("open clusters poisoned")
            .remove(name);
        if let Some(cluster) = removed {
            if let Ok(cluster) = Arc::try_unwrap(cluster) {
                cluster.close().await;
            }
            // Otherwise a command still uses it; its links stop when the last user drops it.
        }
    }
}
