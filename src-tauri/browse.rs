//! IPC commands of the browse side: queues, exchanges, bindings, peek and the inspector.
//! Adapters only: the logic is in warren-core's `queues`, `topology`, `peek` and `inspector`.
//!
//! Peeked messages stay here, in [`AppState::inspections`]; the UI asks for the rows it shows,
//! so 100,000 messages cost the webview a screenful.

use std::sync::atomic::{AtomicU32, Ordering};

use tauri::ipc::Channel;
use tauri::State;
use warren_core::inspector::{
    self, Inspection, InspectionSummary, InspectionView, MessageDetail, MessageFilter, MessageRow,
    Selection,
};
use warren_core::peek::{self, PeekPlan, PeekProgress, PeekRequest};
use warren_core::queues::{self, PurgeResult, QueueDetail, QueuePage, QueueQuery};
use warren_core::topology::{self, BindingRow, ExchangeRow, Topology, TopologyFocus};
use warren_core::Error;

use crate::commands::{report, CmdResult};
use crate::operations::OperationEvent;
use crate::state::{AppState, Held};

static NEXT_INSPECTION: AtomicU32 = AtomicU32::new(1);

#[tauri::command]
pub async fn list_queues(
    state: State<'_, AppState>,
    name: String,
    query: QueueQuery,
) -> CmdResult<QueuePage> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    queues::list_page(cluster.api(), &query)
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn queue_detail(
    state: State<'_, AppState>,
    name: String,
    vhost: String,
    queue: String,
) -> CmdResult<QueueDetail> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    queues::detail(cluster.api(), &vhost, &queue)
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn purge_queue(
    state: State<'_, AppState>,
    name: String,
    vhost: String,
    queue: String,
) -> CmdResult<PurgeResult> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    queues::purge(cluster.api(), &vhost, &queue)
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn list_exchanges(
    state: State<'_, AppState>,
    name: String,
    vhost: Option<String>,
) -> CmdResult<Vec<ExchangeRow>> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    topology::exchanges(cluster.api(), vhost.as_deref())
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn list_bindings(
    state: State<'_, AppState>,
    name: String,
    vhost: Option<String>,
) -> CmdResult<Vec<BindingRow>> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    topology::bindings(cluster.api(), vhost.as_deref())
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn topology(
    state: State<'_, AppState>,
    name: String,
    vhost: String,
    focus: TopologyFocus,
) -> CmdResult<Topology> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    topology::topology(cluster.api(), &vhost, &focus)
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn plan_peek(
    state: State<'_, AppState>,
    name: String,
    request: PeekRequest,
) -> CmdResult<PeekPlan> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    peek::make_plan(cluster.session(), cluster.api(), &request)
        .await
        .map_err(report)
}

/// Runs a peek as an operation of profile `name` (its id goes first over `events`, then its
/// progress) and keeps the messages as an inspection of that profile.
#[tauri::command]
pub async fn start_peek(
    state: State<'_, AppState>,
    name: String,
    request: PeekRequest,
    events: Channel<OperationEvent<PeekProgress>>,
) -> CmdResult<InspectionSummary> {
    let operation = state.operations.start(&name);
    let _ = events.send(OperationEvent::Started { id: operation.id });
    let cluster = state.cluster(&name).await.map_err(report)?;
    let mut messages = Vec::with_capacity(request.count.min(10_000) as usize);
    let report_ = peek::run(
        cluster.session(),
        cluster.api(),
        &request,
        peek::DEFAULT_IDLE,
        operation.cancel.clone(),
        |m| {
            messages.push(m);
            Ok(())
        },
        |progress| {
            let _ = events.send(OperationEvent::Progress { progress });
        },
    )
    .await
    .map_err(report)?;
    let id = NEXT_INSPECTION.fetch_add(1, Ordering::Relaxed);
    let inspection = Inspection::new(id, report_, messages);
    let summary = inspection.summary.clone();
    state
        .inspections
        .lock()
        .expect("inspections poisoned")
        .insert(
            id,
            Held {
                profile: name,
                inspection,
            },
        );
    if operation.released() {
        // The UI left this cluster while the peek ran: nobody will show or close it.
        state
            .inspections
            .lock()
            .expect("inspections poisoned")
            .remove(&id);
        return Err(report(Error::Cancelled));
    }
    Ok(summary)
}

fn with_inspection<T>(
    state: &AppState,
    id: u32,
    f: impl FnOnce(&mut Inspection) -> warren_core::Result<T>,
) -> CmdResult<T> {
    let mut all = state.inspections.lock().expect("inspections poisoned");
    let held = all.get_mut(&id).ok_or_else(|| {
        report(Error::invalid(
            "inspection",
            format!("no inspection {id} (it was closed)"),
        ))
    })?;
    f(&mut held.inspection).map_err(report)
}

#[tauri::command]
pub fn filter_inspection(
    state: State<'_, AppState>,
    id: u32,
    filter: MessageFilter,
) -> CmdResult<InspectionView> {
    with_inspection(&state, id, |i| i.apply(&filter))
}

#[tauri::command]
pub fn inspection_rows(
    state: State<'_, AppState>,
    id: u32,
    start: u32,
    count: u32,
    headers: Vec<String>,
) -> CmdResult<Vec<MessageRow>> {
    with_inspection(&state, id, |i| Ok(i.rows(start, count, &headers)))
}

#[tauri::command]
pub fn inspection_message(
    state: State<'_, AppState>,
    id: u32,
    index: u32,
) -> CmdResult<MessageDetail> {
    with_inspection(&state, id, |i| i.detail(index))
}

#[tauri::command]
pub async fn save_messages(
    state: State<'_, AppState>,
    id: u32,
    selection: Selection,
    path: String,
) -> CmdResult<u64> {
    if path.trim().is_empty() {
        return Err(report(Error::invalid("path", "a file path is needed")));
    }
    let path = expand_home(path.trim());
    // Serialising under the lock keeps the view consistent; the write itself is quick.
    with_inspection(&state, id, |i| {
        let selected = i.select(&selection)?;
        inspector::save_messages(&path, &selected)
    })
}

pub(crate) fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), directories::BaseDirs::new()) {
        (Some(rest), Some(dirs)) => dirs.home_dir().join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// A file name in the user's Downloads (else home) folder for saving messages of `queue`.
#[tauri::command]
pub fn suggest_save_path(queue: String) -> String {
    let dirs = directories::UserDirs::new();
    let dir = dirs
        .as_ref()
        .and_then(|d| d.download_dir().map(|p| p.to_path_buf()))
        .filter(|p| p.is_dir())
        .or_else(|| dirs.as_ref().map(|d| d.home_dir().to_path_buf()))
        .unwrap_or_else(std::env::temp_dir);
    let safe: String = queue
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = warren_core::session::now_ms() / 1000;
    dir.join(format!("{safe}-{stamp}.jsonl"))
        .display()
        .to_string()
}

#[tauri::command]
pub fn close_inspection(state: State<'_, AppState>, id: u32) {
    state
        .inspections
        .lock()
        .expect("inspections poisoned")
        .remove(&id);
}
