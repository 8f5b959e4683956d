//! IPC commands of consumers and taps. Adapters only: the consumer task, its settle rules, the
//! held deliveries and the tap's temporary queue are warren-core's `consume`.
//!
//! A consumer is a long operation: `start_consumer` / `start_tap` register it in the
//! operations registry (so `cancel_operation` and `release_cluster` stop it), send its id
//! first and then every batch of its events over the channel, and resolve with its stop
//! report when it ends. Its handle is kept in [`AppState::consumers`] by that id, also after it
//! stopped, so that its tab can still page through what it received and save it, until the
//! tab closes (`close_consumer`) or the UI leaves the cluster.

use std::future::Future;

use tauri::ipc::Channel;
use tauri::State;
use warren_core::consume::{
    self, tap, ConsumeRequest, ConsumedDetail, ConsumedRow, ConsumerEvent, ConsumerHandle,
    EventReceiver, Settle, SettleReport, StopReport, TapRequest,
};
use warren_core::inspector::{BodyChunk, Selection};
use warren_core::Error;

use crate::browse::checked_path;
use crate::commands::{report, CmdResult};
use crate::compose::blocking;
use crate::operations::OperationEvent;
use crate::state::{AppState, HeldConsumer};

/// What a consumer's channel carries: its id, then its events in batches.
type Events = Channel<OperationEvent<Vec<ConsumerEvent>>>;

/// Consumes `request.queue` on the cluster of profile `name` until stopped; resolves with
/// what the stop gave back.
#[tauri::command]
pub async fn start_consumer(
    state: State<'_, AppState>,
    name: String,
    request: ConsumeRequest,
    events: Events,
) -> CmdResult<StopReport> {
    let source = (request.vhost.clone(), Some(request.queue.clone()));
    run(&state, name, source, events, |cluster, cancel| {
        consume::start(cluster, request, cancel)
    })
    .await
}

/// Taps `request.exchange` on the cluster of profile `name` until stopped.
#[tauri::command]
pub async fn start_tap(
    state: State<'_, AppState>,
    name: String,
    request: TapRequest,
    events: Events,
) -> CmdResult<StopReport> {
    let source = (request.vhost.clone(), None);
    run(&state, name, source, events, |cluster, cancel| {
        tap::start(cluster, request, cancel)
    })
    .await
}

/// Runs a consumer (or tap) started by `start` as an operation of profile `name`, forwarding
/// its event batches until the last.
async fn run<F, Fut>(
    state: &AppState,
    name: String,
    (vhost, queue): (String, Option<String>),
    events: Events,
    start: F,
) -> CmdResult<StopReport>
where
    F: FnOnce(
        std::sync::Arc<warren_core::cluster::StartedCluster>,
        tokio_util::sync::CancellationToken,
    ) -> Fut,
    Fut: Future<Output = warren_core::Result<(ConsumerHandle, EventReceiver)>>,
{
    let operation = state.operations.start(&name);
    let _ = events.send(OperationEvent::Started { id: operation.id });
    let cluster = state.cluster(&name).await.map_err(report)?;
    let cluster = cluster.started().map_err(report)?;
    let (handle, mut batches) = start(cluster, operation.cancel.clone())
        .await
        .map_err(report)?;
    state.consumers.lock().expect("consumers poisoned").insert(
        operation.id,
        HeldConsumer {
            profile: name,
            handle,
            vhost,
            queue,
        },
    );
    if operation.released() {
        // The UI left this cluster while the consumer started: the cancel stops it, and
        // nobody will show or close what it holds.
        state
            .consumers
            .lock()
            .expect("consumers poisoned")
            .remove(&operation.id);
    }
    let mut stopped = None;
    while let Some(batch) = batches.recv().await {
        if let Some(ConsumerEvent::Stopped { report }) = batch
            .iter()
            .find(|e| matches!(e, ConsumerEvent::Stopped { .. }))
        {
            stopped = Some(report.clone());
        }
        let _ = events.send(OperationEvent::Progress { progress: batch });
    }
    stopped.ok_or_else(|| report(Error::Cancelled))
}

