// The one door to the Rust side. No other module imports `@tauri-apps/*` (a test checks it):
// components call these typed functions, and every rejection arrives as a `BackendError`.
// Long operations (peek, publish) report `started` with their id, then progress, over a
// channel; `cancelOperation(id)` stops any of them (see shared/operation.svelte.ts).
//
// Argument names are camelCase, as Tauri 2 expects; it maps them to the commands' snake_case
// parameters (`storedAs` -> `stored_as`). Passwords only ever travel from here to the backend.

import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { open as openDialog, save as saveDialog } from '@tauri-apps/plugin-dialog';

import type { Alert } from './bindings/Alert';
import type { AppInfo } from './bindings/AppInfo';
import type { BindingRow } from './bindings/BindingRow';
import type { BodyChunk } from './bindings/BodyChunk';
import type { ClusterStatus } from './bindings/ClusterStatus';
import type { ConnectionRow } from './bindings/ConnectionRow';
import type { ConsumedDetail } from './bindings/ConsumedDetail';
import type { ConsumedRow } from './bindings/ConsumedRow';
import type { ConsumeRequest } from './bindings/ConsumeRequest';
import type { ConsumerEvent } from './bindings/ConsumerEvent';
import type { Collection } from './bindings/Collection';
import type { CollectionEdit } from './bindings/CollectionEdit';
import type { CollectionFolder } from './bindings/CollectionFolder';
import type { CollectionSummary } from './bindings/CollectionSummary';
import type { EndpointStatus } from './bindings/EndpointStatus';
import type { ErrorKind } from './bindings/ErrorKind';
import type { ErrorReport } from './bindings/ErrorReport';
import type { ExchangeRow } from './bindings/ExchangeRow';
import type { InspectionSummary } from './bindings/InspectionSummary';
import type { InspectionView } from './bindings/InspectionView';
import type { Message } from './bindings/Message';
import type { MessageDetail } from './bindings/MessageDetail';
import type { MessageFilter } from './bindings/MessageFilter';
import type { MessageOps } from './bindings/MessageOps';
import type { MessageRow } from './bindings/MessageRow';
import type { OperationEvent } from './bindings/OperationEvent';
import type { OpsPlan } from './bindings/OpsPlan';
import type { OpsProgress } from './bindings/OpsProgress';
import type { OpsReport } from './bindings/OpsReport';
import type { PeekPlan } from './bindings/PeekPlan';
import type { PeekProgress } from './bindings/PeekProgress';
import type { PeekRequest } from './bindings/PeekRequest';
import type { Profile } from './bindings/Profile';
import type { ProfileEntry } from './bindings/ProfileEntry';
import type { PublishProgress } from './bindings/PublishProgress';
import type { PublishRequest } from './bindings/PublishRequest';
import type { PublishSummary } from './bindings/PublishSummary';
import type { PurgeResult } from './bindings/PurgeResult';
import type { QueueDetail } from './bindings/QueueDetail';
import type { QueueHistory } from './bindings/QueueHistory';
import type { QueuePage } from './bindings/QueuePage';
import type { QueueQuery } from './bindings/QueueQuery';
import type { ReplayDone } from './bindings/ReplayDone';
import type { ReplayReport } from './bindings/ReplayReport';
import type { ReplayRequest } from './bindings/ReplayRequest';
import type { SaveInto } from './bindings/SaveInto';
import type { Selection } from './bindings/Selection';
import type { Settle } from './bindings/Settle';
import type { SettleReport } from './bindings/SettleReport';
import type { StopReport } from './bindings/StopReport';
import type { TapRequest } from './bindings/TapRequest';
import type { Topology } from './bindings/Topology';
import type { TopologyFocus } from './bindings/TopologyFocus';
import type { WatchOverview } from './bindings/WatchOverview';
import type { WatchRule } from './bindings/WatchRule';

/** Every ErrorKind, checked against the generated union in both directions. */
const ERROR_KINDS = {
  invalid_input: true,
  not_found: true,
  already_exists: true,
  config: true,
  password_missing: true,
  keychain: true,
  auth: true,
  access_refused: true,
  unreachable: true,
  timeout: true,
  http: true,
  protocol: true,
  unavailable: true,
  tls: true,
  needs_consent: true,
  conflict: true,
  file: true,
  cancelled: true,
} as const satisfies Record<ErrorKind, true>;

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_KINDS, value);
}

