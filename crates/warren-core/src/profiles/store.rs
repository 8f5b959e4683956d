//! Saved connection profiles, shared by the app and the CLI.
//!
//! All profiles live in one versioned JSON file (`profiles.json` in the OS config directory, or
//! in `$WARREN_CONFIG_DIR`). It never holds a password: those are in the OS keychain (see
//! [`super::keychain`]). Every write goes to a temporary file in the same folder that is then
//! renamed over the old one ([`crate::message::file::write_atomically`]), so a crash leaves
//! either the old or the new file, never half of one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::endpoint::{
    parse_amqp, parse_management, AuthMechanism, ClusterTarget, Credentials, NodeTarget,
};
use crate::error::{Error, Result};
use crate::message::file;
use crate::tls::TlsSettings;

pub const FILE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Profile {
    pub name: String,
    pub nodes: Vec<NodeEndpoints>,
    #[serde(default = "default_vhost")]
    pub vhost: String,
    pub username: String,
    #[serde(default)]
    pub tls: TlsSettings,
    /// How to log in over AMQP; a password when absent. `external` needs a TLS client
    /// certificate and no password (the management API still takes one, if stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub auth: Option<AuthMechanism>,
}

impl Profile {
    pub fn auth(&self) -> AuthMechanism {
        self.auth.unwrap_or_default()
    }
}

/// One node of the cluster: where its AMQP listener and its management API are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeEndpoints {
    /// `amqp://host:port` or `amqps://host:port`; no credentials.
    pub amqp: String,
    /// `http://host:port` or `https://host:port`; no credentials.
    pub management: String,
}

fn default_vhost() -> String {
    "/".to_owned()
}

impl Profile {
    /// Checks everything that can be checked without the network, naming the field at fault.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "a profile needs a name"));
        }
        if name != self.name || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "no leading or trailing spaces or control characters",
            ));
        }
        if self.nodes.is_empty() {
            return Err(Error::invalid("nodes", "a profile needs at least one node"));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let (_, creds, _) = parse_amqp(&node.amqp).map_err(|e| at_node(i, e))?;
            let (_, api_creds) = parse_management(&node.management).map_err(|e| at_node(i, e))?;
            if creds.is_some() || api_creds.is_some() {
                return Err(Error::invalid(
                    format!("node {}", i + 1),
                    "remove the user name and password from the URL: the user name belongs in \
                     the profile and the password in the OS keychain",
                ));
            }
            let path = url::Url::parse(node.amqp.trim()).map(|u| u.path().to_owned());
            if matches!(path.as_deref(), Ok(p) if !p.is_empty() && p != "/") {
                return Err(Error::invalid(
                    format!("node {}", i + 1),
                    "set the vhost in the profile, not in the AMQP URI",
                ));
            }
        }
        if self.vhost.is_empty() {
            return Err(Error::invalid("vhost", "use \"/\" for the default vhost"));
        }
        if self.username.is_empty() {
            return Err(Error::invalid("username", "a user name is required"));
        }
        if self.tls.client_cert_file.is_some() != self.tls.client_key_file.is_some() {
            return Err(Error::invalid(
                "tls",
                "a client certificate needs its private key, and the other way round",
            ));
        }
        if self.auth() == AuthMechanism::External {
            if self.tls.client_cert_file.is_none() {
                return Err(Error::invalid(
                    "auth",
                    "EXTERNAL login needs a TLS client certificate and key",
                ));
            }
            if let Some(i) = self
                .nodes
                .iter()
                .position(|n| !n.amqp.trim().starts_with("amqps:"))
            {
                return Err(Error::invalid(
                    format!("node {}", i + 1),
                    "EXTERNAL login needs amqps:// (the client certificate names the user)",
                ));
            }
        }
        Ok(())
    }
}

