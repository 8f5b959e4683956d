//! Where a cluster is and how to log in: the resolved form of a profile or of ad-hoc URIs.
//!
//! A profile stores endpoints without credentials and keeps the password in the keychain; the
//! CLI also accepts URIs with credentials inside (`amqp://guest:guest@host:5781/%2f`). Both end
//! up as a [`ClusterTarget`], which is the only thing the session and the management client
//! see. Credentials live in [`Credentials`], whose `Debug` hides the password, and endpoints are
//! shown to people only through [`redact`].

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use crate::error::{Error, Result};
use crate::tls::TlsSettings;

/// A user name and password. `Debug` never prints the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How Warren logs in over AMQP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AuthMechanism {
    /// User name and password (SASL PLAIN).
    #[default]
    Password,
    /// SASL EXTERNAL: the server logs in the user its TLS client certificate names, no
    /// password sent (RabbitMQ's rabbitmq_auth_mechanism_ssl). The management API has no such
    /// login: it still takes the password, when the profile has one.
    External,
}

/// One node of a cluster as Warren reaches it. Either side may be missing for ad-hoc targets
/// (`--node` and `--api` are given independently).
#[derive(Debug, Clone)]
pub struct NodeTarget {
    /// `amqp://host:port` or `amqps://host:port`, without credentials or vhost.
    pub amqp: Option<Url>,
    /// `http(s)://host:port[/prefix]`, without credentials.
    pub management: Option<Url>,
}

impl NodeTarget {
    /// A short label for people: the AMQP `host:port`, else the management URL.
    pub fn label(&self) -> String {
        match (&self.amqp, &self.management) {
            (Some(u), _) => host_port(u),
            (None, Some(u)) => redact(u),
            (None, None) => "?".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClusterTarget {
    /// The profile's name, or "ad-hoc".
    pub name: String,
    pub nodes: Vec<NodeTarget>,
    pub vhost: String,
    pub amqp_credentials: Credentials,
    pub api_credentials: Credentials,
    pub tls: TlsSettings,
    pub auth: AuthMechanism,
}

impl ClusterTarget {
    /// The same target with `password` for its users (given apart from the URIs, so that it
    /// never shows in a process list).
    pub fn with_password(mut self, password: &str) -> Self {
        self.amqp_credentials = Credentials::new(self.amqp_credentials.username.clone(), password);
        self.api_credentials = Credentials::new(self.api_credentials.username.clone(), password);
        self
    }

    /// Builds a target from `--node` AMQP URIs and `--api` management URLs, which may carry
    /// credentials (default guest/guest, as for any AMQP URI) and, for AMQP, the vhost.
    /// The i-th `--node` and the i-th `--api` are taken to be the same node.
    pub fn ad_hoc(amqp_uris: &[String], api_urls: &[String]) -> Result<Self> {
        if amqp_uris.is_empty() && api_urls.is_empty() {
            return Err(Error::invalid(
                "connection",
                "give --profile NAME, or at least one --node URI or --api URL",
            ));
        }
        let amqp = amqp_uris
            .iter()
            .map(|s| parse_amqp(s))
            .collect::<Result<Vec<_>>>()?;
        let api = api_urls
            .iter()
            .map(|s| parse_management(s))
            .collect::<Result<Vec<_>>>()?;
        let vhost = amqp
            .first()
            .map(|(_, _, v)| v.clone())
            .unwrap_or_else(|| "/".to_owned());
        if let Some((u, _, v)) = amqp.iter().find(|(_, _, v)| *v != vhost) {
            return Err(Error::invalid(
                "--node",
                format!(
                    "{} names vhost \"{v}\" but the first --node names \"{vhost}\"",
                    redact(u)
                ),
            ));
        }
        let default = || Credentials::new("guest", "guest");
        let amqp_credentials = amqp
            .iter()
            .find_map(|(_, c, _)| c.clone())
            .unwrap_or_else(default);
        let api_credentials = api
            .iter()
            .find_map(|(_, c)| c.clone())
            .or_else(|| amqp.iter().find_map(|(_, c, _)| c.clone()))
            .unwrap_or_else(default);
        let count = amqp.len().max(api.len());
        let nodes = (0..count)
            .map(|i| NodeTarget {
                amqp: amqp.get(i).map(|(u, _, _)| u.clone()),
                management: api.get(i).map(|(u, _)| u.clone()),
            })
            .collect();
        Ok(ClusterTarget {
            name: "ad-hoc".to_owned(),
            nodes,
            vhost,
            amqp_credentials,
            api_credentials,
            tls: TlsSettings::default(),
            auth: AuthMechanism::Password,
        })
    }

    pub fn amqp_nodes(&self) -> impl Iterator<Item = (usize, &Url)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.amqp.as_ref().map(|u| (i, u)))
    }

    pub fn management_urls(&self) -> Vec<Url> {
        self.nodes
            .iter()
            .filter_map(|n| n.management.clone())
            .collect()
    }
}

/// Parses an AMQP URI into (endpoint without credentials and path, credentials if any, vhost).
pub fn parse_amqp(raw: &str) -> Result<(Url, Option<Credentials>, String)> {
    let field = "AMQP URI";
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid(field, format!("{}: {e}", redact_str(raw))))?;
    if url.scheme() != "amqp" && url.scheme() != "amqps" {
        return Err(Error::invalid(
            field,
            format!("{} must start with amqp:// or amqps://", redact(&url)),
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::invalid(field, format!("{} has no host", redact(&url))))?;
    let port = url
        .port()
        .unwrap_or(if url.scheme() == "amqps" { 5671 } else { 5672 });
    let credentials = credentials_of(&url);
    let vhost = match url.path() {
        "" | "/" => "/".to_owned(),
        p => percent_encoding::percent_decode_str(&p[1..])
            .decode_utf8()
            .map_err(|_| Error::invalid(field, "the vhost is not valid UTF-8"))?
            .into_owned(),
    };
    let endpoint = Url::parse(&format!("{}://{}:{port}", url.scheme(), host_for_url(host)))
        .map_err(|e| Error::invalid(field, e.to_string()))?;
    Ok((endpoint, credentials, vhost))
}

/// Parses a management API base URL into (URL without credentials, credentials if any).
pub fn parse_management(raw: &str) -> Result<(Url, Option<Credentials>)> {
    let field = "management URL";
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid(field, format!("{}: {e}", redact_str(raw))))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(Error::invalid(
            field,
            format!("{} must start with http:// or https://", redact(&url)),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(
            field,
            format!("{} has no host", redact(&url)),
        ));
    }
    let credentials = credentials_of(&url);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    // The API lives under <base>/api/; keep any path prefix, drop a trailing "/api".
    let path = url
        .path()
        .trim_end_matches('/')
        .trim_end_matches("/api")
        .to_owned();
    url.set_path(&format!("{path}/"));
    Ok((url, credentials))
}

fn credentials_of(url: &Url) -> Option<Credentials> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some(Credentials::new(
        decode(url.username()),
        decode(url.password().unwrap_or("")),
    ))
}