/**
 * A failed backend call: the Rust side's `{kind, message, field?}`, or an IPC failure mapped to
 * one. `field` names the input the error is about (a form shows it there); the message is for
 * people and is never parsed.
 */
export class BackendError extends Error {
  readonly kind: ErrorKind;
  readonly field?: string;

  constructor(kind: ErrorKind, message: string, field?: string) {
    super(message);
    this.name = 'BackendError';
    this.kind = kind;
    if (field !== undefined) this.field = field;
  }

  toReport(): ErrorReport {
    return this.field === undefined
      ? { kind: this.kind, message: this.message }
      : { kind: this.kind, message: this.message, field: this.field };
  }
}

function isErrorReport(value: unknown): value is ErrorReport {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const field = v['field'];
  return isErrorKind(v['kind']) && typeof v['message'] === 'string' && (field === undefined || typeof field === 'string');
}

/** Turns whatever `invoke` rejected with into a BackendError. */
export function toBackendError(reason: unknown): BackendError {
  if (reason instanceof BackendError) return reason;
  if (isErrorReport(reason)) return new BackendError(reason.kind, reason.message, reason.field);
  if (typeof reason === 'string') {
    // Tauri itself rejects with a bare string (unknown command, bad arguments, ...).
    return new BackendError('protocol', `the app's backend refused the call: ${reason}`);
  }
  if (reason instanceof TypeError && !hasTauri()) {
    return new BackendError(
      'unavailable',
      'the Warren backend is not available: this page must run inside the Warren app',
    );
  }
  const message = reason instanceof Error ? reason.message : String(reason);
  return new BackendError('protocol', `unexpected failure of a backend call: ${message}`);
}

function hasTauri(): boolean {
  return typeof globalThis === 'object' && '__TAURI_INTERNALS__' in globalThis;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw toBackendError(reason);
  }
}

export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>('app_info');
}

export function listProfiles(): Promise<ProfileEntry[]> {
  return call<ProfileEntry[]>('list_profiles');
}

/**
 * Saves a profile. `replacing` is the profile's current name when editing (a rename moves the
 * stored password), null when adding. A null or empty `password` keeps the stored one.
 */
export function saveProfile(
  profile: Profile,
  password: string | null,
  replacing: string | null,
): Promise<ProfileEntry> {
  return call<ProfileEntry>('save_profile', { profile, password, replacing });
}

export function deleteProfile(name: string): Promise<void> {
  return call<void>('delete_profile', { name });
}

/**
 * Tries every node of a profile, saved or not. Without a password, the one stored for
 * `storedAs` (the saved name of the profile being edited) is used.
 */
export function testProfile(
  profile: Profile,
  password: string | null,
  storedAs: string | null,
): Promise<EndpointStatus[]> {
  return call<EndpointStatus[]>('test_profile', { profile, password, storedAs });
}

/** The cluster's status; the first call opens its AMQP links, which stay open. */
/**
 * The cluster's status. With `links`, Warren's AMQP links to its nodes are part of it (started
 * if they were not); without (the Home cards), the management API alone is asked.
 */
export function clusterStatus(name: string, links: boolean): Promise<ClusterStatus> {
  return call<ClusterStatus>('cluster_status', { name, links });
}

/** Closes the cluster's AMQP links; the next `clusterStatus` opens them anew. */
export function closeCluster(name: string): Promise<void> {
  return call<void>('close_cluster', { name });
}

/**
 * The UI left cluster `name` (its workspace closed): the backend cancels every operation
 * started on it and frees every inspection of it.
 */
export function releaseCluster(name: string): Promise<void> {
  return call<void>('release_cluster', { name });
}

// ---------------------------------------------------------------------------------------------
// Long operations. Each reports `started` with an id unique in the app, then its progress.

/** What a caller of a long operation hears while it runs. */
export interface OperationHandlers<P> {
  /** The backend's id of the operation, first of all its events: what `cancelOperation` takes. */
  onStarted: (id: number) => void;
  onProgress: (progress: P) => void;
}

function operationChannel<P>(handlers: OperationHandlers<P>): Channel<OperationEvent<P>> {
  const events = new Channel<OperationEvent<P>>();
  events.onmessage = (e) => {
    if (e.event === 'started') handlers.onStarted(e.id);
    else handlers.onProgress(e.progress);
  };
  return events;
}

