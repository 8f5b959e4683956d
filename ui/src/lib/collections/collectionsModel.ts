// The logic of the Collections view that needs no backend: the replay form turned into a
// request, moves of messages, the variables' rows, how a replay's outcomes read per message,
// the labels of entries and outcomes, and the folders the person opened (kept in the webview's
// storage, since they are the person's choice, not the collections').

import type { CollectionEntry } from '../bindings/CollectionEntry';
import type { Outcome } from '../bindings/Outcome';
import type { Pacing } from '../bindings/Pacing';
import type { ReplayReport } from '../bindings/ReplayReport';
import type { ReplayRequest } from '../bindings/ReplayRequest';

// ---- the replay form ----

export type PacingMode = 'fast' | 'rate' | 'original';

export interface ReplayForm {
  /** Override the recorded exchange. */
  overrideExchange: boolean;
  exchange: string;
  /** Override the recorded routing key. */
  overrideRoutingKey: boolean;
  routingKey: string;
  pacing: PacingMode;
  /** Messages per second, for `rate`. */
  rate: string;
  /** The speed factor of the recorded timing, for `original`: 2 is twice as fast. */
  speed: string;
}

export function emptyReplayForm(): ReplayForm {
  return {
    overrideExchange: false,
    exchange: '',
    overrideRoutingKey: false,
    routingKey: '',
    pacing: 'fast',
    rate: '100',
    speed: '1',
  };
}

/** A replay request from the form, or the form's errors keyed by input. */
export type CompiledReplay =
  | { ok: true; request: ReplayRequest }
  | { ok: false; errors: Partial<Record<'rate' | 'speed' | 'selection', string>> };

function positive(text: string): number | null {
  const t = text.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * The request for replaying `selection` (0-based indices in the collection's order; null for
 * all) with `variables` on top of the collection's.
 */
export function compileReplay(
  form: ReplayForm,
  selection: readonly number[] | null,
  variables: Record<string, string>,
): CompiledReplay {
  const errors: Partial<Record<'rate' | 'speed' | 'selection', string>> = {};
  let pacing: Pacing = { kind: 'as_fast_as_confirms' };
  if (form.pacing === 'rate') {
    const r = positive(form.rate);
    if (r === null) errors.rate = 'messages per second: a number above 0';
    else pacing = { kind: 'rate', per_second: r };
  } else if (form.pacing === 'original') {
    const s = positive(form.speed);
    if (s === null) errors.speed = 'a factor above 0: 2 replays twice as fast, 0.5 half as fast';
    else pacing = { kind: 'original', speed: s };
  }
  if (selection !== null && selection.length === 0) errors.selection = 'no message selected';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      target: {
        exchange: form.overrideExchange ? form.exchange : null,
        routing_key: form.overrideRoutingKey ? form.routingKey : null,
      },
      selection: selection === null ? null : [...selection].sort((a, b) => a - b),
      variables,
      pacing,
    },
  };
}

export function pacingLabel(p: Pacing): string {
  switch (p.kind) {
    case 'as_fast_as_confirms':
      return 'as fast as confirms allow';
    case 'rate':
      return `${p.per_second} msg/s`;
    case 'original':
      return p.speed === 1 ? 'recorded timing' : `recorded timing × ${p.speed}`;
  }
}

// ---- moving messages ----

/**
 * The `to` of a move edit that shifts message `index` one place up (-1) or down (+1), or null
 * when it is already at that end. `to` counts positions in the collection without the message.
 */
export function shiftTarget(index: number, delta: -1 | 1, length: number): number | null {
  const to = index + delta;
  return to < 0 || to > length - 1 ? null : to;
}

// ---- variables ----

export interface VariableRow {
  id: number;
  name: string;
  value: string;
}

let nextRow = 1;

export function variableRows(variables: Record<string, string>): VariableRow[] {
  return Object.entries(variables).map(([name, value]) => ({ id: nextRow++, name, value }));
}

export function newVariableRow(): VariableRow {
  return { id: nextRow++, name: '', value: '' };
}

/** The rows as the collection's variables, or the error of each row that is wrong. */
export function rowsToVariables(
  rows: readonly VariableRow[],
): { ok: true; variables: Record<string, string> } | { ok: false; errors: Map<number, string> } {
  const errors = new Map<number, string>();
  const variables: Record<string, string> = {};
  for (const row of rows) {
    const name = row.name.trim();
    if (name === '' && row.value === '') continue;
    // The names' grammar is the core's: a replay's plan names a bad one (`variables.NAME`).
    if (name === '') {
      errors.set(row.id, 'a variable needs a name');
    } else if (Object.prototype.hasOwnProperty.call(variables, name)) {
      errors.set(row.id, `"${name}" is defined twice`);
    } else {
      variables[name] = row.value;
    }
  }
  return errors.size > 0 ? { ok: false, errors } : { ok: true, variables };
}

