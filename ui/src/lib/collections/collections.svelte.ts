// The Collections view's controller: the folders (the app's own and those the person opened),
// their collections, the one open with its messages, variables, replay and kept reports, and
// the actions on them. Every change goes to the backend, which rewrites the file; the view
// shows the collection as written.

import {
  collectionReports,
  createCollection,
  deleteCollection,
  duplicateCollection,
  editCollection,
  exportCollection,
  importCollection,
  listCollections,
  readCollection,
  renameCollection,
  replayCollection,
  toBackendError,
} from '../backend';
import type { Collection } from '../bindings/Collection';
import type { CollectionEdit } from '../bindings/CollectionEdit';
import type { CollectionFolder } from '../bindings/CollectionFolder';
import type { ErrorReport } from '../bindings/ErrorReport';
import type { PublishProgress } from '../bindings/PublishProgress';
import type { ReplayDone } from '../bindings/ReplayDone';
import type { ReplayReport } from '../bindings/ReplayReport';
import { Operation } from '../shared/operation.svelte';
import {
  compileReplay,
  emptyReplayForm,
  loadFolders,
  newVariableRow,
  rowsToVariables,
  saveFolders,
  shiftTarget,
  variableRows,
  withFolder,
  type ReplayForm,
  type VariableRow,
} from './collectionsModel';

/** A collection's address: its folder (null: the app's own) and file name. */
export interface CollectionRef {
  folder: string | null;
  file: string;
}