/** Cancels a running operation by its id; a no-op when it already ended. */
export function cancelOperation(id: number): Promise<void> {
  return call<void>('cancel_operation', { id });
}

// ---------------------------------------------------------------------------------------------
// Browse: queues, exchanges, bindings. `name` is always the profile's name.

/** One page of queues, sorted and filtered by the management API. */
/** The cluster's client connections, with their channels' prefetch and unacked counts. */
export function listConnections(name: string): Promise<ConnectionRow[]> {
  return call<ConnectionRow[]>('list_connections', { name });
}

/** Closes a connection (the broker's name for it); its client receives `reason`. */
export function closeConnection(name: string, connection: string, reason: string): Promise<string> {
  return call<string>('close_connection', { name, connection, reason });
}

export function listQueues(name: string, query: QueueQuery): Promise<QueuePage> {
  return call<QueuePage>('list_queues', { name, query });
}

export function queueDetail(name: string, vhost: string, queue: string): Promise<QueueDetail> {
  return call<QueueDetail>('queue_detail', { name, vhost, queue });
}

/** A queue's depth and rates over time: the broker's samples, or the history the backend keeps while the cluster is open. */
export function queueHistory(name: string, vhost: string, queue: string): Promise<QueueHistory> {
  return call<QueueHistory>('queue_history', { name, vhost, queue });
}

/** Removes every ready message of the queue. The UI asks for the typed queue name first. */
export function purgeQueue(name: string, vhost: string, queue: string): Promise<PurgeResult> {
  return call<PurgeResult>('purge_queue', { name, vhost, queue });
}

/** Exchanges of `vhost` (all vhosts when null). */
export function listExchanges(name: string, vhost: string | null): Promise<ExchangeRow[]> {
  return call<ExchangeRow[]>('list_exchanges', { name, vhost });
}

/** Bindings of `vhost` (all vhosts when null), the default exchange's implicit ones left out. */
export function listBindings(name: string, vhost: string | null): Promise<BindingRow[]> {
  return call<BindingRow[]>('list_bindings', { name, vhost });
}

/** The routing graph around one exchange or queue. */
export function topology(name: string, vhost: string, focus: TopologyFocus): Promise<Topology> {
  return call<Topology>('topology', { name, vhost, focus });
}

// ---------------------------------------------------------------------------------------------
// Peek and the message inspector. The messages stay in the backend; the UI asks for rows.

/** What a peek of this queue will do and change, before it runs. */
export function planPeek(name: string, request: PeekRequest): Promise<PeekPlan> {
  return call<PeekPlan>('plan_peek', { name, request });
}

/**
 * Runs a peek and keeps its messages in the backend as an inspection (the summary's `id` is
 * the inspection's, not the operation's). Rejects with kind `needs_consent` when the plan has
 * side effects and `request.allow_side_effects` is false, and with kind `cancelled` when
 * cancelled (what it held goes back to the queue).
 */
export function startPeek(
  name: string,
  request: PeekRequest,
  handlers: OperationHandlers<PeekProgress>,
): Promise<InspectionSummary> {
  return call<InspectionSummary>('start_peek', { name, request, events: operationChannel(handlers) });
}

/** Sets the inspection's filter; rows and indices then refer to the filtered view. */
export function filterInspection(id: number, filter: MessageFilter): Promise<InspectionView> {
  return call<InspectionView>('filter_inspection', { id, filter });
}

/** Rows `start .. start+count` of the current view, with the values of `headers`. */
export function inspectionRows(
  id: number,
  start: number,
  count: number,
  headers: string[],
): Promise<MessageRow[]> {
  return call<MessageRow[]>('inspection_rows', { id, start, count, headers });
}

/** One message of the current view in full. */
export function inspectionMessage(id: number, index: number): Promise<MessageDetail> {
  return call<MessageDetail>('inspection_message', { id, index });
}

/**
 * Bytes `offset .. offset+length` of one message's body (a detail carries only its first part:
 * `body_shown` of `size` bytes).
 */
export function inspectionBody(id: number, index: number, offset: number, length: number): Promise<BodyChunk> {
  return call<BodyChunk>('inspection_body', { id, index, offset, length });
}

/**
 * Writes one message's body, as it is, to `path`. Rejects with kind `already_exists` when the
 * file exists and `overwrite` is false: ask the user, then call again with `overwrite`.
 */