// ---- reports ----

export type MessageFate = Outcome | { kind: 'not_sent' };

/**
 * How each replayed message ended, in sending order: the report lists the messages that did
 * not end confirmed; the others were confirmed, except the last `not_sent` (a cancelled
 * replay sends in order and stops). `indices` are the replayed messages in sending order.
 */
export function fates(report: ReplayReport, indices: readonly number[]): { index: number; fate: MessageFate }[] {
  const listed = new Map(report.outcomes.map((o) => [o.index, o.outcome]));
  const sent = indices.length - report.not_sent;
  return indices.map((index, i) => ({
    index,
    fate: listed.get(index) ?? (i < sent ? { kind: 'confirmed' } : { kind: 'not_sent' }),
  }));
}

export function fateLabel(f: MessageFate): string {
  switch (f.kind) {
    case 'confirmed':
      return 'confirmed';
    case 'returned':
      return `returned (${f.reply_code} ${f.reply_text})`;
    case 'nacked':
      return 'nacked';
    case 'failed':
      return `failed: ${f.reason}`;
    case 'maybe_sent':
      return `maybe sent: ${f.reason}`;
    case 'not_sent':
      return 'not sent';
  }
}

export function fateTone(f: MessageFate): 'ok' | 'warning' | 'critical' {
  return f.kind === 'confirmed' ? 'ok' : f.kind === 'returned' || f.kind === 'not_sent' || f.kind === 'maybe_sent' ? 'warning' : 'critical';
}

/** A one-line account of a report. */
export function reportHeadline(r: ReplayReport): string {
  const parts = [`${r.confirmed} of ${r.total} confirmed`];
  if (r.returned > 0) parts.push(`${r.returned} returned`);
  if (r.nacked > 0) parts.push(`${r.nacked} nacked`);
  if (r.failed > 0) parts.push(`${r.failed} failed`);
  if (r.maybe_sent > 0) parts.push(`${r.maybe_sent} maybe sent`);
  if (r.not_sent > 0) parts.push(`${r.not_sent} not sent`);
  return (r.cancelled ? 'Cancelled: ' : '') + parts.join(', ');
}

// ---- entries ----

/** A short line for a message of a collection. */
export function entryLabel(e: CollectionEntry): string {
  const m = e.message;
  const body = m.body_encoding === 'utf8' ? m.body.replace(/\s+/g, ' ').slice(0, 80) : `(${m.body_encoding})`;
  return `${m.exchange === '' ? '(default)' : m.exchange} → ${m.routing_key || '(no key)'} · ${body}`;
}

/** Where an entry was recorded from, or null. */
export function sourceLabel(e: CollectionEntry): string | null {
  const s = e.source;
  if (!s) return null;
  const where = [s.queue, s.vhost == null ? null : `vhost ${s.vhost}`, s.cluster == null ? null : `cluster ${s.cluster}`];
  const known = where.filter((p): p is string => typeof p === 'string' && p !== '');
  return known.length > 0 ? known.join(', ') : null;
}

// ---- opened folders ----

const FOLDERS_KEY = 'warren.collections.folders';

/** The folders the person opened, most recent first. */
export function loadFolders(storage: Pick<Storage, 'getItem'> | null): string[] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(FOLDERS_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((f): f is string => typeof f === 'string' && f !== '') : [];
  } catch {
    return [];
  }
}

export function saveFolders(storage: Pick<Storage, 'setItem'> | null, folders: readonly string[]): void {
  try {
    storage?.setItem(FOLDERS_KEY, JSON.stringify(folders));
  } catch {
    // Storage full or refused: the folders are remembered for this session only.
  }
}

/** `folders` with `folder` first, once. */
export function withFolder(folders: readonly string[], folder: string): string[] {
  return [folder, ...folders.filter((f) => f !== folder)];
}

/** A message of a collection being edited in the composer: where to save it back. */
export interface EditedMessage {
  folder: string | null;
  file: string;
  /** 0-based position in the collection. */
  index: number;
  /** The collection's name, for people. */
  name: string;
}
