//! A client for the RabbitMQ management HTTP API that spreads over the nodes of a cluster.
//!
//! Any node's API answers for the whole cluster, so a request goes to the node that answered
//! last and moves on to the next one only when that node cannot be reached (connection refused,
//! no answer, 502/503). A refusal by a healthy node (401, 403, 404) is final: asking another
//! node would give the same answer. Callers ask for only the columns they use (`columns=`),
//! which keeps replies for clusters with tens of thousands of queues small.
//!
//! Two things make "cannot be reached" subtle on production clusters:
//! - A slow reply is not a dead node. A paused or wedged node accepts connections and never
//!   answers, while a busy one computing `/api/queues` for ten thousand queues is merely slow.
//!   When a request has waited [`LIVENESS_AFTER`], the client asks the same node something
//!   cheap (`/api/whoami`); a node that does not answer that within [`LIVENESS_WAIT`] is
//!   treated as not answering, and the request moves on at once instead of waiting out
//!   [`REQUEST_TIMEOUT`]. A node that answers the probe keeps its request.
//! - Only what is safe to repeat is sent again. A GET may go to the next node after any
//!   failure; a write (a purge) goes to another node only when it never reached the first one
//!   (the connection could not be made). Once sent, a write that gets no answer is reported as
//!   [`Error::Unconfirmed`]: it may have been done, and sending it again could do it twice.

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
/// How long a request waits before the client checks that its node is alive at all.
pub const LIVENESS_AFTER: Duration = Duration::from_secs(2);
/// How long the liveness probe (`/api/whoami`, cheap on any node) may take.
pub const LIVENESS_WAIT: Duration = Duration::from_millis(1500);
const LIVENESS_PATH: &str = "whoami";

/// Whether a request may be sent again to another node after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// A read: sending it twice changes nothing.
    Safe,
    /// A write: sent again only when the first node never received it.
    OnlyIfUnsent,
}

/// A failed attempt on one node: the error, and whether the request may have reached it.
struct Failed {
    error: Error,
    maybe_received: bool,
}

