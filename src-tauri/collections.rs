//! IPC commands of collections: the folders they live in (the app's data folder, or any folder
//! the user opens, such as one in a team's repository), their edits, saving messages into
//! them from an inspection or the composer, import, export, replay and its kept reports.
//! Adapters only: the file format, the folder store, import and replay are warren-core's
//! `collections`. A collection is addressed by its folder (`None`: the app's own) and its
//! file name there; file work runs on the blocking pool, a replay as an operation of the
//! profile it replays on, so `cancel_operation` and leaving that cluster stop it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;
use warren_core::collections::format::{self, timestamp};
use warren_core::collections::{
    import, replay, save, Collection, CollectionStore, CollectionSummary, Entry, ReplayReport,
    ReplayRequest,
};
use warren_core::error::ErrorReport;
use warren_core::inspector::Selection;
use warren_core::message::MessageJson;
use warren_core::publish::PublishProgress;
use warren_core::Error;

use crate::browse::{checked_path, expand_home};
use crate::commands::{report, CmdResult};
use crate::compose::blocking;
use crate::operations::OperationEvent;
use crate::state::AppState;

/// A folder of collections as the UI lists it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CollectionFolder {
    /// The folder's path.
    pub dir: String,
    /// True for the app's own folder.
    pub own: bool,
    pub collections: Vec<CollectionSummary>,
}

/// One change to a collection's messages or header.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum CollectionEdit {
    /// Deletes the messages at `indices` (0-based).
    Remove {
        indices: Vec<u32>,
    },
    /// Inserts a copy of each message right after it.
    Duplicate {
        indices: Vec<u32>,
    },
    /// Moves the messages so that the first lands at `to` (counted without them).
    Move {
        indices: Vec<u32>,
        to: u32,
    },
    /// Replaces message `index` (edited in the composer); when and where it was recorded stay.
    Replace {
        index: u32,
        message: Box<MessageJson>,
    },
    /// The collection's variables, replacing all of them.
    Variables {
        variables: std::collections::BTreeMap<String, String>,
    },
    Describe {
        description: String,
    },
}

/// Where messages saved into a collection go: an existing collection of the folder, or a new
/// one with this name.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum SaveInto {
    Existing { file: String },
    New { name: String },
}

fn store(folder: Option<&str>) -> warren_core::Result<CollectionStore> {
    match folder.map(str::trim).filter(|f| !f.is_empty()) {
        None => CollectionStore::default_location(),
        Some(f) => CollectionStore::open(expand_home(f)),
    }
}

/// Appends `entries` to the collection `into` names (creating a new one), on the blocking pool;
/// what any "save to collection" of messages held in the backend ends with.
pub(crate) async fn save_entries(
    folder: Option<String>,
    into: SaveInto,
    entries: Vec<Entry>,
) -> CmdResult<CollectionSummary> {
    blocking(move || {
        let s = store(folder.as_deref())?;
        match into {
            SaveInto::Existing { file } => s.append(&file, entries),
            SaveInto::New { name } => s.create_with(Collection {
                name,
                messages: entries,
                ..Collection::default()
            }),
        }
    })
    .await
}

/// The collections of `folder` (the app's own when `None`); one that does not parse is listed
/// with its error.
#[tauri::command]
pub async fn list_collections(folder: Option<String>) -> CmdResult<CollectionFolder> {
    blocking(move || {
        let own = folder.as_deref().is_none_or(|f| f.trim().is_empty());
        let s = store(folder.as_deref())?;
        Ok(CollectionFolder {
            dir: s.dir().display().to_string(),
            own,
            collections: s.list()?,
        })
    })
    .await
}

#[tauri::command]
pub async fn create_collection(
    folder: Option<String>,
    name: String,
    description: String,
) -> CmdResult<CollectionSummary> {
    blocking(move || store(folder.as_deref())?.create(&name, &description)).await
}

#[tauri::command]
pub async fn rename_collection(
    folder: Option<String>,
    file: String,
    name: String,
) -> CmdResult<CollectionSummary> {
    blocking(move || store(folder.as_deref())?.rename(&file, &name)).await
}

