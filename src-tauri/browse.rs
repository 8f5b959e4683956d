//! IPC commands of the browse side: queues, exchanges, bindings, peek and the inspector.
//! Adapters only: the logic is in warren-core's `queues`, `topology`, `peek` and `inspector`.
//!
//! Peeked messages stay here, in [`AppState::inspections`]; the UI asks for the rows it shows,
//! so 100,000 messages cost the webview a screenful, and a large body crosses in ranges.
//!
//! Inspector commands are async and do their work on a blocking thread, so the main thread
//! (the window) never waits for a filter over 100,000 messages. Each inspection sits behind
//! its own `RwLock`: rows and details read it together, a filter writes it, and a save copies
//! what it writes under a short read and writes the file with no lock held.

use std::sync::atomic::{AtomicU32, Ordering};

use tauri::ipc::Channel;
use tauri::State;
use warren_core::inspector::{
    self, BodyChunk, Inspection, InspectionSummary, InspectionView, MessageDetail, MessageFilter,
    MessageRow, Selection,
};
use warren_core::peek::{self, PeekPlan, PeekProgress, PeekRequest, PeekedMessage};
use warren_core::queues::history::QueueHistory;
use warren_core::queues::{self, PurgeResult, QueueDetail, QueuePage, QueueQuery};
use warren_core::topology::{self, BindingRow, ExchangeRow, Topology, TopologyFocus};
use warren_core::Error;

use crate::commands::{report, CmdResult};
use crate::compose::blocking;
use crate::operations::OperationEvent;
use crate::state::{AppState, Held, SharedInspection};

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

/// A queue's depth and rates over time, for its charts (polled while the chart shows).
#[tauri::command]
pub async fn queue_history(
    state: State<'_, AppState>,
    name: String,
    vhost: String,
    queue: String,
) -> CmdResult<QueueHistory> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    cluster.queue_history(&vhost, &queue).await.map_err(report)
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
    peek::make_plan(cluster.session().map_err(report)?, cluster.api(), &request)
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
        cluster.session().map_err(report)?,
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
                inspection: std::sync::Arc::new(std::sync::RwLock::new(inspection)),
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

/// Inspection `id`, out of the registry (whose lock is held only to clone it out).
pub(crate) fn inspection(state: &AppState, id: u32) -> CmdResult<SharedInspection> {
    state
        .inspections
        .lock()
        .expect("inspections poisoned")
        .get(&id)
        .map(|held| held.inspection.clone())
        .ok_or_else(|| {
            report(Error::invalid(
                "inspection",
                format!("no inspection {id} (it was closed)"),
            ))
        })
}

fn read(i: &SharedInspection) -> std::sync::RwLockReadGuard<'_, Inspection> {
    i.read().expect("inspection poisoned")
}

/// Filtering goes over every held message: off the main thread, holding the write lock
/// (rows of the old view would be wrong meanwhile).
#[tauri::command]
pub async fn filter_inspection(
    state: State<'_, AppState>,
    id: u32,
    filter: MessageFilter,
) -> CmdResult<InspectionView> {
    let i = inspection(&state, id)?;
    blocking(move || i.write().expect("inspection poisoned").apply(&filter)).await
}

#[tauri::command]
pub async fn inspection_rows(
    state: State<'_, AppState>,
    id: u32,
    start: u32,
    count: u32,
    headers: Vec<String>,
) -> CmdResult<Vec<MessageRow>> {
    let i = inspection(&state, id)?;
    blocking(move || Ok(read(&i).rows(start, count, &headers))).await
}

/// One message, its body cut at [`inspector::DETAIL_BODY_BYTES`] (see `inspection_body`).
#[tauri::command]
pub async fn inspection_message(
    state: State<'_, AppState>,
    id: u32,
    index: u32,
) -> CmdResult<MessageDetail> {
    let i = inspection(&state, id)?;
    blocking(move || read(&i).detail(index)).await
}

/// Bytes `offset..offset + length` of one message's body.
#[tauri::command]
pub async fn inspection_body(
    state: State<'_, AppState>,
    id: u32,
    index: u32,
    offset: u64,
    length: u64,
) -> CmdResult<BodyChunk> {
    let i = inspection(&state, id)?;
    blocking(move || read(&i).body(index, offset, length)).await
}

/// Writes one message's body, as it is, to a file.
#[tauri::command]
pub async fn save_inspection_body(
    state: State<'_, AppState>,
    id: u32,
    index: u32,
    path: String,
    overwrite: bool,
) -> CmdResult<u64> {
    let path = checked_path(&path).map_err(report)?;
    let i = inspection(&state, id)?;
    blocking(move || {
        // A copy, so the lock is not held while the file is written.
        let m = read(&i).message_at(index)?.clone();
        inspector::save_body(&path, &m, overwrite)
    })
    .await
}

