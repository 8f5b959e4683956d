//! One error type for all of warren-core.
//!
//! Callers need two things from an error: a stable `kind` to branch on (the UI picks an icon and
//! a hint from it, the CLI an exit code) and a one-line message a person can act on. Every
//! variant names the endpoint it concerns in redacted form (see [`crate::endpoint::redact`]):
//! credentials never reach an error text.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    #[error("no profile named \"{0}\"")]
    ProfileNotFound(String),
    #[error("a profile named \"{0}\" already exists")]
    ProfileExists(String),
    #[error("profile file {path}: {reason}")]
    ProfileFile { path: PathBuf, reason: String },
    #[error("no password for profile \"{0}\" in the OS keychain")]
    PasswordMissing(String),
    #[error("OS keychain: {0}")]
    Keychain(String),
    #[error("authentication failed for user \"{user}\" at {endpoint}")]
    Auth { endpoint: String, user: String },
    #[error("user \"{user}\" may not access {what} at {endpoint}")]
    AccessRefused {
        endpoint: String,
        user: String,
        what: String,
    },
    #[error("{endpoint} is unreachable: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("{endpoint} did not answer within {}", humanize(*.after))]
    Timeout { endpoint: String, after: Duration },
    /// A write reached a node that then failed to answer: it may or may not have been done,
    /// and it was not sent again, since doing it twice could be worse than not at all.
    #[error("{endpoint} received {what} but did not answer ({reason}); it may or may not have been done, so it was not sent again: check before retrying")]
    Unconfirmed {
        endpoint: String,
        what: String,
        reason: String,
    },
    #[error("{endpoint} answered HTTP {status} for {path}: {reason}")]
    Http {
        endpoint: String,
        path: String,
        status: u16,
        reason: String,
    },
    #[error("{endpoint}: unexpected reply to {path}: {reason}")]
    BadReply {
        endpoint: String,
        path: String,
        reason: String,
    },
    #[error("AMQP error at {endpoint}: {reason}")]
    Amqp { endpoint: String, reason: String },
    #[error("no node of the cluster is reachable ({0})")]
    NoNodeAvailable(String),
    #[error("TLS settings: {0}")]
    Tls(String),
    /// A TLS connection refused, by Warren (the server's certificate) or by the server.
    #[error("TLS connection to {endpoint} refused: {failure}")]
    TlsRefused {
        endpoint: String,
        failure: TlsFailure,
    },
    #[error("no queue \"{name}\" in vhost \"{vhost}\"")]
    QueueNotFound { vhost: String, name: String },
    /// The queue exists but the broker cannot reach it (its home node is down, say).
    #[error("queue \"{name}\" in vhost \"{vhost}\" is unavailable: {why}")]
    QueueUnavailable {
        vhost: String,
        name: String,
        why: QueueAbsence,
    },
    #[error("no exchange \"{name}\" in vhost \"{vhost}\"")]
    ExchangeNotFound { vhost: String, name: String },
    /// A watch rule on dead letters whose queue dead-letters nowhere Warren can count.
    #[error("no dead letters to count for queue \"{queue}\" in vhost \"{vhost}\": {reason}")]
    NoDeadLetterQueue {
        vhost: String,
        queue: String,
        reason: String,
    },
    /// The queue no longer holds the messages an operation was asked to act on, as peeked.
    #[error("queue \"{queue}\" in vhost \"{vhost}\" changed since it was peeked: {detail}; nothing was changed, peek again")]
    QueueChanged {
        vhost: String,
        queue: String,
        detail: String,
    },
    #[error("{what} would change the queue: {effects}; allow side effects to go ahead")]
    NeedsConsent { what: String, effects: String },
    #[error("file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// Saving would replace a file: the user is asked first.
    #[error("file {} already exists; replace it only when asked to (the app asks; the CLI needs --force)", .0.display())]
    FileExists(PathBuf),
    /// A file that is not what it should be (a collection, an import), with where.
    #[error("file {path}, line {line}, column {column}: {reason}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("no collection {0}")]
    CollectionNotFound(String),
    #[error("a collection {0} already exists")]
    CollectionExists(String),
    #[error("cancelled")]
    Cancelled,
}

/// Why an existing queue cannot be reached, as the broker says it; each says what can be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueAbsence {
    /// A classic queue lives on one node, its home; that node is down, or cut off from the
    /// node that was asked.
    #[error("its home node {node} is down or cannot be reached from the node Warren asked, and its messages are there; wait for the node to come back, or check it (is it running? cut off from the others?)")]
    HomeNodeDown { node: String },
    /// What a classic queue says on 4.x while its node is stopped, or after the broker gave
    /// up restarting its process.
    #[error("its process is stopped, as a classic queue's is while its node is stopped; wait for the queue's node to come back, or check it and the broker's log there")]
    Stopped,
    #[error(
        "its process crashed and failed to restart; check the broker's log on the queue's node"
    )]
    Crashed,
    #[error(
        "the broker did not reach it in time; try again in a moment, or check the queue's node"
    )]
    NotResponding,
    #[error("its leader may be stopping or moving to another node; try again in a few seconds")]
    LeaderMoving,
}