#[derive(Debug)]
pub struct ManagementClient {
    http: reqwest::Client,
    endpoints: Vec<Url>,
    credentials: Credentials,
    /// Whether a client certificate is offered (reading a refused handshake depends on it).
    with_client_cert: bool,
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
            with_client_cert: target.tls.client_cert_file.is_some(),
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
        let (endpoint, shown_path, bytes) = self
            .send(reqwest::Method::GET, path, &[], Repeat::Safe)
            .await?;
        parse(endpoint, shown_path, &bytes)
    }

    /// DELETE `path` (a purge, for one) on the first node that can be reached. It goes to
    /// another node only when the first never received it; a node that received it and did
    /// not answer gives [`Error::Unconfirmed`].
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.delete_with(path, &[]).await
    }

    /// [`delete`](Self::delete) with request headers (closing a connection sends its reason
    /// as `X-Reason`).
    pub async fn delete_with(&self, path: &str, headers: &[(&str, &str)]) -> Result<()> {
        self.send(reqwest::Method::DELETE, path, headers, Repeat::OnlyIfUnsent)
            .await
            .map(|_| ())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        repeat: Repeat,
    ) -> Result<(String, String, bytes::Bytes)> {
        let n = self.endpoints.len();
        let start = self.preferred.load(Ordering::Relaxed) % n;
        let mut failures = Vec::new();
        for i in (0..n).map(|k| (start + k) % n) {
            match self.attempt(i, method.clone(), path, headers).await {
                Ok(v) => {
                    self.preferred.store(i, Ordering::Relaxed);
                    return Ok(v);
                }
                Err(f) if !f.error.is_node_failure() => return Err(f.error),
                Err(f) if repeat == Repeat::OnlyIfUnsent && f.maybe_received => {
                    return Err(Error::Unconfirmed {
                        endpoint: redact(&self.endpoints[i]),
                        what: format!("{method} {path}"),
                        reason: f.error.to_string(),
                    })
                }
                Err(f) => failures.push(f.error.to_string()),
            }
        }
        Err(Error::NoNodeAvailable(failures.join("; ")))
    }

    /// GET `path` from the `i`-th endpoint only.
    pub async fn get_from<T: DeserializeOwned>(&self, i: usize, path: &str) -> Result<T> {
        let (endpoint, shown_path, bytes) = self
            .attempt(i, reqwest::Method::GET, path, &[])
            .await
            .map_err(|f| f.error)?;
        parse(endpoint, shown_path, &bytes)
    }

    /// One request to the `i`-th endpoint, given up early when the node turns out not to
    /// answer at all (see the module's docs).
    async fn attempt(
        &self,
        i: usize,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::result::Result<(String, String, bytes::Bytes), Failed> {
        let request = self.send_to(i, method, path, headers);
        tokio::pin!(request);
        tokio::select! {
            r = &mut request => return r,
            () = tokio::time::sleep(LIVENESS_AFTER) => {}
        }
        let probe = tokio::time::timeout(
            LIVENESS_WAIT,
            self.send_to(i, reqwest::Method::GET, LIVENESS_PATH, &[]),
        );
        tokio::select! {
            r = &mut request => return r,
            alive = probe => match alive {
                // Alive (whatever it answered): the request is slow, not lost; let it finish.
                Ok(Ok(_)) => {}
                Ok(Err(f)) if !f.error.is_node_failure() => {}
                _ => {
                    return Err(Failed {
                        error: Error::Timeout {
                            endpoint: redact(&self.endpoints[i]),
                            after: LIVENESS_AFTER + LIVENESS_WAIT,
                        },
                        maybe_received: true,
                    })
                }
            },
        }
        request.await
    }

    async fn send_to(
        &self,
        i: usize,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::result::Result<(String, String, bytes::Bytes), Failed> {
        let unsent = |error| Failed {
            error,
            maybe_received: false,
        };
        check_no_dot_segments(path).map_err(unsent)?;
        let base = &self.endpoints[i];
        let url = base
            .join("api/")
            .and_then(|u| u.join(path))
            .map_err(|e| unsent(Error::invalid("management path", e.to_string())))?;
        let endpoint = redact(base);
        let shown_path = url.path().to_owned();
        let mut request = self.http.request(method, url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .basic_auth(
                &self.credentials.username,
                Some(self.credentials.password()),
            )
            .send()
            .await
            .map_err(|e| Failed {
                maybe_received: !e.is_connect(),
                error: transport_error(&endpoint, self.with_client_cert, e),
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let reason = error_reason(&body);
            let error = match status.as_u16() {
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
            };
            // The node answered: whatever it did with the request, it received it.
            return Err(Failed {
                error,
                maybe_received: true,
            });
        }
        let bytes = response.bytes().await.map_err(|e| Failed {
            error: transport_error(&endpoint, self.with_client_cert, e),
            maybe_received: true,
        })?;
        Ok((endpoint, shown_path, bytes))
    }
}

/// What an error reply says, shortly: the API's own `{error, reason}`, or for an HTML page
/// (a proxy or load balancer answering in the API's place) its title, never the markup.
fn error_reason(body: &str) -> String {
    if let Ok(e) = serde_json::from_str::<api::ErrorReply>(body) {
        return e.reason.unwrap_or(e.error.unwrap_or_default());
    }
    let lower = body.trim_start().to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        let title = lower
            .find("<title>")
            .and_then(|start| {
                let from = start + "<title>".len();
                lower[from..]
                    .find("</title>")
                    .map(|end| body.trim_start()[from..from + end].trim())
            })
            .filter(|t| !t.is_empty());
        return match title {
            Some(t) => format!(
                "an HTML page titled \"{}\" (something in front of the management API answered, not RabbitMQ)",
                t.chars().take(100).collect::<String>()
            ),
            None => "an HTML page (something in front of the management API answered, not RabbitMQ)".to_owned(),
        };
    }
    body.chars().take(200).collect()
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
            reason: if e.is_eof() {
                format!("the JSON reply ends early, cut off on the way ({e})")
            } else {
                e.to_string()
            },
        })
}

/// Percent-encodes one path segment or query value fully: everything but ASCII letters and
/// digits ("/" becomes "%2F", "%" "%25", "#" "%23", "?" "%3F", non-ASCII its UTF-8 bytes).
pub fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Whether a vhost or queue name can be a segment of a management API path. `.` and `..`
/// cannot, however they are encoded: the URL library and the broker's HTTP router both drop
/// dot segments, `%2E` and `%2E%2E` included, so the path would name something else (a purge
/// of `.` in `/` would address `/api/queues/%2F/contents`).
pub fn is_addressable(name: &str) -> bool {
    !matches!(name, "." | "..")
}

