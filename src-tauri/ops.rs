//! IPC commands of the message operations on an inspection's messages: delete, move, copy,
//! send dead letters back. Adapters only: matching, plans, publishing and settling are
//! warren-core's `ops`. The UI names messages by their indices in the inspection's view; the
//! commands turn them into positions and content fingerprints under the inspection's lock,
//! so the core can check that the queue still holds them.

use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;
use warren_core::inspector::Selection;
use warren_core::ops::{
    self, Action, ClusterRef, OpsPlan, OpsProgress, OpsReport, OpsRequest, OpsSelection,
    SelectedMessage,
};

use crate::commands::{report, CmdResult};
use crate::operations::OperationEvent;
use crate::state::AppState;

/// An operation on messages of an inspection, as the UI asks for it.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct MessageOps {
    /// The inspection whose queue and messages it acts on.
    pub inspection: u32,
    /// Messages of the inspection's current view; absent: every message ready in the queue.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub selection: Option<Selection>,
    pub action: Action,
    /// The profile whose cluster a move or copy publishes to; absent: the source's.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub target_profile: Option<String>,
    #[serde(default)]
    pub allow_side_effects: bool,
}

fn request(state: &AppState, order: &MessageOps) -> CmdResult<OpsRequest> {
    let shared = crate::browse::inspection(state, order.inspection)?;
    let i = shared.read().expect("inspection poisoned");
    let selection = match &order.selection {
        None => OpsSelection::All,
        Some(s) => OpsSelection::Messages {
            messages: i
                .select(s)
                .map_err(report)?
                .into_iter()
                .map(SelectedMessage::of)
                .collect(),
        },
    };
    Ok(OpsRequest {
        vhost: i.summary.vhost.clone(),
        queue: i.summary.queue.clone(),
        action: order.action.clone(),
        selection,
        allow_side_effects: order.allow_side_effects,
    })
}

/// What the operation would do and change, with a sentence naming how many and where.
#[tauri::command]
pub async fn plan_message_ops(
    state: State<'_, AppState>,
    name: String,
    order: MessageOps,
) -> CmdResult<OpsPlan> {
    let request = request(&state, &order)?;
    let source = state.cluster(&name).await.map_err(report)?;
    let target = match &order.target_profile {
        Some(p) if p != &name => Some(state.cluster(p).await.map_err(report)?),
        _ => None,
    };
    ops::plan(
        ClusterRef {
            session: source.session().map_err(report)?,
            api: source.api(),
        },
        match &target {
            Some(t) => Some(ClusterRef {
                session: t.session().map_err(report)?,
                api: t.api(),
            }),
            None => None,
        },
        &request,
    )
    .await
    .map_err(report)
}

/// Runs the operation as an operation of profile `name` (its id goes first over `events`,
/// then its progress); resolves with the report.
#[tauri::command]
pub async fn start_message_ops(
    state: State<'_, AppState>,
    name: String,
    order: MessageOps,
    events: Channel<OperationEvent<OpsProgress>>,
) -> CmdResult<OpsReport> {
    let operation = state.operations.start(&name);
    let _ = events.send(OperationEvent::Started { id: operation.id });
    let request = request(&state, &order)?;
    let source = state.cluster(&name).await.map_err(report)?;
    let target = match &order.target_profile {
        Some(p) if p != &name => Some(state.cluster(p).await.map_err(report)?),
        _ => None,
    };
    ops::run(
        ClusterRef {
            session: source.session().map_err(report)?,
            api: source.api(),
        },
        match &target {
            Some(t) => Some(ClusterRef {
                session: t.session().map_err(report)?,
                api: t.api(),
            }),
            None => None,
        },
        &request,
        operation.cancel.clone(),
        |progress| {
            let _ = events.send(OperationEvent::Progress { progress });
        },
    )
    .await
    .map_err(report)
}
