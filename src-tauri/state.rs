//! What the app keeps between commands: the profile store, the keychain, and the clusters
//! the user has open (each an [`OpenCluster`] with live AMQP links to its nodes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use warren_core::cluster::OpenCluster;
use warren_core::inspector::Inspection;
use warren_core::profiles::saved;
use warren_core::profiles::Keychain;
use warren_core::profiles::ProfileStore;
use warren_core::Result;

pub struct AppState {
    pub profiles: ProfileStore,
    pub keychain: Keychain,
    /// Never held across an await: commands clone the `Arc` out and drop the guard.
    open: Mutex<HashMap<String, Arc<OpenCluster>>>,
    /// Finished peeks whose messages the inspector shows, by inspection id.
    pub inspections: Mutex<HashMap<u32, Inspection>>,
    /// Running peeks, by the UI's peek id, so that they can be cancelled.
    pub peeks: Mutex<HashMap<u32, CancellationToken>>,
    /// Running publishes, by the UI's publish id, so that they can be cancelled.
    pub publishes: Mutex<HashMap<u32, CancellationToken>>,
}

impl AppState {
    pub fn load() -> Result<Self> {
        Ok(AppState {
            profiles: ProfileStore::default_location()?,
            keychain: Keychain::default(),
            open: Mutex::new(HashMap::new()),
            inspections: Mutex::new(HashMap::new()),
            peeks: Mutex::new(HashMap::new()),
            publishes: Mutex::new(HashMap::new()),
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