/// Why a TLS connection was refused, by Warren (the server's certificate) or by the server
/// (Warren's client certificate).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsFailure {
    #[error("the server's certificate is signed by a CA Warren does not trust (neither the system's trust store nor the profile's CA file holds it); add that CA as the profile's CA file")]
    UnknownCa,
    #[error("the server's certificate is not valid for {host}{}; connect by a name the certificate carries", names(.presented))]
    NameMismatch {
        host: String,
        presented: Vec<String>,
    },
    #[error("the server's certificate has expired{}; the server needs a new one", since(.not_after))]
    Expired { not_after: Option<u64> },
    #[error("the server's certificate is not valid yet; check the clocks of this machine and the server")]
    NotYetValid,
    #[error("the server's certificate was refused: {0}")]
    BadServerCertificate(String),
    #[error(
        "the server requires a client certificate; give the profile a client certificate and key"
    )]
    ClientCertificateRequired,
    #[error("the server refused the client certificate ({0}); is it signed by a CA the server trusts, and still valid?")]
    ClientCertificateRefused(String),
    #[error("the server does not speak TLS on this port (a plain amqp:// or http:// port?)")]
    NotTls,
    #[error("the TLS handshake failed: {0}")]
    Other(String),
}

fn names(presented: &[String]) -> String {
    if presented.is_empty() {
        String::new()
    } else {
        format!(" (it is for {})", presented.join(", "))
    }
}

fn since(not_after: &Option<u64>) -> String {
    match not_after {
        Some(secs) => format!(" (on {})", civil_date(*secs)),
        None => String::new(),
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time: the proleptic Gregorian calendar, by days since 1970.
pub(crate) fn civil_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The stable, machine-readable class of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    InvalidInput,
    NotFound,
    AlreadyExists,
    Config,
    PasswordMissing,
    Keychain,
    Auth,
    AccessRefused,
    Unreachable,
    Timeout,
    Http,
    Protocol,
    Unavailable,
    Tls,
    /// The operation would change something (a quorum queue's delivery counts, say) and was
    /// not allowed to: ask the user, then retry with consent.
    NeedsConsent,
    /// The queue changed since it was read, so acting on what was read was refused.
    Conflict,
    File,
    Cancelled,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::ProfileNotFound(_) => ErrorKind::NotFound,
            Error::ProfileExists(_) => ErrorKind::AlreadyExists,
            Error::ProfileFile { .. } => ErrorKind::Config,
            Error::PasswordMissing(_) => ErrorKind::PasswordMissing,
            Error::Keychain(_) => ErrorKind::Keychain,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::AccessRefused { .. } => ErrorKind::AccessRefused,
            Error::Unreachable { .. } => ErrorKind::Unreachable,
            Error::Timeout { .. } | Error::Unconfirmed { .. } => ErrorKind::Timeout,
            Error::Http { status: 404, .. } => ErrorKind::NotFound,
            Error::Http { .. } => ErrorKind::Http,
            Error::BadReply { .. } | Error::Amqp { .. } => ErrorKind::Protocol,
            Error::NoNodeAvailable(_) => ErrorKind::Unavailable,
            Error::Tls(_) | Error::TlsRefused { .. } => ErrorKind::Tls,
            Error::QueueNotFound { .. } => ErrorKind::NotFound,
            Error::QueueUnavailable { .. } => ErrorKind::Unavailable,
            Error::ExchangeNotFound { .. } => ErrorKind::NotFound,
            Error::NoDeadLetterQueue { .. } => ErrorKind::NotFound,
            Error::QueueChanged { .. } => ErrorKind::Conflict,
            Error::NeedsConsent { .. } => ErrorKind::NeedsConsent,
            Error::File { .. } | Error::Parse { .. } => ErrorKind::File,
            Error::FileExists(_) => ErrorKind::AlreadyExists,
            Error::CollectionNotFound(_) => ErrorKind::NotFound,
            Error::CollectionExists(_) => ErrorKind::AlreadyExists,
            Error::Cancelled => ErrorKind::Cancelled,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// True for failures of the transport to one node (as opposed to a refusal by a healthy
    /// node): the ones where trying another node of the cluster may succeed.
    pub fn is_node_failure(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. } | Error::Timeout { .. } | Error::NoNodeAvailable(_)
        ) || matches!(self, Error::Http { status, .. } if *status == 503 || *status == 502)
    }
}

/// An error as it crosses a process boundary: to the UI over IPC, or to scripts as JSON.
///
/// `field` is set when the error is about one input, so that a form can show it next to that
/// input without reading the message: for [`ErrorKind::InvalidInput`] it is the path the core
/// names the input by. Paths follow the message format and the requests: `"body"`,
/// `"routing_key"`, `"exchange"`, `"count"`, `"rate"`, `"properties.expiration"` (one basic
/// property), `"properties.headers.tenant"` (one header; nested values go on as
/// `"properties.headers.t.inner"` and `"properties.headers.a[2]"`), `"variables.NAME"` (a
/// template variable), `"queue"`, `"offset"`, `"path"`. A path never carries where in a run
/// the input failed (message 12 of a publish, line 3 of a file): that is in the message.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ErrorReport {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> Self {
        ErrorReport {
            kind: e.kind(),
            message: e.to_string(),
            field: match e {
                Error::InvalidInput { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_field_of_invalid_input_only() {
        let r = ErrorReport::from(&Error::invalid("properties.expiration", "not a number"));
        assert_eq!(r.field.as_deref(), Some("properties.expiration"));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({
                "kind": "invalid_input",
                "message": "invalid properties.expiration: not a number",
                "field": "properties.expiration",
            })
        );
        let r = ErrorReport::from(&Error::Cancelled);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"kind": "cancelled", "message": "cancelled"})
        );
    }
}
