//! A client for the RabbitMQ management HTTP API that spreads over the nodes of a cluster.
//!
//! Any node's API answers for the whole cluster, so a request goes to the node that answered
//! last and moves on to the next one only when that node cannot be reached (connection refused,
//! timeout, 502/503). A refusal by a healthy node (401, 403, 404) is final: asking another node
//! would give the same answer. Callers ask for only the columns they use (`columns=`), which
//! keeps replies for clusters with tens of thousands of queues small.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use url::Url;

use crate::api;
use crate::endpoint::{redact, ClusterTarget, Credentials};
use crate::error::{Error, Result};
use crate::tls;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct ManagementClient {
    http: reqwest::Client,
    endpoints: Vec<Url>,
    credentials: Credentials,
    preferred: AtomicUsize,
    /// The overview as last read: the broker's version decides rules for the client's whole
    /// life, so it is read once (status reads it afresh on every refresh).
    overview: Mutex<Option<api::Overview>>,
}

impl ManagementClient {
    pub fn new(target: &ClusterTarget) -> Result<Self> {
        let endpoints = target.management_urls();
        if endpoints.is_empty() {
            return Err(Error::invalid(
                "management URL",
                "no management API URL given (--api URL, or a profile's nodes)",
            ));
        }
        let http = tls::http_client(&target.tls, CONNECT_TIMEOUT, REQUEST_TIMEOUT)?;
        Ok(ManagementClient {
            http,
            endpoints,
            credentials: target.api_credentials.clone(),
            preferred: AtomicUsize::new(0),
            overview: Mutex::new(None),
        })
    }

    pub fn endpoints(&self) -> &[Url] {
        &self.endpoints
    }

    /// The endpoint that answered last (redacted), where the next request goes first.
    pub fn current_endpoint(&self) -> String {
        redact(&self.endpoints[self.preferred.load(Ordering::Relaxed) % self.endpoints.len()])
    }

    /// The cluster's overview (name, versions): read on first use and kept. An open cluster
    /// holds one client, so the overview is read once per open cluster.
    pub async fn overview(&self) -> Result<api::Overview> {
        let cached = self.overview.lock().expect("overview poisoned").clone();
        match cached {
            Some(o) => Ok(o),
            None => self.read_overview().await,
        }
    }

    /// Reads the overview afresh (and keeps it for [`Self::overview`]).
    pub async fn read_overview(&self) -> Result<api::Overview> {
        let o: api::Overview = self.get(api::OVERVIEW_PATH).await?;
        *self.overview.lock().expect("overview poisoned") = Some(o.clone());
        Ok(o)
    }

    /// GET `path` (relative to `<base>/api/`) from the first node that answers.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let (endpoint, shown_path, bytes) = self.send(reqwest::Method::GET, path).await?;
        parse(endpoint, shown_path, &bytes)
    }

    /// DELETE `path` on the first node that answers (purge, for one). A node that cannot be
    /// reached has not received the request, so moving on to the next one is safe.
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.send(reqwest::Method::DELETE, path).await.map(|_| ())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<(String, String, bytes::Bytes)> {
        let n = self.endpoints.len();
        let start = self.preferred.load(Ordering::Relaxed) % n;
        let mut failures = Vec::new();
        for i in (0..n).map(|k| (start + k) % n) {
            match self.send_to(i, method.clone(), path).await {
                Ok(v) => {
                    self.preferred.store(i, Ordering::Relaxed);
                    return Ok(v);
                }
                Err(e) if e.is_node_failure() => failures.push(e.to_string()),
                Err(e) => return Err(e),
            }
        }
        Err(Error::NoNodeAvailable(failures.join("; ")))
    }

    /// GET `path` from the `i`-th endpoint only.
    pub async fn get_from<T: DeserializeOwned>(&self, i: usize, path: &str) -> Result<T> {
        let (endpoint, shown_path, bytes) = self.send_to(i, reqwest::Method::GET, path).await?;
        parse(endpoint, shown_path, &bytes)
    }

    async fn send_to(
        &self,
        i: usize,
        method: reqwest::Method,
        path: &str,
    ) -> Result<(String, String, bytes::Bytes)> {
        let base = &self.endpoints[i];
        let url = base
            .join("api/")
            .and_then(|u| u.join(path))
            .map_err(|e| Error::invalid("management path", e.to_string()))?;
        let endpoint = redact(base);
        let shown_path = url.path().to_owned();
        let response = self
            .http
            .request(method, url)
            .basic_auth(
                &self.credentials.username,
                Some(self.credentials.password()),
            )
            .send()
            .await
            .map_err(|e| transport_error(&endpoint, e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let reason = serde_json::from_str::<api::ErrorReply>(&body)
                .map(|e| e.reason.unwrap_or(e.error.unwrap_or_default()))
                .unwrap_or_else(|_| body.chars().take(200).collect());
            return Err(match status.as_u16() {
                401 => Error::Auth {
                    endpoint,
                    user: self.credentials.username.clone(),
                },
                403 => Error::AccessRefused {
                    endpoint,
                    user: self.credentials.username.clone(),
                    what: format!(
                        "{shown_path} (the user needs the monitoring or administrator tag)"
                    ),
                },
                code => Error::Http {
                    endpoint,
                    path: shown_path,
                    status: code,
                    reason,
                },
            });
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(&endpoint, e))?;
        Ok((endpoint, shown_path, bytes))
    }
}

fn parse<T: DeserializeOwned>(endpoint: String, path: String, bytes: &[u8]) -> Result<T> {
    // Through `Value` first: some replies repeat a key (3.10 sends a stream's `online`
    // twice while its statistics start up), which a typed struct rejects and a map takes
    // as "last one wins".
    serde_json::from_slice::<serde_json::Value>(bytes)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::BadReply {
            endpoint,
            path,
            reason: e.to_string(),
        })
}

/// Percent-encodes one path segment (a vhost or a queue name; "/" becomes "%2F").
pub fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn transport_error(endpoint: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout {
            endpoint: endpoint.to_owned(),
            after: REQUEST_TIMEOUT,
        };
    }
    // reqwest's Display includes the URL, which never carries credentials here (they travel
    // in the Authorization header), but keep only the innermost cause: it is the useful part.
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    Error::Unreachable {
        endpoint: endpoint.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_keys_do_not_fail_a_reply() {
        let raw = br#"{"name":"s","vhost":"/","online":["a"],"online":["a","b"]}"#;
        let q: crate::api::Queue = serde_json::from_slice::<serde_json::Value>(raw)
            .and_then(serde_json::from_value)
            .unwrap();
        assert_eq!(q.online.unwrap(), ["a", "b"]);
    }
}