pub(crate) fn no_consumer(id: u32) -> warren_core::error::ErrorReport {
    report(Error::invalid(
        "consumer",
        format!("no consumer {id} (its tab was closed)"),
    ))
}

pub(crate) fn consumer(state: &AppState, id: u32) -> CmdResult<ConsumerHandle> {
    state
        .consumers
        .lock()
        .expect("consumers poisoned")
        .get(&id)
        .map(|held| held.handle.clone())
        .ok_or_else(|| no_consumer(id))
}

/// Stops consumer `id`: it cancels, gives back what it holds unsettled and says how much.
#[tauri::command]
pub async fn stop_consumer(state: State<'_, AppState>, id: u32) -> CmdResult<StopReport> {
    consumer(&state, id)?.stop().await.map_err(report)
}

/// Consumes again after a lost channel, a broker's cancel or a pause.
#[tauri::command]
pub async fn resume_consumer(state: State<'_, AppState>, id: u32) -> CmdResult<()> {
    consumer(&state, id)?.resume().await.map_err(report)
}

/// Settles the selected deliveries of the consumer's current view.
#[tauri::command]
pub async fn settle_deliveries(
    state: State<'_, AppState>,
    id: u32,
    selection: Selection,
    how: Settle,
) -> CmdResult<SettleReport> {
    let handle = consumer(&state, id)?;
    let seqs = handle.seqs(&selection).map_err(report)?;
    handle.settle(seqs, how).await.map_err(report)
}

/// Settles every unsettled delivery of the current channel up to and including `seq`.
#[tauri::command]
pub async fn settle_up_to(
    state: State<'_, AppState>,
    id: u32,
    seq: u64,
    how: Settle,
) -> CmdResult<SettleReport> {
    consumer(&state, id)?
        .settle_up_to(seq, how)
        .await
        .map_err(report)
}

#[tauri::command]
pub fn consumer_rows(
    state: State<'_, AppState>,
    id: u32,
    start: u32,
    count: u32,
    headers: Vec<String>,
) -> CmdResult<Vec<ConsumedRow>> {
    Ok(consumer(&state, id)?.rows(start, count, &headers))
}

#[tauri::command]
pub fn consumer_message(
    state: State<'_, AppState>,
    id: u32,
    index: u32,
) -> CmdResult<ConsumedDetail> {
    consumer(&state, id)?.detail(index).map_err(report)
}

/// Bytes `offset..offset + length` of one delivery's body (its detail carries the first
/// [`warren_core::inspector::DETAIL_BODY_BYTES`]).
#[tauri::command]
pub async fn consumer_body(
    state: State<'_, AppState>,
    id: u32,
    index: u32,
    offset: u64,
    length: u64,
) -> CmdResult<BodyChunk> {
    let handle = consumer(&state, id)?;
    blocking(move || handle.body(index, offset, length)).await
}

/// Saves the selected deliveries like peeked messages (JSON Lines in the message format).
#[tauri::command]
pub async fn save_consumed(
    state: State<'_, AppState>,
    id: u32,
    selection: Selection,
    path: String,
    overwrite: bool,
) -> CmdResult<u64> {
    let path = checked_path(&path).map_err(report)?;
    let handle = consumer(&state, id)?;
    blocking(move || handle.save(&path, &selection, overwrite)).await
}

/// The consumer's tab closed: stops it if it still runs and frees what it held.
#[tauri::command]
pub async fn close_consumer(state: State<'_, AppState>, id: u32) -> CmdResult<()> {
    let held = state
        .consumers
        .lock()
        .expect("consumers poisoned")
        .remove(&id);
    if let Some(held) = held {
        // A consumer that already stopped answers that it is gone: nothing left to do.
        let _ = held.handle.stop().await;
    }
    Ok(())
}
