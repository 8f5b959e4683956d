//! Connections of an open cluster, for the operator view: who is connected (with their
//! channels' prefetch and unacknowledged counts folded in by the core), and closing one with a
//! reason its client receives. Both read and act through the management API only.

use tauri::State;
use warren_core::connections::{self, ConnectionRow};

use crate::commands::{report, CmdResult};
use crate::state::AppState;

#[tauri::command]
pub async fn list_connections(
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Vec<ConnectionRow>> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    connections::list(cluster.api()).await.map_err(report)
}

/// Closes `connection` (the broker's name for it) with `reason`; returns the name closed.
#[tauri::command]
pub async fn close_connection(
    state: State<'_, AppState>,
    name: String,
    connection: String,
    reason: String,
) -> CmdResult<String> {
    // A bad reason is refused before the cluster is asked anything.
    connections::check_reason(&reason).map_err(report)?;
    let cluster = state.cluster(&name).await.map_err(report)?;
    connections::close(cluster.api(), &connection, &reason)
        .await
        .map_err(report)
}