export function saveInspectionBody(id: number, index: number, path: string, overwrite: boolean): Promise<number> {
  return call<number>('save_inspection_body', { id, index, path, overwrite });
}

/**
 * Writes the selected messages as JSON Lines in the message format; resolves to the count.
 * Rejects with kind `already_exists` when the file exists and `overwrite` is false.
 */
export function saveMessages(id: number, selection: Selection, path: string, overwrite = false): Promise<number> {
  return call<number>('save_messages', { id, selection, path, overwrite });
}

/** A suggested file path for saving messages of `queue` (nothing is created). */
export function suggestSavePath(queue: string): Promise<string> {
  return call<string>('suggest_save_path', { queue });
}

export function closeInspection(id: number): Promise<void> {
  return call<void>('close_inspection', { id });
}

// ---------------------------------------------------------------------------------------------
// Message operations on an inspection's messages: delete, move, copy, send dead letters back.

/** What the operation would do: how many, where, and what giving held messages back changes. */
export function planMessageOps(name: string, order: MessageOps): Promise<OpsPlan> {
  return call<OpsPlan>('plan_message_ops', { name, order });
}

/**
 * Runs the operation. Rejects with kind `conflict` when the queue no longer holds the selected
 * messages as peeked (nothing changed), `needs_consent` when the plan is not harmless and
 * `order.allow_side_effects` is false, `not_found` when the target does not exist.
 */
export function startMessageOps(
  name: string,
  order: MessageOps,
  handlers: OperationHandlers<OpsProgress>,
): Promise<OpsReport> {
  return call<OpsReport>('start_message_ops', { name, order, events: operationChannel(handlers) });
}

// ---------------------------------------------------------------------------------------------
// Compose and publish.

/**
 * Renders the first `count` messages of a publish request (templates applied) without
 * sending anything. Rejects with kind `invalid_input` and the `field` of the input at fault.
 */
export function previewPublish(request: PublishRequest, count: number): Promise<Message[]> {
  return call<Message[]>('preview_publish', { request, count });
}

/**
 * Publishes with confirms; resolves with the summary once every message has an outcome, also
 * when cancelled (it stops sending; messages already sent still get their outcome).
 */
export function publish(
  name: string,
  request: PublishRequest,
  handlers: OperationHandlers<PublishProgress>,
): Promise<PublishSummary> {
  return call<PublishSummary>('publish', { name, request, events: operationChannel(handlers) });
}

/** Reads one message, or JSON Lines of messages, in the message format from a file. */
export function readMessageFile(path: string): Promise<Message[]> {
  return call<Message[]>('read_message_file', { path });
}

// ---------------------------------------------------------------------------------------------
// Consumers and taps. A consumer runs as an operation: its id (from `onStarted`) names it in
// every call below; its events arrive in batches (about every 50 ms) as its progress. The
// deliveries stay in the backend until `closeConsumer`; the UI asks for rows as it shows them.

/**
 * Consumes a queue until stopped (`stopConsumer`, `cancelOperation`, or leaving the cluster);
 * resolves with what the stop gave back. Rejects when the consumer cannot start (no such
 * queue, exclusive consumer refused, ...).
 */
export function startConsumer(
  name: string,
  request: ConsumeRequest,
  handlers: OperationHandlers<ConsumerEvent[]>,
): Promise<StopReport> {
  return call<StopReport>('start_consumer', { name, request, events: operationChannel(handlers) });
}

/** Taps an exchange through a temporary queue of Warren's (removed when the tap stops). */
export function startTap(
  name: string,
  request: TapRequest,
  handlers: OperationHandlers<ConsumerEvent[]>,
): Promise<StopReport> {
  return call<StopReport>('start_tap', { name, request, events: operationChannel(handlers) });
}

/** Stops consumer `id`: it cancels, gives back what it holds unsettled and reports it. */
export function stopConsumer(id: number): Promise<StopReport> {
  return call<StopReport>('stop_consumer', { id });
}

/** Consumes again after a lost channel, a broker's cancel or a pause (on a healthy node). */
export function resumeConsumer(id: number): Promise<void> {
  return call<void>('resume_consumer', { id });
}

/** Settles the selected deliveries of the consumer's view (stale and settled ones are skipped). */
export function settleDeliveries(id: number, selection: Selection, how: Settle): Promise<SettleReport> {
  return call<SettleReport>('settle_deliveries', { id, selection, how });
}