#[tauri::command]
pub async fn duplicate_collection(
    folder: Option<String>,
    file: String,
    name: String,
) -> CmdResult<CollectionSummary> {
    blocking(move || store(folder.as_deref())?.duplicate(&file, &name)).await
}

/// Deletes the collection and its kept reports.
#[tauri::command]
pub async fn delete_collection(folder: Option<String>, file: String) -> CmdResult<()> {
    blocking(move || store(folder.as_deref())?.delete(&file)).await
}

#[tauri::command]
pub async fn read_collection(folder: Option<String>, file: String) -> CmdResult<Collection> {
    blocking(move || store(folder.as_deref())?.read(&file)).await
}

/// Applies `edit` to the collection and returns it as written. A file that does not parse is
/// left as it is (its error comes back).
#[tauri::command]
pub async fn edit_collection(
    folder: Option<String>,
    file: String,
    edit: CollectionEdit,
) -> CmdResult<Collection> {
    blocking(move || {
        let s = store(folder.as_deref())?;
        s.update(&file, |c| match edit {
            CollectionEdit::Remove { indices } => c.remove_messages(&indices),
            CollectionEdit::Duplicate { indices } => c.duplicate_messages(&indices),
            CollectionEdit::Move { indices, to } => c.move_messages(&indices, to),
            CollectionEdit::Replace { index, message } => {
                c.check_indices(&[index])?;
                let old = &c.messages[index as usize];
                let entry = Entry {
                    message: *message,
                    recorded_at: old.recorded_at.clone(),
                    source: old.source.clone(),
                };
                c.replace_message(index, entry)
            }
            CollectionEdit::Variables { variables } => {
                c.variables = variables;
                Ok(())
            }
            CollectionEdit::Describe { description } => {
                c.description = description;
                Ok(())
            }
        })?;
        s.read(&file)
    })
    .await
}

/// Saves the selected messages of inspection `id` into a collection, each recorded with where
/// it was read (cluster, vhost, queue) and when the peek read it (so that a replay with the
/// original timing keeps the pace it was read at).
#[tauri::command]
pub async fn save_inspection_to_collection(
    state: State<'_, AppState>,
    id: u32,
    selection: Selection,
    folder: Option<String>,
    into: SaveInto,
) -> CmdResult<CollectionSummary> {
    let (profile, vhost, queue) = {
        let all = state.inspections.lock().expect("inspections poisoned");
        let held = all.get(&id).ok_or_else(|| no_inspection(id))?;
        let i = held.inspection.read().expect("inspection poisoned");
        let s = &i.summary;
        (held.profile.clone(), s.vhost.clone(), s.queue.clone())
    };
    let cluster = state.cluster(&profile).await.map_err(report)?;
    let from = save::source(cluster.api(), &vhost, &queue).await;
    let entries: Vec<Entry> = {
        let i = crate::browse::inspection(&state, id)?;
        let i = i.read().expect("inspection poisoned");
        i.select(&selection)
            .map_err(report)?
            .into_iter()
            .map(|m| Entry::from_peeked(m, Some(from.clone())))
            .collect()
    };
    save_entries(folder, into, entries).await
}

/// Saves the selected deliveries of consumer (or tap) `id` into a collection, each recorded
/// with when it arrived (so that a replay with the original timing keeps its pace) and where
/// it was read (a tap's come from Warren's temporary queue: no queue is named).
#[tauri::command]
pub async fn save_consumed_to_collection(
    state: State<'_, AppState>,
    id: u32,
    selection: Selection,
    folder: Option<String>,
    into: SaveInto,
) -> CmdResult<CollectionSummary> {
    let (handle, profile, vhost, queue) = {
        let all = state.consumers.lock().expect("consumers poisoned");
        let held = all
            .get(&id)
            .ok_or_else(|| crate::consume::no_consumer(id))?;
        (
            held.handle.clone(),
            held.profile.clone(),
            held.vhost.clone(),
            held.queue.clone(),
        )
    };
    let cluster = state.cluster(&profile).await.map_err(report)?;
    let mut from = save::source(cluster.api(), &vhost, queue.as_deref().unwrap_or_default()).await;
    from.queue = queue;
    let entries: Vec<Entry> = handle
        .selected(&selection)
        .map_err(report)?
        .iter()
        .map(|m| {
            let at = UNIX_EPOCH + Duration::from_millis(m.received_at_ms);
            Entry::recorded(&m.message, at, Some(from.clone()))
        })
        .collect();
    save_entries(folder, into, entries).await
}

