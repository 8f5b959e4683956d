//! Recording messages into a collection from a peek: the messages read as the browse rules
//! allow (a peek that would change the queue needs consent, as any peek does), each recorded
//! with when Warren read it and where from (cluster, vhost, queue).
//!
//! Why the whole peek is read before anything is written: the file is written once,
//! atomically, after the queue has its messages back, so an interrupted save leaves the
//! collection as it was.

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::format::{self, Collection, Entry, Source};
use crate::error::{Error, Result};
use crate::management::ManagementClient;
use crate::peek::{self, PeekEnd, PeekProgress, PeekReport, PeekRequest};
use crate::session::ClusterSession;

/// The source of messages read from `vhost`/`queue` of the cluster `api` talks to (its name as
/// the broker reports it, when it answers).
pub async fn source(api: &ManagementClient, vhost: &str, queue: &str) -> Source {
    let cluster = tokio::time::timeout(Duration::from_secs(5), api.overview())
        .await
        .ok()
        .and_then(|o| o.ok())
        .and_then(|o| o.cluster_name.clone());
    Source {
        cluster,
        vhost: Some(vhost.to_owned()),
        queue: Some(queue.to_owned()),
    }
}

/// Peeks `request` and returns the messages as collection entries, with the peek's report.
pub async fn record_peek(
    session: &ClusterSession,
    api: &ManagementClient,
    request: &PeekRequest,
    idle: Duration,
    cancel: CancellationToken,
    on_progress: impl FnMut(PeekProgress),
) -> Result<(Vec<Entry>, PeekReport)> {
    let from = source(api, &request.vhost, &request.queue).await;
    let mut entries = Vec::new();
    let report = peek::run(
        session,
        api,
        request,
        idle,
        cancel,
        |m| {
            entries.push(Entry::from_peeked(&m, Some(from.clone())));
            Ok(())
        },
        on_progress,
    )
    .await?;
    Ok((entries, report))
}

/// Adds `entries` to the collection file at `path`, creating it (named `name`, or after the
/// file) when it does not exist; a file that does not parse is left alone and its error
/// returned. A new name given for an existing collection renames it. Returns the collection
/// as written.
pub fn save_to_file(path: &Path, name: Option<&str>, entries: Vec<Entry>) -> Result<Collection> {
    let mut collection = if path.exists() {
        format::read(path)?
    } else {
        Collection {
            name: format::name_from_path(path),
            ..Collection::default()
        }
    };
    if let Some(n) = name {
        if n.trim().is_empty() {
            return Err(Error::invalid("name", "a collection needs a name"));
        }
        collection.name = n.trim().to_owned();
    }
    collection.messages.extend(entries);
    format::write(path, &collection)?;
    Ok(collection)
}

/// True when a peek's report says it was interrupted (nothing is saved then).
pub fn interrupted(report: &PeekReport) -> bool {
    report.end == PeekEnd::Cancelled
}
