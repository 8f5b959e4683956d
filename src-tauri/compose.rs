//! IPC commands of the compose side: preview, publish with progress, and reading a message
//! file (a publish is cancelled as any operation is, with `cancel_operation`). Adapters only: templates, checks and the engine are warren-core's `template`
//! and `publish`. Work that reads files (a body file, a message file) or renders many messages
//! runs on the blocking pool, never on the UI thread.

use tauri::ipc::Channel;
use tauri::State;
use warren_core::message::MessageJson;
use warren_core::publish::{self, Plan, PublishProgress, PublishRequest, PublishSummary};
use warren_core::Error;

use crate::commands::{report, CmdResult};
use crate::operations::OperationEvent;
use crate::state::AppState;

/// Runs `f` on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
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

/// Publishes `request` on the open cluster of profile `name` as an operation of that profile
/// (its id goes first over `events`, then its progress); resolves with the summary once every
/// message has an outcome, also when cancelled.
#[tauri::command]
pub async fn publish(
    state: State<'_, AppState>,
    name: String,
    request: PublishRequest,
    events: Channel<OperationEvent<PublishProgress>>,
) -> CmdResult<PublishSummary> {
    let operation = state.operations.start(&name);
    let _ = events.send(OperationEvent::Started { id: operation.id });
    let plan = blocking(move || Plan::from_request(&request)).await?;
    let cluster = state.cluster(&name).await.map_err(report)?;
    publish::run(
        cluster.session().map_err(report)?,
        cluster.api(),
        &plan,
        operation.cancel.clone(),
        |progress| {
            let _ = events.send(OperationEvent::Progress { progress });
        },
    )
    .await
    .map_err(report)
}

/// The messages of a message file (one JSON object, or JSON Lines), shape-checked.
#[tauri::command]
pub async fn read_message_file(path: String) -> CmdResult<Vec<MessageJson>> {
    blocking(move || warren_core::message::file::read(&path)).await
}
