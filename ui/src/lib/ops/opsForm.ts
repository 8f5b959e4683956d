// The message operations of the inspector: what the person chose (an action, a target, which
// messages) turned into the backend's order, checked before anything is asked of the cluster,
// and the words of the confirmation and of the report. The plan's sentence (how many, where)
// and its effects come from the backend; nothing here decides what an operation changes.

import type { Action } from '../bindings/Action';
import type { MessageOps } from '../bindings/MessageOps';
import type { OpsPhase } from '../bindings/OpsPhase';
import type { OpsReport } from '../bindings/OpsReport';
import type { Selection } from '../bindings/Selection';

export type ActionChoice = Action['kind'];

/** What the person filled in. */
export interface OpsForm {
  action: ActionChoice;
  /** Move and copy: to a queue or to an exchange. */
  targetKind: 'queue' | 'exchange';
  targetName: string;
  /** Exchange targets only; empty: each message keeps its routing key. */
  routingKey: string;
  /** The profile to publish to; empty: the source's cluster. */
  targetProfile: string;
  /** Send back: without the x-death history. */
  stripDeath: boolean;
}

export function emptyForm(action: ActionChoice): OpsForm {
  return { action, targetKind: 'queue', targetName: '', routingKey: '', targetProfile: '', stripDeath: false };
}

export type Built = { ok: true; order: MessageOps } | { ok: false; field: string; error: string };

/** Which messages: the ticked indices of the view, every message in the view, or (null) every message of the queue. */
export type Which = { kind: 'checked'; indices: number[] } | { kind: 'view' } | { kind: 'queue' };

export function selectionOf(which: Which): Selection | null {
  switch (which.kind) {
    case 'checked':
      return { kind: 'indices', indices: [...which.indices].sort((a, b) => a - b) };
    case 'view':
      return { kind: 'view' };
    case 'queue':
      return null;
  }
}

/** The order for the backend, or the first thing to fix. */
export function buildOrder(inspection: number, form: OpsForm, which: Which, allowSideEffects: boolean): Built {
  if (which.kind === 'checked' && which.indices.length === 0) {
    return { ok: false, field: 'selection', error: 'no message is ticked' };
  }
  if (which.kind === 'queue' && form.action === 'delete') {
    return { ok: false, field: 'selection', error: 'delete takes selected messages; to empty the queue, purge it' };
  }
  let action: Action;
  switch (form.action) {
    case 'delete':
      action = { kind: 'delete' };
      break;
    case 'send_back':
      action = { kind: 'send_back', strip_death: form.stripDeath };
      break;
    case 'move':
    case 'copy': {
      const name = form.targetName.trim();
      if (form.targetKind === 'queue' && name === '') {
        return { ok: false, field: 'target', error: 'name the queue to publish to' };
      }
      const key = form.routingKey.trim();
      const target =
        form.targetKind === 'queue'
          ? { kind: 'queue' as const, name }
          : { kind: 'exchange' as const, name, routing_key: key === '' ? null : key };
      action = form.action === 'move' ? { kind: 'move', target } : { kind: 'copy', target };
      break;
    }
  }
  const profile = form.targetProfile.trim();
  return {
    ok: true,
    order: {
      inspection,
      selection: selectionOf(which),
      action,
      target_profile: profile === '' || form.action === 'delete' || form.action === 'send_back' ? null : profile,
      allow_side_effects: allowSideEffects,
    },
  };
}

export function actionLabel(action: ActionChoice): string {
  switch (action) {
    case 'delete':
      return 'Delete';
    case 'move':
      return 'Move to…';
    case 'copy':
      return 'Copy to…';
    case 'send_back':
      return 'Send back';
  }
}

export function whichLabel(which: Which, inView: number): string {
  switch (which.kind) {
    case 'checked':
      return `${which.indices.length} selected`;
    case 'view':
      return `all ${inView} in view`;
    case 'queue':
      return 'every message in the queue';
  }
}

export function phaseLabel(phase: OpsPhase): string {
  switch (phase) {
    case 'reading':
      return 'reading the queue';
    case 'publishing':
      return 'publishing to the target';
    case 'acknowledging':
      return 'removing from the source';
    case 'returning':
      return 'giving the others back';
    case 'done':
      return 'done';
  }
}

/** One line saying what the operation did. */
export function reportLine(action: ActionChoice, r: OpsReport): string {
  const done =
    action === 'delete'
      ? `Deleted ${r.deleted}`
      : action === 'move'
        ? `Moved ${r.moved}`
        : action === 'copy'
          ? `Copied ${r.copied}`
          : `Sent back ${r.sent_back}`;
  const parts = [`${done} message${plural(doneOf(r))}`];
  if (r.failed > 0) parts.push(`${r.failed} failed and stayed in the queue`);
  if (r.returned_to_source > 0) parts.push(`${r.returned_to_source} returned to the queue`);
  if (r.cancelled) parts.push('cancelled');
  return parts.join('; ');
}

function doneOf(r: OpsReport): number {
  return r.deleted + r.moved + r.copied + r.sent_back;
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