#[tauri::command]
pub async fn save_messages(
    state: State<'_, AppState>,
    id: u32,
    selection: Selection,
    path: String,
    overwrite: bool,
) -> CmdResult<u64> {
    let path = checked_path(&path).map_err(report)?;
    let i = inspection(&state, id)?;
    blocking(move || {
        save_selection(&i, &selection, |chosen| {
            inspector::save_messages(&path, chosen, overwrite)
        })
    })
    .await
}

/// Copies the selected messages out under a short read lock, then `write`s them with no lock
/// held: a save of many large messages never keeps rows, details or a filter waiting.
pub(crate) fn save_selection<T>(
    i: &SharedInspection,
    selection: &Selection,
    write: impl FnOnce(&[PeekedMessage]) -> warren_core::Result<T>,
) -> warren_core::Result<T> {
    let chosen: Vec<PeekedMessage> = read(i).select(selection)?.into_iter().cloned().collect();
    write(&chosen)
}

/// A file path the user gave: not empty, `~/` expanded.
pub(crate) fn checked_path(path: &str) -> warren_core::Result<std::path::PathBuf> {
    if path.trim().is_empty() {
        return Err(Error::invalid("path", "a file path is needed"));
    }
    Ok(expand_home(path.trim()))
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::sync::{Arc, RwLock};
    use std::time::Duration;

    use warren_core::broker::{DeliveryOrder, QueueType};
    use warren_core::message::{Message, Properties};
    use warren_core::peek::{PeekEnd, PeekMethod, PeekPlan, PeekReport};

    use super::*;

    fn shared(count: u32) -> SharedInspection {
        let messages = (1..=count)
            .map(|position| PeekedMessage {
                position,
                message: Message {
                    exchange: String::new(),
                    routing_key: "k".into(),
                    properties: Properties::default(),
                    body: vec![b'x'; 1024],
                },
                redelivered: false,
                offset: None,
                delivery_count: None,
                received_at_ms: 0,
            })
            .collect();
        let report = PeekReport {
            plan: PeekPlan {
                vhost: "/".into(),
                queue: "q".into(),
                queue_type: QueueType::Classic,
                broker_version: None,
                method: PeekMethod::NackRequeue,
                order: DeliveryOrder::Publication,
                effects: vec![],
                harmless: true,
                delivery_limit: None,
                over_limit: None,
                messages_ready: None,
                consumers: None,
                count,
            },
            received: count,
            end: PeekEnd::CountReached,
            endpoint: "e".into(),
            elapsed_ms: 1,
            held_bytes: 0,
            budget_bytes: 1,
            returned_by_broker: None,
        };
        Arc::new(RwLock::new(Inspection::new(1, report, messages)))
    }

    /// A save whose file write is still under way (held here until the row fetch is done)
    /// keeps neither a row fetch nor a filter waiting.
    #[test]
    fn a_save_in_progress_does_not_block_reading_or_filtering() {
        let i = shared(1000);
        let (writing_tx, writing_rx) = mpsc::channel();
        let (finish_tx, finish_rx) = mpsc::channel::<()>();
        let saving = {
            let i = i.clone();
            std::thread::spawn(move || {
                save_selection(&i, &Selection::View, |chosen| {
                    writing_tx.send(chosen.len()).unwrap();
                    // The file write, as long as the test wants it to be.
                    finish_rx.recv().unwrap();
                    Ok(chosen.len() as u64)
                })
            })
        };
        assert_eq!(
            writing_rx.recv().unwrap(),
            1000,
            "the save copied its messages"
        );

        // While the save writes: rows and a filter, on another thread so that a regression
        // fails here instead of hanging the test.
        let (done_tx, done_rx) = mpsc::channel();
        {
            let i = i.clone();
            std::thread::spawn(move || {
                let rows = i.read().unwrap().rows(0, 50, &[]).len();
                let matched = i
                    .write()
                    .unwrap()
                    .apply(&MessageFilter {
                        text: "k".into(),
                        ..MessageFilter::default()
                    })
                    .unwrap()
                    .matched;
                done_tx.send((rows, matched)).unwrap();
            });
        }
        let got = done_rx.recv_timeout(Duration::from_secs(30));
        finish_tx.send(()).unwrap();
        assert_eq!(
            got.expect("a row fetch waited for the save to finish"),
            (50, 1000)
        );
        assert_eq!(saving.join().unwrap().unwrap(), 1000);
    }
}
