//! Passwords in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows), one entry per profile under the service name "warren".
//!
//! keyring's calls block (D-Bus round trips, possibly an unlock prompt), so each runs on
//! tokio's blocking pool. Without its platform features keyring 3 silently falls back to an
//! in-memory mock; the features are enabled in Cargo.toml and `tests/integration` checks a
//! password survives in the real Secret Service.

use crate::error::{Error, Result};

const SERVICE: &str = "warren";

#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain {
            service: std::env::var("WARREN_KEYCHAIN_SERVICE").unwrap_or_else(|_| SERVICE.into()),
        }
    }
}

impl Keychain {
    pub async fn set_password(&self, profile: &str, password: &str) -> Result<()> {
        let (service, profile, password) = (
            self.service.clone(),
            profile.to_owned(),
            password.to_owned(),
        );
        blocking(move || {
            entry(&service, &profile)?
                .set_password(&password)
                .map_err(keychain_error)
        })
        .await
    }

    /// The profile's password, or `None` when the keychain has none.
    pub async fn password(&self, profile: &str) -> Result<Option<String>> {
        let (service, profile) = (self.service.clone(), profile.to_owned());
        blocking(move || match entry(&service, &profile)?.get_password() {
            Ok(p) => Ok(Some(p)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        })
        .await
    }

    pub async fn require_password(&self, profile: &str) -> Result<String> {
        self.password(profile)
            .await?
            .ok_or_else(|| Error::PasswordMissing(profile.to_owned()))
    }

    /// Removes the profile's password; no error when there was none.
    pub async fn delete_password(&self, profile: &str) -> Result<()> {
        let (service, profile) = (self.service.clone(), profile.to_owned());
        blocking(
            move || match entry(&service, &profile)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(keychain_error(e)),
            },
        )
        .await
    }
}

fn entry(service: &str, profile: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(service, profile).map_err(keychain_error)
}

/// keyring's messages describe the store, never the secret; keep only that.
fn keychain_error(e: keyring::Error) -> Error {
    Error::Keychain(match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            format!("the keychain is not available ({inner}); is a Secret Service (e.g. gnome-keyring) running and unlocked?")
        }
        other => other.to_string(),
    })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Keychain(format!("keychain task failed: {e}")))?
}
