//! IPC commands. Each is declared once here and listed in [`handler`]; their argument and
//! result types are generated into `ui/src/lib/bindings` by ts-rs, and `ui/src/lib/backend.ts`
//! is the only UI module that calls them (a test holds the two lists together). Errors cross
//! as `{kind, message, field?}` ([`ErrorReport`]); passwords travel only from the UI to the
//! keychain, never back. Long operations report over a channel of
//! [`OperationEvent`](crate::operations::OperationEvent)s and are cancelled by the id it
//! gives first.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use warren_core::error::ErrorReport;
use warren_core::profiles::saved;
use warren_core::profiles::Profile;
use warren_core::status::{ClusterStatus, EndpointStatus};
use warren_core::{cluster, Error};

use crate::state::AppState;

pub(crate) type CmdResult<T> = Result<T, ErrorReport>;

pub(crate) fn report(e: Error) -> ErrorReport {
    ErrorReport::from(&e)
}

/// A saved profile as the UI sees it: the profile and whether the keychain holds its password.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ProfileEntry {
    pub profile: Profile,
    pub has_password: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    pub profiles_file: String,
}

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_info,
        list_profiles,
        save_profile,
        delete_profile,
        test_profile,
        cluster_status,
        close_cluster,
        release_cluster,
        cancel_operation,
        crate::browse::list_queues,
        crate::browse::queue_detail,
        crate::browse::queue_history,
        crate::browse::purge_queue,
        crate::browse::list_exchanges,
        crate::browse::list_bindings,
        crate::browse::topology,
        crate::browse::plan_peek,
        crate::browse::start_peek,
        crate::browse::filter_inspection,
        crate::browse::inspection_rows,
        crate::browse::inspection_message,
        crate::browse::inspection_body,
        crate::browse::save_inspection_body,
        crate::browse::save_messages,
        crate::browse::suggest_save_path,
        crate::browse::close_inspection,
        crate::compose::preview_publish,
        crate::compose::publish,
        crate::compose::read_message_file,
        crate::consume::start_consumer,
        crate::consume::start_tap,
        crate::consume::stop_consumer,
        crate::consume::resume_consumer,
        crate::consume::settle_deliveries,
        crate::consume::settle_up_to,
        crate::consume::consumer_rows,
        crate::consume::consumer_message,
        crate::consume::consumer_body,
        crate::consume::save_consumed,
        crate::consume::close_consumer,
        crate::ops::plan_message_ops,
        crate::ops::start_message_ops,
        crate::collections::list_collections,
        crate::collections::create_collection,
        crate::collections::rename_collection,
        crate::collections::duplicate_collection,
        crate::collections::delete_collection,
        crate::collections::read_collection,
        crate::collections::edit_collection,
        crate::collections::save_inspection_to_collection,
        crate::collections::save_message_to_collection,
        crate::collections::save_consumed_to_collection,
        crate::collections::import_collection,
        crate::collections::export_collection,
        crate::collections::replay_collection,
        crate::collections::collection_reports,
        crate::connections::list_connections,
        crate::connections::close_connection,
        crate::watch::watch_overview,
        crate::watch::save_watch_rule,
        crate::watch::delete_watch_rule,
        crate::watch::set_cluster_watch,
        crate::watch::watch_alerts,
        crate::watch::clear_watch_alerts,
    ]
}

#[tauri::command]
fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        profiles_file: state.profiles.path().display().to_string(),
    }
}

#[tauri::command]
async fn list_profiles(state: State<'_, AppState>) -> CmdResult<Vec<ProfileEntry>> {
    let profiles = state.profiles.list().map_err(report)?;
    let mut entries = Vec::with_capacity(profiles.len());
    for profile in profiles {
        let has_password = state
            .keychain
            .password(&profile.name)
            .await
            .map_err(report)?
            .is_some();
        entries.push(ProfileEntry {
            profile,
            has_password,
        });
    }
    Ok(entries)
}

/// Saves `profile`, replacing the profile called `replacing` when editing (a rename moves
/// the password). `password: None` keeps the stored password.
#[tauri::command]
async fn save_profile(
    state: State<'_, AppState>,
    profile: Profile,
    password: Option<String>,
    replacing: Option<String>,
) -> CmdResult<ProfileEntry> {
    saved::save(
        &state.profiles,
        &state.keychain,
        &profile,
        password.as_deref(),
        replacing.as_deref(),
    )
    .await
    .map_err(report)?;
    if let Some(old_name) = &replacing {
        state.close(old_name).await;
    }
    state.close(&profile.name).await;
    Ok(ProfileEntry {
        profile,
        has_password: true,
    })
}

#[tauri::command]
async fn delete_profile(state: State<'_, AppState>, name: String) -> CmdResult<()> {
    state.close(&name).await;
    saved::delete(&state.profiles, &state.keychain, &name)
        .await
        .map_err(report)
}

/// Tries every node of a profile, saved or being edited. Without a password the stored one
/// (of `stored_as`, else of the profile's name) is used.
#[tauri::command]
async fn test_profile(
    state: State<'_, AppState>,
    profile: Profile,
    password: Option<String>,
    stored_as: Option<String>,
) -> CmdResult<Vec<EndpointStatus>> {
    let target = saved::test_target(
        &state.profiles,
        &state.keychain,
        &profile,
        password.as_deref(),
        stored_as.as_deref(),
    )
    .await
    .map_err(report)?;
    cluster::test_endpoints(&target).await.map_err(report)
}

#[tauri::command]
async fn cluster_status(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    name: String,
    links: bool,
) -> CmdResult<ClusterStatus> {
    let cluster = state.cluster(&name).await.map_err(report)?;
    let status = cluster.status(links).await.map_err(report)?;
    // A status the UI asked for is also the watch's health reading of this cluster.
    crate::watch::status_read(&app, &name, &status);
    Ok(status)
}

#[tauri::command]
async fn close_cluster(state: State<'_, AppState>, name: String) -> CmdResult<()> {
    state.close(&name).await;
    Ok(())
}

/// The UI left the cluster of profile `name`: cancels the operations it started there and
/// frees the inspections of its queues.
#[tauri::command]
fn release_cluster(state: State<'_, AppState>, name: String) {
    state.release(&name);
}

/// Cancels operation `id` (a peek, a publish); nothing when it already ended.
#[tauri::command]
fn cancel_operation(state: State<'_, AppState>, id: u32) {
    state.operations.cancel(id);
}