fn at_node(i: usize, e: Error) -> Error {
    match e {
        Error::InvalidInput { field, reason } => Error::InvalidInput {
            field: format!("node {} {field}", i + 1),
            reason,
        },
        other => other,
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ProfileFile {
    version: u32,
    profiles: Vec<Profile>,
}

/// The profiles file. Each call reads or rewrites the file, so the app and the CLI running at
/// the same time see each other's changes.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    path: PathBuf,
}

impl ProfileStore {
    /// The store in `$WARREN_CONFIG_DIR`, else in the OS config directory
    /// (`~/.config/warren` on Linux).
    pub fn default_location() -> Result<Self> {
        let dir = match std::env::var_os("WARREN_CONFIG_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => directories::ProjectDirs::from("", "", "warren")
                .map(|p| p.config_dir().to_path_buf())
                .ok_or_else(|| Error::ProfileFile {
                    path: PathBuf::from("~"),
                    reason: "no home directory to keep profiles in".into(),
                })?,
        };
        Ok(Self::in_dir(dir))
    }

    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        ProfileStore {
            path: dir.as_ref().join("profiles.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn list(&self) -> Result<Vec<Profile>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.file_error(e)),
        };
        let file: ProfileFile = serde_json::from_str(&text).map_err(|e| self.file_error(e))?;
        if file.version != FILE_VERSION {
            return Err(self.file_error(format!(
                "version {} is not supported (this Warren reads version {FILE_VERSION})",
                file.version
            )));
        }
        Ok(file.profiles)
    }

    pub fn get(&self, name: &str) -> Result<Profile> {
        self.list()?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::ProfileNotFound(name.to_owned()))
    }

    /// Adds `profile`, or replaces the one called `replacing` (which allows renames).
    pub fn save(&self, profile: &Profile, replacing: Option<&str>) -> Result<()> {
        profile.validate()?;
        let mut profiles = self.list()?;
        if let Some(old) = replacing {
            if !profiles.iter().any(|p| p.name == old) {
                return Err(Error::ProfileNotFound(old.to_owned()));
            }
        }
        if profiles
            .iter()
            .any(|p| p.name == profile.name && Some(p.name.as_str()) != replacing)
        {
            return Err(Error::ProfileExists(profile.name.clone()));
        }
        match replacing.and_then(|old| profiles.iter().position(|p| p.name == old)) {
            Some(i) => profiles[i] = profile.clone(),
            None => profiles.push(profile.clone()),
        }
        self.write(profiles)
    }

    pub fn delete(&self, name: &str) -> Result<()> {
        let mut profiles = self.list()?;
        let before = profiles.len();
        profiles.retain(|p| p.name != name);
        if profiles.len() == before {
            return Err(Error::ProfileNotFound(name.to_owned()));
        }
        self.write(profiles)
    }

    fn write(&self, profiles: Vec<Profile>) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| self.file_error(e))?;
        let contents = ProfileFile {
            version: FILE_VERSION,
            profiles,
        };
        let mut text = serde_json::to_string_pretty(&contents).map_err(|e| self.file_error(e))?;
        text.push('\n');
        file::write_atomically(&self.path, |w| w.write_all(text.as_bytes()))
            .map_err(|e| self.file_error(e))?;
        Ok(())
    }

    fn file_error(&self, reason: impl ToString) -> Error {
        Error::ProfileFile {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }
}

/// A profile is turned into a target here, next to the profile, so that `endpoint` (which
/// every connection uses) knows nothing of saved profiles.
impl ClusterTarget {
    /// The target of a saved profile, with the password from the keychain or a prompt.
    pub fn from_profile(profile: &Profile, password: String) -> Result<Self> {
        profile.validate()?;
        let credentials = Credentials::new(profile.username.clone(), password);
        let nodes = profile
            .nodes
            .iter()
            .map(|n| -> Result<NodeTarget> {
                Ok(NodeTarget {
                    amqp: Some(parse_amqp(&n.amqp)?.0),
                    management: Some(parse_management(&n.management)?.0),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ClusterTarget {
            name: profile.name.clone(),
            nodes,
            vhost: profile.vhost.clone(),
            amqp_credentials: credentials.clone(),
            api_credentials: credentials,
            tls: profile.tls.clone(),
            auth: profile.auth(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn demo(name: &str) -> Profile {
        Profile {
            name: name.into(),
            nodes: vec![NodeEndpoints {
                amqp: "amqp://127.0.0.1:5781".into(),
                management: "http://127.0.0.1:15781".into(),
            }],
            vhost: "/".into(),
            username: "guest".into(),
            tls: TlsSettings::default(),
            auth: None,
        }
    }

    #[test]
    fn save_list_rename_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::in_dir(dir.path());
        assert!(store.list().unwrap().is_empty());
        store.save(&demo("a"), None).unwrap();
        store.save(&demo("b"), None).unwrap();
        assert!(matches!(
            store.save(&demo("a"), None),
            Err(Error::ProfileExists(_))
        ));
        let mut renamed = demo("c");
        renamed.vhost = "v".into();
        store.save(&renamed, Some("a")).unwrap();
        let names: Vec<_> = store.list().unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["c", "b"]);
        assert_eq!(store.get("c").unwrap().vhost, "v");
        store.delete("b").unwrap();
        assert!(matches!(store.delete("b"), Err(Error::ProfileNotFound(_))));
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
        // Only the profiles file is left: the temporary file was renamed over it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn invalid_profiles_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::in_dir(dir.path());
        let mut p = demo("x");
        p.nodes[0].amqp = "amqp://guest:secret@h:1".into();
        let e = store.save(&p, None).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
        assert!(!e.to_string().contains("secret"), "{e}");
        p = demo("x");
        p.nodes.clear();
        assert!(store.save(&p, None).is_err());
        p = demo(" x");
        assert!(store.save(&p, None).is_err());
        p = demo("x");
        p.tls.client_cert_file = Some("c.pem".into());
        assert!(store.save(&p, None).is_err());
        assert!(!store.path().exists());
    }

    #[test]
    fn unknown_file_version_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::in_dir(dir.path());
        std::fs::write(store.path(), r#"{"version": 9, "profiles": []}"#).unwrap();
        let e = store.list().unwrap_err().to_string();
        assert!(e.contains("version 9"), "{e}");
    }
}
