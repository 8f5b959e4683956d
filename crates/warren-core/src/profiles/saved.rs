//! A saved profile together with its password: the file and the keychain kept in step.
//!
//! Saving writes the keychain first (a profile without its password would fail later, far
//! from the cause) and puts the old password back if the file cannot be written; a rename
//! moves the password. The app and the CLI both go through here.
//!
//! A stored password goes only where it was stored for. Testing a profile being edited may
//! use it without asking only when the form still names the endpoints, schemes, user and
//! verification it was saved with: otherwise anyone who can type into the form could send it
//! to a host of their choosing, or in clear over `amqp://`.

use super::keychain::Keychain;
use super::store::{Profile, ProfileStore};
use crate::endpoint::{parse_amqp, parse_management, AuthMechanism, ClusterTarget};
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
        None if profile.auth() == AuthMechanism::External => {
            // No password to keep: the client certificate logs in (a stored one stays, for
            // the management API).
            return store.save(profile, replacing);
        }
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
    let password = match profile.auth() {
        AuthMechanism::Password => keychain.require_password(name).await?,
        // EXTERNAL sends no password over AMQP; the management API gets one only if stored.
        AuthMechanism::External => keychain.password(name).await?.unwrap_or_default(),
    };
    ClusterTarget::from_profile(&profile, password)
}

/// The target for testing `form` (a profile being edited): with the typed `password` if there
/// is one, else with the password stored for `stored_as` (or the form's name), provided the
/// form would send it nowhere it was not saved for (see the module's docs).
pub async fn test_target(
    store: &ProfileStore,
    keychain: &Keychain,
    form: &Profile,
    password: Option<&str>,
    stored_as: Option<&str>,
) -> Result<ClusterTarget> {
    form.validate()?;
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        return ClusterTarget::from_profile(form, p.to_owned());
    }
    let name = stored_as.unwrap_or(&form.name);
    let saved = store.get(name)?;
    let new = unsaved_destinations(&saved, form);
    if !new.is_empty() {
        return Err(Error::invalid(
            "password",
            format!(
                "enter the password to test this: the stored one is sent only where it was                  saved for, and the form changed {}",
                new.join(", ")
            ),
        ));
    }
    let password = keychain.require_password(name).await?;
    ClusterTarget::from_profile(form, password)
}

/// What in `form` would send the password of `saved` somewhere new: an endpoint (scheme,
/// host, port) the saved profile does not have, another user, or certificate verification
/// turned off. Empty when the stored password may be used.
fn unsaved_destinations(saved: &Profile, form: &Profile) -> Vec<String> {
    let endpoints = |p: &Profile| -> Vec<String> {
        p.nodes
            .iter()
            .flat_map(|n| {
                let amqp = parse_amqp(&n.amqp).ok().map(|(u, _, _)| u);
                let api = parse_management(&n.management).ok().map(|(u, _)| u);
                [amqp, api]
            })
            .flatten()
            .map(|u| {
                format!(
                    "{}://{}:{}",
                    u.scheme(),
                    u.host_str().unwrap_or_default().to_ascii_lowercase(),
                    u.port_or_known_default().unwrap_or_default()
                )
            })
            .collect()
    };
    let known = endpoints(saved);
    let mut new: Vec<String> = endpoints(form)
        .into_iter()
        .filter(|e| !known.contains(e))
        .collect();
    new.dedup();
    if form.username != saved.username {
        new.push(format!("the user to \"{}\"", form.username));
    }
    if saved.tls.verify_peer && !form.tls.verify_peer {
        new.push("certificate verification to off".to_owned());
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::store::NodeEndpoints;

    fn profile(amqp: &str, api: &str) -> Profile {
        Profile {
            name: "prod".into(),
            nodes: vec![NodeEndpoints {
                amqp: amqp.into(),
                management: api.into(),
            }],
            vhost: "/".into(),
            username: "ops".into(),
            tls: Default::default(),
            auth: None,
        }
    }

    #[test]
    fn the_stored_password_goes_only_where_it_was_saved_for() {
        let saved = profile("amqps://Rabbit.example:5671", "https://rabbit.example");
        // The same places, spelled differently (case, default port): fine.
        let same = profile("amqps://rabbit.example", "https://rabbit.example:443");
        assert!(unsaved_destinations(&saved, &same).is_empty());
        // A subset of the saved nodes: fine.
        let mut two = saved.clone();
        two.nodes.push(NodeEndpoints {
            amqp: "amqps://rabbit-2.example".into(),
            management: "https://rabbit-2.example".into(),
        });
        assert!(unsaved_destinations(&two, &saved).is_empty());

        // Another host, plain AMQP instead of TLS, another user, verification off: not
        // without the password typed.
        let elsewhere = profile("amqps://evil.example:5671", "https://rabbit.example");
        assert_eq!(
            unsaved_destinations(&saved, &elsewhere),
            ["amqps://evil.example:5671"]
        );
        let in_clear = profile("amqp://rabbit.example:5671", "https://rabbit.example");
        assert_eq!(
            unsaved_destinations(&saved, &in_clear),
            ["amqp://rabbit.example:5671"]
        );
        let mut other_user = saved.clone();
        other_user.username = "admin".into();
        assert_eq!(
            unsaved_destinations(&saved, &other_user),
            ["the user to \"admin\""]
        );
        let mut unverified = saved.clone();
        unverified.tls.verify_peer = false;
        assert_eq!(
            unsaved_destinations(&saved, &unverified),
            ["certificate verification to off"]
        );
    }
}