fn no_inspection(id: u32) -> ErrorReport {
    report(Error::invalid(
        "inspection",
        format!("no inspection {id} (it was closed)"),
    ))
}

/// Saves the composer's message (its templates kept as written) into a collection, recorded
/// now; it came from no queue.
#[tauri::command]
pub async fn save_message_to_collection(
    message: MessageJson,
    folder: Option<String>,
    into: SaveInto,
) -> CmdResult<CollectionSummary> {
    let entry = Entry {
        message,
        recorded_at: Some(timestamp(SystemTime::now())),
        source: None,
    };
    save_entries(folder, into, vec![entry]).await
}

/// Imports rabtap's saved messages or the management API's "get messages" reply at `path` as
/// a new collection of `folder`.
#[tauri::command]
pub async fn import_collection(
    folder: Option<String>,
    path: String,
) -> CmdResult<CollectionSummary> {
    blocking(move || {
        let s = store(folder.as_deref())?;
        let imported = import::import(&checked_path(&path)?)?;
        s.create_with(imported)
    })
    .await
}

/// Writes the collection's messages (the `indices` given, else all) to `path` as plain JSON
/// Lines in the message format; resolves to the count. An existing file is replaced only when
/// `overwrite` (the UI asks first).
#[tauri::command]
pub async fn export_collection(
    folder: Option<String>,
    file: String,
    indices: Option<Vec<u32>>,
    path: String,
    overwrite: bool,
) -> CmdResult<u64> {
    blocking(move || {
        let target = checked_path(&path)?;
        warren_core::inspector::check_overwrite(&target, overwrite)?;
        let c = store(folder.as_deref())?.read(&file)?;
        let entries: Vec<&Entry> = match &indices {
            Some(i) => {
                c.check_indices(i)?;
                i.iter().map(|&i| &c.messages[i as usize]).collect()
            }
            None => c.messages.iter().collect(),
        };
        format::export(&target, &entries)
    })
    .await
}

/// A finished replay: its report, and why it could not be kept beside the collection when it
/// could not (the report is shown all the same).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ReplayDone {
    pub report: ReplayReport,
    pub not_kept: Option<ErrorReport>,
}

/// Replays the collection on the open cluster of profile `name` as an operation of that
/// profile (its id goes first over `events`, then its progress), keeps the report beside the
/// collection and resolves with it, also when cancelled (the report says how far it got).
#[tauri::command]
pub async fn replay_collection(
    state: State<'_, AppState>,
    name: String,
    folder: Option<String>,
    file: String,
    request: ReplayRequest,
    events: Channel<OperationEvent<PublishProgress>>,
) -> CmdResult<ReplayDone> {
    let operation = state.operations.start(&name);
    let _ = events.send(OperationEvent::Started { id: operation.id });
    let (folder_, file_) = (folder.clone(), file.clone());
    let plan = blocking(move || {
        let c = store(folder_.as_deref())?.read(&file_)?;
        replay::plan(&c, &request)
    })
    .await?;
    let cluster = state.cluster(&name).await.map_err(report)?;
    let result = replay::run(
        cluster.session().map_err(report)?,
        cluster.api(),
        &plan,
        operation.cancel.clone(),
        |progress| {
            let _ = events.send(OperationEvent::Progress { progress });
        },
    )
    .await
    .map_err(report)?;
    let kept = result.clone();
    let not_kept = blocking(move || store(folder.as_deref())?.keep_report(&file, &kept))
        .await
        .err();
    Ok(ReplayDone {
        report: result,
        not_kept,
    })
}

/// The kept reports of the collection's last replays, oldest first.
#[tauri::command]
pub async fn collection_reports(
    folder: Option<String>,
    file: String,
) -> CmdResult<Vec<ReplayReport>> {
    blocking(move || store(folder.as_deref())?.reports(&file)).await
}
