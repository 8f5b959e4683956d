//! IPC commands of the compose side: preview, publish with progress, cancel, and reading a
//! message file. Adapters only: templates, checks and the engine are warren-core's `template`
//! and `publish`. Work that reads files (a body file, a message file) or renders many messages
//! runs on the blocking pool, never on the UI thread.

use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;
use warren_core::message::MessageJson;
use warren_core::publish::{self, Plan, PublishProgress, PublishRequest, PublishSummary};
use warren_core::Error;

use crate::commands::{report, CmdResult};
use crate::state::AppState;

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> warren_core::Result<T> + Send + 'static,
) -> CmdResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| report(Error::invalid("request", format!("the task failed: {e}"))))?
        .map_err(report)
}

/// The first `count` messages of `request`, rendered and checked (no cluster needed).
#[tauri::command]
pub async fn preview_publish(request: PublishRequest, count: u32) -> CmdResult<Vec<MessageJson>> {
    blocking(move || Plan::from_request(&request)?.preview(u64::from(count))).await
}

/// Removes a publish's cancel token when the command ends, however it ends.
struct PublishGuard<'a> {
    state: &'a AppState,
    id: u32,
}

impl Drop for PublishGuard<'_> {
    fn drop(&mut self) {
        self.state
            .publishes
            .lock()
            .expect("publishes poisoned")
            .remove(&self.id);
    }
}

/// Publishes `request` on the open cluster of profile `name`, streaming progress (at most
/// every 100 ms) to `events`; resolves with the summary once every message has an outcome.
#[tauri::command]
pub async fn publish(
    state: State<'_, AppState>,
    name: String,
    request: PublishRequest,
    publish_id: u32,
    events: Channel<PublishProgress>,
) -> CmdResult<PublishSummary> {
    let plan = blocking(move || Plan::from_request(&request)).await?;
    let cluster = state.cluster(&name).await.map_err(report)?;
    let cancel = CancellationToken::new();
    state
        .publishes
        .lock()
        .expect("publishes poisoned")
        .insert(publish_id, cancel.clone());
    let _guard = PublishGuard {
        state: &state,
        id: publish_id,
    };
    publish::run(&cluster, &plan, cancel, |p| {
        let _ = events.send(p.clone());
    })
    .await
    .map_err(report)
}

#[tauri::command]
pub fn cancel_publish(state: State<'_, AppState>, publish_id: u32) {
    if let Some(token) = state
        .publishes
        .lock()
        .expect("publishes poisoned")
        .get(&publish_id)
    {
        token.cancel();
    }
}

/// The messages of a message file (one JSON object, or JSON Lines), shape-checked.
#[tauri::command]
pub async fn read_message_file(path: String) -> CmdResult<Vec<MessageJson>> {
    blocking(move || warren_core::message::file::read(&path)).await
}