/// One path segment naming `what` (a vhost, a queue), encoded; a name that no path can
/// address is refused rather than sent as a path that means something else.
pub fn path_segment(what: &str, name: &str) -> Result<String> {
    if is_addressable(name) {
        Ok(encode_segment(name))
    } else {
        Err(Error::invalid(
            what,
            format!(
                "\"{name}\" cannot be addressed through the management API (its HTTP paths drop \
                 \".\" and \"..\" segments)"
            ),
        ))
    }
}

/// Refuses a path (relative to `/api/`) holding a dot segment in any spelling: resolved, it
/// would address another resource. The last line of defence behind [`path_segment`].
fn check_no_dot_segments(path: &str) -> Result<()> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let dot = |seg: &str| {
        let seg = seg.to_ascii_lowercase().replace("%2e", ".");
        seg == "." || seg == ".."
    };
    match path.split('/').find(|seg| dot(seg)) {
        Some(seg) => Err(Error::invalid(
            "management path",
            format!("the segment \"{seg}\" of {path} would be dropped"),
        )),
        None => Ok(()),
    }
}

fn transport_error(endpoint: &str, with_client_cert: bool, e: reqwest::Error) -> Error {
    if let Some(failure) = tls::TlsFailure::find(&e, with_client_cert) {
        return Error::TlsRefused {
            endpoint: endpoint.to_owned(),
            failure,
        };
    }
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
    fn an_error_reply_is_told_by_its_reason_or_its_page_title() {
        assert_eq!(
            error_reason(r#"{"error":"Object Not Found","reason":"Not Found"}"#),
            "Not Found"
        );
        let page = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1><script>x</script></body></html>";
        let reason = error_reason(page);
        assert!(reason.contains("\"502 Bad Gateway\""), "{reason}");
        assert!(!reason.contains('<'), "{reason}");
        assert!(error_reason("<html><body>down</body></html>").starts_with("an HTML page ("));
        assert_eq!(error_reason("plain text"), "plain text");
    }

    #[test]
    fn repeated_keys_do_not_fail_a_reply() {
        let raw = br#"{"name":"s","vhost":"/","online":["a"],"online":["a","b"]}"#;
        let q: crate::api::Queue = serde_json::from_slice::<serde_json::Value>(raw)
            .and_then(serde_json::from_value)
            .unwrap();
        assert_eq!(q.online.unwrap(), ["a", "b"]);
    }

    use super::*;

    #[test]
    fn every_odd_character_is_encoded_in_a_segment() {
        let cases = [
            ("/", "%2F"),
            ("a.b", "a%2Eb"),
            ("a/b", "a%2Fb"),
            ("50%", "50%25"),
            ("a b", "a%20b"),
            ("#1", "%231"),
            ("why?", "why%3F"),
            ("é", "%C3%A9"),
            ("キュー", "%E3%82%AD%E3%83%A5%E3%83%BC"),
            ("...", "%2E%2E%2E"),
            ("%2E", "%252E"),
        ];
        for (name, want) in cases {
            assert_eq!(path_segment("queue", name).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn encoded_segments_survive_the_url_unchanged() {
        // What the client sends is what it built: no segment is resolved away or re-encoded.
        let base = Url::parse("http://127.0.0.1:15672/").unwrap();
        for name in [
            "a.b", "/", "..a", "a..", "50%", "a b", "#1", "why?", "é", "%2E", ".%2E",
        ] {
            let path = format!(
                "queues/{}/{}/contents",
                path_segment("vhost", "/").unwrap(),
                path_segment("queue", name).unwrap()
            );
            check_no_dot_segments(&path).unwrap();
            let url = base.join("api/").unwrap().join(&path).unwrap();
            assert_eq!(url.path(), format!("/api/{path}"), "{name}");
            assert_eq!(url.query(), None, "{name}");
            let segments: Vec<_> = url.path_segments().unwrap().collect();
            let decoded = percent_encoding::percent_decode_str(segments[3])
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, name);
        }
    }

    #[test]
    fn dot_names_are_refused_not_sent() {
        for name in [".", ".."] {
            assert!(!is_addressable(name));
            assert!(matches!(
                path_segment("queue", name),
                Err(Error::InvalidInput { .. })
            ));
        }
        for path in [
            "queues/%2F/%2E/contents",
            "queues/%2F/%2e%2E",
            "queues/./x",
            "queues/%2F/..?columns=name",
            "queues/%2F/.%2E/contents",
        ] {
            assert!(check_no_dot_segments(path).is_err(), "{path}");
        }
        // A dot inside a query value is not a path segment.
        check_no_dot_segments("queues?name=%5E%5C.%24&use_regex=true").unwrap();
    }
}
