//! A saved profile together with its password: the file and the keychain kept in step.
//!
//! Saving writes the keychain first (a profile without its password would fail later, far
//! from the cause) and puts the old password back if the file cannot be written; a rename
//! moves the password. The app and the CLI both go through here.

use super::keychain::Keychain;
use super::store::{Profile, ProfileStore};
use crate::endpoint::ClusterTarget;
use crate::error::{Error, Result};

/// Saves `profile`, replacing the profile called `replacing` when editing. With no password
/// (or an empty one), the password stored for the old name is kept.
pub async fn save(
    store: &ProfileStore,
    keychain: &Keychain,
    profile: &Profile,
    password: Option<&str>,
    replacing: Option<&str>,
) -> Result<()> {
    profile.validate()?;
    let name = profile.name.as_str();
    let old_name = replacing.unwrap_or(name);
    let password = match password.filter(|p| !p.is_empty()) {
        Some(p) => p.to_owned(),
        None => keychain.password(old_name).await?.ok_or_else(|| {
            Error::invalid(
                "password",
                "enter the password (it is kept in the OS keychain)",
            )
        })?,
    };
    let previous = keychain.password(name).await?;
    keychain.set_password(name, &password).await?;
    if let Err(e) = store.save(profile, replacing) {
        match previous {
            Some(old) => keychain.set_password(name, &old).await?,
            None => keychain.delete_password(name).await?,
        }
        return Err(e);
    }
    if old_name != name {
        keychain.delete_password(old_name).await?;
    }
    Ok(())
}

/// Deletes a profile and its password.
pub async fn delete(store: &ProfileStore, keychain: &Keychain, name: &str) -> Result<()> {
    store.delete(name)?;
    keychain.delete_password(name).await
}

/// The connection target of the saved profile `name`, password from the keychain.
pub async fn target(
    store: &ProfileStore,
    keychain: &Keychain,
    name: &str,
) -> Result<ClusterTarget> {
    let profile = store.get(name)?;
    let password = keychain.require_password(name).await?;
    ClusterTarget::from_profile(&profile, password)
}