/** A folder's listing, or why it could not be listed. */
export interface FolderState {
  folder: string | null;
  listing: CollectionFolder | null;
  error: ErrorReport | null;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export class CollectionsController {
  /** Folders the person opened (the app's own is always listed first). */
  opened = $state<string[]>(loadFolders(storage()));
  folders = $state<FolderState[]>([]);

  current = $state<CollectionRef | null>(null);
  collection = $state<Collection | null>(null);
  collectionError = $state<ErrorReport | null>(null);
  /** Ticked messages (0-based indices). */
  checked = $state<number[]>([]);

  busy = $state(false);
  /** The last action's failure, shown above the collection. */
  actionError = $state<ErrorReport | null>(null);
  /** The last action's success, for a status line. */
  notice = $state<string | null>(null);

  variables = $state<VariableRow[]>([]);
  readonly variablesCheck = $derived(rowsToVariables(this.variables));
  variablesDirty = $state(false);

  replayForm = $state<ReplayForm>(emptyReplayForm());
  /** Only the ticked messages, else all. */
  replaySelected = $state(false);
  readonly compiledReplay = $derived(
    compileReplay(this.replayForm, this.replaySelected ? this.checked : null, {}),
  );
  readonly replayRun = new Operation<PublishProgress, ReplayDone>();
  /** The messages the report on show replayed, in sending order. */
  replayedIndices = $state<number[] | null>(null);
  reports = $state<ReplayReport[]>([]);
  reportsError = $state<ErrorReport | null>(null);
  /** The report on show: the last run's, or a kept one picked. */
  shownReport = $state<ReplayReport | null>(null);

  readonly #seq = { read: 0 };

  dispose(): void {
    this.replayRun.dispose();
  }

  // ---- folders ----

  async refreshAll(): Promise<void> {
    const all: (string | null)[] = [null, ...this.opened];
    const states = await Promise.all(all.map((f) => this.#list(f)));
    this.folders = states;
  }

  async #list(folder: string | null): Promise<FolderState> {
    try {
      return { folder, listing: await listCollections(folder), error: null };
    } catch (e) {
      return { folder, listing: null, error: toBackendError(e).toReport() };
    }
  }

  async refreshFolder(folder: string | null): Promise<void> {
    const state = await this.#list(folder);
    const i = this.folders.findIndex((f) => f.folder === folder);
    if (i >= 0) this.folders[i] = state;
    else this.folders.push(state);
  }

  async openFolder(path: string): Promise<boolean> {
    const folder = path.trim();
    if (folder === '') return false;
    const state = await this.#list(folder);
    if (state.error) {
      this.actionError = state.error;
      return false;
    }
    this.opened = withFolder(this.opened, folder);
    saveFolders(storage(), this.opened);
    await this.refreshAll();
    return true;
  }

  closeFolder(folder: string): void {
    this.opened = this.opened.filter((f) => f !== folder);
    saveFolders(storage(), this.opened);
    this.folders = this.folders.filter((f) => f.folder !== folder);
    if (this.current?.folder === folder) this.#close();
  }

  // ---- the collection on show ----

  async open(ref: CollectionRef): Promise<void> {
    this.current = ref;
    this.checked = [];
    this.shownReport = null;
    this.replayedIndices = null;
    this.actionError = null;
    this.notice = null;
    await Promise.all([this.reload(), this.loadReports()]);
  }

  #close(): void {
    this.current = null;
    this.collection = null;
    this.collectionError = null;
    this.checked = [];
    this.reports = [];
    this.shownReport = null;
  }

  /** Reads the collection on show afresh (another tab, the CLI or an editor may have changed it). */
  async reload(): Promise<void> {
    const ref = this.current;
    if (!ref) return;
    const mine = ++this.#seq.read;
    try {
      const c = await readCollection(ref.folder, ref.file);
      if (mine !== this.#seq.read) return;
      this.#show(c);
      this.collectionError = null;
    } catch (e) {
      if (mine !== this.#seq.read) return;
      this.collection = null;
      this.collectionError = toBackendError(e).toReport();
    }
  }

  #show(c: Collection): void {
    this.collection = c;
    this.checked = this.checked.filter((i) => i < c.messages.length);
    if (!this.variablesDirty) this.variables = variableRows(c.variables);
  }

  async loadReports(): Promise<void> {
    const ref = this.current;
    if (!ref) return;
    try {
      this.reports = (await collectionReports(ref.folder, ref.file)).reverse();
      this.reportsError = null;
    } catch (e) {
      this.reports = [];
      this.reportsError = toBackendError(e).toReport();
    }
  }

  toggle(index: number): void {
    this.checked = this.checked.includes(index)
      ? this.checked.filter((i) => i !== index)
      : [...this.checked, index].sort((a, b) => a - b);
  }

  // ---- actions ----

  /** Runs `action`, showing its failure; resolves to its result or null. */
  async #act<T>(action: () => Promise<T>, notice: ((t: T) => string) | null = null): Promise<T | null> {
    if (this.busy) return null;
    this.busy = true;
    this.actionError = null;
    this.notice = null;
    try {
      const t = await action();
      if (notice) this.notice = notice(t);
      return t;
    } catch (e) {
      this.actionError = toBackendError(e).toReport();
      return null;
    } finally {
      this.busy = false;
    }
  }

  async create(folder: string | null, name: string): Promise<boolean> {
    const made = await this.#act(() => createCollection(folder, name.trim(), ''));
    if (!made) return false;
    await this.refreshFolder(folder);
    await this.open({ folder, file: made.file });
    return true;
  }

  async rename(name: string): Promise<boolean> {
    const ref = this.current;
    if (!ref) return false;
    const renamed = await this.#act(() => renameCollection(ref.folder, ref.file, name.trim()));
    if (!renamed) return false;
    await this.refreshFolder(ref.folder);
    await this.open({ folder: ref.folder, file: renamed.file });
    return true;
  }

  async duplicate(name: string): Promise<boolean> {
    const ref = this.current;
    if (!ref) return false;
    const copy = await this.#act(() => duplicateCollection(ref.folder, ref.file, name.trim()));
    if (!copy) return false;
    await this.refreshFolder(ref.folder);
    await this.open({ folder: ref.folder, file: copy.file });
    return true;
  }

  async remove(): Promise<boolean> {
    const ref = this.current;
    if (!ref) return false;
    const done = await this.#act(async () => {
      await deleteCollection(ref.folder, ref.file);
      return true;
    });
    if (!done) return false;
    this.#close();
    await this.refreshFolder(ref.folder);
    return true;
  }

  async edit(edit: CollectionEdit, notice: string | null = null): Promise<boolean> {
    const ref = this.current;
    if (!ref) return false;
    const c = await this.#act(() => editCollection(ref.folder, ref.file, edit), notice === null ? null : () => notice);
    if (!c) return false;
    this.#show(c);
    void this.refreshFolder(ref.folder);
    return true;
  }

  async shift(index: number, delta: -1 | 1): Promise<void> {
    const length = this.collection?.messages.length ?? 0;
    const to = shiftTarget(index, delta, length);
    if (to === null) return;
    const wasChecked = this.checked.includes(index);
    if (await this.edit({ kind: 'move', indices: [index], to })) {
      // The ticks follow the messages they were on.
      const others = this.checked.filter((i) => i !== index).map((i) => (i === to ? index : i));
      this.checked = (wasChecked ? [...others, to] : others).sort((a, b) => a - b);
    }
  }

  async duplicateMessages(indices: number[]): Promise<void> {
    if (await this.edit({ kind: 'duplicate', indices }, `Duplicated ${indices.length} message${indices.length === 1 ? '' : 's'}`)) {
      this.checked = [];
    }
  }

  async removeMessages(indices: number[]): Promise<void> {
    if (await this.edit({ kind: 'remove', indices }, `Deleted ${indices.length} message${indices.length === 1 ? '' : 's'}`)) {
      this.checked = [];
    }
  }

  addVariable(): void {
    this.variables.push(newVariableRow());
    this.variablesDirty = true;
  }

  removeVariable(i: number): void {
    this.variables.splice(i, 1);
    this.variablesDirty = true;
  }

  async saveVariables(): Promise<void> {
    const check = this.variablesCheck;
    if (!check.ok) return;
    this.variablesDirty = false;
    if (!(await this.edit({ kind: 'variables', variables: check.variables }, 'Variables saved'))) this.variablesDirty = true;
  }

  async importFrom(folder: string | null, path: string): Promise<boolean> {
    const made = await this.#act(() => importCollection(folder, path.trim()), (s) => `Imported ${s.messages} messages as ${s.name}`);
    if (!made) return false;
    await this.refreshFolder(folder);
    await this.open({ folder, file: made.file });
    return true;
  }

  /** An export that found its file there already, waiting for the user to say "replace". */
  exportReplacing = $state<{ path: string; indices: number[] | null } | null>(null);

  async exportTo(path: string, indices: number[] | null, overwrite = false): Promise<boolean> {
    const ref = this.current;
    if (!ref) return false;
    this.exportReplacing = null;
    const n = await this.#act(
      () => exportCollection(ref.folder, ref.file, indices, path.trim(), overwrite),
      (count) => `Exported ${count} message${count === 1 ? '' : 's'} to ${path.trim()}`,
    );
    if (n === null && !overwrite && this.actionError?.kind === 'already_exists') {
      this.actionError = null;
      this.exportReplacing = { path: path.trim(), indices };
    }
    return n !== null;
  }

  // ---- replay ----

  async replay(profile: string): Promise<void> {
    const ref = this.current;
    const c = this.collection;
    const compiled = this.compiledReplay;
    if (!ref || !c || !compiled.ok || this.replayRun.running) return;
    const request = compiled.request;
    const indices = request.selection ?? c.messages.map((_, i) => i);
    this.shownReport = null;
    const done = await this.replayRun.run((handlers) => replayCollection(profile, ref.folder, ref.file, request, handlers), {
      published: 0,
      confirmed: 0,
      returned: 0,
      nacked: 0,
      failed: 0,
      maybe_sent: 0,
      total: indices.length,
      elapsed_ms: 0,
      blocked: false,
      blocked_reason: null,
    });
    if (done) {
      this.replayedIndices = indices;
      this.shownReport = done.report;
      if (done.not_kept) this.actionError = done.not_kept;
      await this.loadReports();
    }
  }

  cancelReplay(): void {
    this.replayRun.cancel();
  }

  showReport(r: ReplayReport): void {
    this.shownReport = r;
    this.replayedIndices = null;
  }
}