/** Settles every unsettled delivery of the current channel up to and including `seq`. */
export function settleUpTo(id: number, seq: number, how: Settle): Promise<SettleReport> {
  return call<SettleReport>('settle_up_to', { id, seq, how });
}

/** Rows `start .. start+count` of the consumer's view, with the values of `headers`. */
export function consumerRows(id: number, start: number, count: number, headers: string[]): Promise<ConsumedRow[]> {
  return call<ConsumedRow[]>('consumer_rows', { id, start, count, headers });
}

/** One delivery of the consumer's view in full. */
export function consumerMessage(id: number, index: number): Promise<ConsumedDetail> {
  return call<ConsumedDetail>('consumer_message', { id, index });
}

/** Bytes `offset .. offset+length` of one delivery's body (see `inspectionBody`). */
export function consumerBody(id: number, index: number, offset: number, length: number): Promise<BodyChunk> {
  return call<BodyChunk>('consumer_body', { id, index, offset, length });
}

/**
 * Writes the selected deliveries as JSON Lines in the message format; resolves to the count.
 * Rejects with kind `already_exists` when the file exists and `overwrite` is false.
 */
export function saveConsumed(id: number, selection: Selection, path: string, overwrite = false): Promise<number> {
  return call<number>('save_consumed', { id, selection, path, overwrite });
}

/** Frees what the consumer held (its tab closed); stops it first if it still runs. */
export function closeConsumer(id: number): Promise<void> {
  return call<void>('close_consumer', { id });
}

// Collections. `folder` is the folder a collection lives in (null: the app's own data folder);
// `file` its file name there.

/** The collections of `folder` (the app's own when null); a broken file is listed with its error. */
export function listCollections(folder: string | null): Promise<CollectionFolder> {
  return call<CollectionFolder>('list_collections', { folder });
}

export function createCollection(folder: string | null, name: string, description: string): Promise<CollectionSummary> {
  return call<CollectionSummary>('create_collection', { folder, name, description });
}

/** Renames the collection; its file (and kept reports) take the new name's. */
export function renameCollection(folder: string | null, file: string, name: string): Promise<CollectionSummary> {
  return call<CollectionSummary>('rename_collection', { folder, file, name });
}

export function duplicateCollection(folder: string | null, file: string, name: string): Promise<CollectionSummary> {
  return call<CollectionSummary>('duplicate_collection', { folder, file, name });
}

/** Deletes the collection and its kept reports. */
export function deleteCollection(folder: string | null, file: string): Promise<void> {
  return call<void>('delete_collection', { folder, file });
}

export function readCollection(folder: string | null, file: string): Promise<Collection> {
  return call<Collection>('read_collection', { folder, file });
}

/** Changes the collection (messages, variables, description); resolves to it as written. */
export function editCollection(folder: string | null, file: string, edit: CollectionEdit): Promise<Collection> {
  return call<Collection>('edit_collection', { folder, file, edit });
}

/** Saves messages of an inspection (a peek's) into a collection, with where they came from. */
export function saveInspectionToCollection(
  id: number,
  selection: Selection,
  folder: string | null,
  into: SaveInto,
): Promise<CollectionSummary> {
  return call<CollectionSummary>('save_inspection_to_collection', { id, selection, folder, into });
}

/** Saves deliveries of a consumer or tap into a collection, each with when it arrived and where from. */
export function saveConsumedToCollection(
  id: number,
  selection: Selection,
  folder: string | null,
  into: SaveInto,
): Promise<CollectionSummary> {
  return call<CollectionSummary>('save_consumed_to_collection', { id, selection, folder, into });
}

/** Saves one message (the composer's, templates as written) into a collection. */
export function saveMessageToCollection(message: Message, folder: string | null, into: SaveInto): Promise<CollectionSummary> {
  return call<CollectionSummary>('save_message_to_collection', { message, folder, into });
}

/** Imports rabtap's saved messages or the management API's "get messages" JSON as a new collection. */
export function importCollection(folder: string | null, path: string): Promise<CollectionSummary> {
  return call<CollectionSummary>('import_collection', { folder, path });
}

/**
 * Writes the collection's messages (`indices`, else all) as JSON Lines; resolves to the count.
 * Rejects with kind `already_exists` when the file exists and `overwrite` is false.
 */