fn host_for_url(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// `host:port` of a URL.
pub fn host_port(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or("?"),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// A URL as it may be shown to people and written to logs: no user info, no query.
pub fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string().trim_end_matches('/').to_owned()
}

/// Like [`redact`] for text that did not parse as a URL: drops everything up to an `@`.
pub fn redact_str(raw: &str) -> String {
    match (raw.find("://"), raw.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &raw[..s + 3], &raw[at + 1..]),
        (None, Some(at)) => raw[at + 1..].to_owned(),
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amqp_uri_splits_credentials_and_vhost() {
        let (u, c, v) = parse_amqp("amqp://bob:s%40cret@127.0.0.1:5781/%2f").unwrap();
        assert_eq!(u.as_str(), "amqp://127.0.0.1:5781");
        let c = c.unwrap();
        assert_eq!((c.username.as_str(), c.password()), ("bob", "s@cret"));
        assert_eq!(v, "/");
        let (_, _, v) = parse_amqp("amqps://h/prod%2Fa").unwrap();
        assert_eq!(v, "prod/a");
        let (u, c, v) = parse_amqp("amqp://h").unwrap();
        assert_eq!((u.port(), c, v.as_str()), (Some(5672), None, "/"));
    }

    #[test]
    fn bad_uris_are_rejected_without_echoing_passwords() {
        let e = parse_amqp("http://bob:hunter2@h:1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("amqp://"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = parse_amqp("amqp://bob:hunter2@:99999")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        let e = parse_management("ftp://x:hunter2@h")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn management_url_is_normalised() {
        let (u, c) = parse_management("http://guest:guest@127.0.0.1:15781/api/").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:15781/");
        assert_eq!(c.unwrap().password(), "guest");
        let (u, _) = parse_management("https://h/rabbit").unwrap();
        assert_eq!(u.as_str(), "https://h/rabbit/");
    }

    #[test]
    fn ad_hoc_pairs_nodes_and_apis() {
        let t = ClusterTarget::ad_hoc(
            &["amqp://a:b@h1:1/v".into(), "amqp://h2:2/v".into()],
            &["http://h1:3".into()],
        )
        .unwrap();
        assert_eq!(t.nodes.len(), 2);
        assert_eq!(t.vhost, "v");
        assert_eq!(t.amqp_credentials.username, "a");
        assert_eq!(t.api_credentials.username, "a");
        assert!(t.nodes[1].management.is_none());
        assert!(ClusterTarget::ad_hoc(&[], &[]).is_err());
        assert!(ClusterTarget::ad_hoc(&["amqp://h1/a".into(), "amqp://h2/b".into()], &[]).is_err());
    }

    #[test]
    fn credentials_debug_hides_password() {
        let c = Credentials::new("u", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn redact_str_drops_userinfo() {
        assert_eq!(redact_str("amqp://u:p@h:1/x"), "amqp://h:1/x");
        assert_eq!(redact_str("u:p@h"), "h");
    }
}