export function exportCollection(
  folder: string | null,
  file: string,
  indices: number[] | null,
  path: string,
  overwrite = false,
): Promise<number> {
  return call<number>('export_collection', { folder, file, indices, path, overwrite });
}

/**
 * Replays the collection on profile `name` with confirms and mandatory; resolves with the
 * report once every message has an outcome, also when cancelled (the report says how far it
 * got). The report is kept beside the collection (`not_kept` says why when it could not be).
 */
export function replayCollection(
  name: string,
  folder: string | null,
  file: string,
  request: ReplayRequest,
  handlers: OperationHandlers<PublishProgress>,
): Promise<ReplayDone> {
  return call<ReplayDone>('replay_collection', { name, folder, file, request, events: operationChannel(handlers) });
}

/** The kept reports of the collection's last replays, oldest first. */
export function collectionReports(folder: string | null, file: string): Promise<ReplayReport[]> {
  return call<ReplayReport[]>('collection_reports', { folder, file });
}

// ---------------------------------------------------------------------------------------------
// Watch rules and alerts: the backend takes the readings and raises the alerts (also as desktop
// notifications); the UI sets the rules and lists the alerts.

/** The watch settings (health switches, rules) and each rule's last reading. */
export function watchOverview(): Promise<WatchOverview> {
  return call<WatchOverview>('watch_overview', {});
}

/** Saves a new rule (`id` 0) or changes a saved one; resolves with the rule as saved. */
export function saveWatchRule(rule: WatchRule): Promise<WatchRule> {
  return call<WatchRule>('save_watch_rule', { rule });
}

export function deleteWatchRule(id: number): Promise<void> {
  return call<void>('delete_watch_rule', { id });
}

/** Switches health notifications of a saved cluster on or off (off unless switched on). */
export function setClusterWatch(profile: string, health: boolean): Promise<WatchOverview> {
  return call<WatchOverview>('set_cluster_watch', { profile, health });
}

/** The alerts raised since the app started (the last hundred), oldest first. */
export function watchAlerts(): Promise<Alert[]> {
  return call<Alert[]>('watch_alerts', {});
}

export function clearWatchAlerts(): Promise<void> {
  return call<void>('clear_watch_alerts', {});
}

/** Calls `onAlert` with each alert the backend raises; resolves with the unsubscribe. */
export async function onWatchAlert(onAlert: (alert: Alert) => void): Promise<() => void> {
  return listen<Alert>('watch-alert', (event) => onAlert(event.payload));
}

// ---------------------------------------------------------------------------------------------
// The system's own file dialogs. They only pick a path; the commands above read and write it,
// so a path typed by hand works the same way. Each resolves to null when the person cancels.

/** A named group of file extensions a dialog offers (without the dot). */
export interface FileKind {
  name: string;
  extensions: string[];
}

/** JSON Lines and JSON: message files, saved messages, collections. */
export const MESSAGE_FILES: FileKind[] = [
  { name: 'JSON Lines or JSON', extensions: ['jsonl', 'ndjson', 'json'] },
  { name: 'All files', extensions: ['*'] },
];

/** PEM files: CA bundles, client certificates and keys. */
export const PEM_FILES: FileKind[] = [
  { name: 'PEM', extensions: ['pem', 'crt', 'cer', 'key'] },
  { name: 'All files', extensions: ['*'] },
];

async function dialog<T>(show: () => Promise<T>): Promise<T> {
  try {
    return await show();
  } catch (reason) {
    throw toBackendError(reason);
  }
}

/** Asks for an existing file to open; `near` is a path whose folder the dialog starts in. */
export function chooseFile(title: string, kinds: FileKind[], near: string | null = null): Promise<string | null> {
  return dialog(() =>
    openDialog({ title, filters: kinds, multiple: false, directory: false, ...(near ? { defaultPath: near } : {}) }),
  );
}

/** Asks for a folder (to open collections from). */
export function chooseFolder(title: string, near: string | null = null): Promise<string | null> {
  return dialog(() => openDialog({ title, multiple: false, directory: true, ...(near ? { defaultPath: near } : {}) }));
}

/** Asks where to save a file; `suggested` is the path (or name) offered first. */
export function chooseSavePath(title: string, kinds: FileKind[], suggested: string | null = null): Promise<string | null> {
  return dialog(() => saveDialog({ title, filters: kinds, ...(suggested ? { defaultPath: suggested } : {}) }));
}
