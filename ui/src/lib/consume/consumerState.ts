// A consumer tab's picture of its consumer, reduced from the batches of events the backend
// sends (about every 50 ms): where it stands, how many deliveries are in which state, and the
// banners to show (a broker's cancel, a lost channel, the budget). The rows themselves stay in
// the backend; `rowsChanged` tells the list to fetch the ones on screen again when states
// changed.

import type { AckMode } from '../bindings/AckMode';
import type { BudgetAction } from '../bindings/BudgetAction';
import type { ConsumerEvent } from '../bindings/ConsumerEvent';
import type { ConsumerPhase } from '../bindings/ConsumerPhase';
import type { ConsumerTimeout } from '../bindings/ConsumerTimeout';
import type { DeliveryState } from '../bindings/DeliveryState';
import type { ErrorReport } from '../bindings/ErrorReport';
import type { StopReport } from '../bindings/StopReport';

/** Every delivery state, in the order the counts are shown. */
export const DELIVERY_STATES = [
  'unacked',
  'acked',
  'nacked',
  'nacked_requeued',
  'rejected',
  'rejected_requeued',
  'returned',
  'stale',
  'auto_acked',
] as const satisfies readonly DeliveryState[];

// Every DeliveryState is listed: a state added in Rust fails this line until it is shown.
const _allStates: Record<DeliveryState, true> = Object.fromEntries(DELIVERY_STATES.map((s) => [s, true])) as Record<
  (typeof DELIVERY_STATES)[number],
  true
>;
void _allStates;

export type StateCounts = Record<DeliveryState, number>;

export interface ConsumerView {
  /** `starting` until the backend's first `started`. */
  phase: ConsumerPhase | 'starting';
  endpoint: string | null;
  /** The queue consumed (a tap's temporary queue). */
  queue: string | null;
  ackMode: AckMode | null;
  timeout: ConsumerTimeout | null;
  /** Channels so far: 1 on the first, +1 on every resume. */
  generation: number;
  /** Deliveries received in all (the last seq). */
  received: number;
  /** Held deliveries in all, and in the filtered view. */
  total: number;
  matched: number;
  heldBytes: number;
  counts: StateCounts;
  /** Why the broker cancelled the consumer, while it is cancelled. */
  cancelled: string | null;
  /** The lost channel, while it is lost. */
  lost: { stale: number; reason: string } | null;
  resumeError: ErrorReport | null;
  budget: { heldBytes: number; budgetBytes: number; action: BudgetAction } | null;
  stopped: StopReport | null;
  /**
   * Bumped whenever deliveries changed state: the rows on screen are fetched again. (New
   * deliveries only make the view longer: `matched` says so, and rows above stay as they are.)
   */
  rowsChanged: number;
}

export function emptyCounts(): StateCounts {
  return Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as StateCounts;
}

export function initialView(): ConsumerView {
  return {
    phase: 'starting',
    endpoint: null,
    queue: null,
    ackMode: null,
    timeout: null,
    generation: 0,
    received: 0,
    total: 0,
    matched: 0,
    heldBytes: 0,
    counts: emptyCounts(),
    cancelled: null,
    lost: null,
    resumeError: null,
    budget: null,
    stopped: null,
    rowsChanged: 0,
  };
}

/**
 * Knows which deliveries are unsettled (and since when), so that a change of state moves a
 * delivery from one count to another and the oldest unsettled one can be timed against the
 * broker's consumer timeout. Settled deliveries never change again, so this stays as small as
 * the prefetch.
 */
export class StateTracker {
  /** Unsettled deliveries: seq -> when they arrived (epoch ms), oldest first. */
  readonly #open = new Map<number, number>();

  /** New deliveries `first..=last`, arrived in `state` at `now`. */
  arrive(first: number, last: number, state: DeliveryState, counts: StateCounts, now: number): void {
    counts[state] += last - first + 1;
    if (state === 'unacked') for (let seq = first; seq <= last; seq++) this.#open.set(seq, now);
  }

  /** Delivery `seq` is now in `state`. */
  change(seq: number, state: DeliveryState, counts: StateCounts): void {
    // Only an unsettled delivery changes; a repeated report is counted once.
    if (state === 'unacked' || !this.#open.delete(seq)) return;
    counts.unacked -= 1;
    counts[state] += 1;
  }

  get openCount(): number {
    return this.#open.size;
  }

  /** When the oldest unsettled delivery arrived, or null when none is. */
  get oldestOpenSince(): number | null {
    for (const since of this.#open.values()) return since;
    return null;
  }
}

/** Applies one batch of events to `view` (in place) and returns it. */
export function applyBatch(
  view: ConsumerView,
  tracker: StateTracker,
  batch: readonly ConsumerEvent[],
  now: number = Date.now(),
): ConsumerView {
  let rows = false;
  for (const e of batch) {
    switch (e.event) {
      case 'started':
        view.phase = 'running';
        view.endpoint = e.endpoint;
        view.queue = e.queue;
        view.ackMode = e.ack_mode;
        view.timeout = e.timeout;
        view.generation = e.generation;
        view.cancelled = null;
        view.lost = null;
        view.resumeError = null;
        if (view.budget?.action === 'paused') view.budget = null;
        break;
      case 'deliveries':
        if (e.last_seq >= e.first_seq) {
          tracker.arrive(e.first_seq, e.last_seq, view.ackMode === 'auto' ? 'auto_acked' : 'unacked', view.counts, now);
        }
        view.received = Math.max(view.received, e.last_seq);
        view.total = e.total;
        view.matched = e.matched;
        view.heldBytes = e.held_bytes;
        break;
      case 'states':
        for (const c of e.changes) tracker.change(c.seq, c.state, view.counts);
        rows = rows || e.changes.length > 0;
        break;
      case 'cancelled_by_broker':
        view.phase = 'cancelled_by_broker';
        view.cancelled = e.reason;
        break;
      case 'channel_lost':
        view.phase = 'lost';
        view.lost = { stale: e.stale, reason: e.reason };
        break;
      case 'resume_failed':
        view.resumeError = e.error;
        break;
      case 'budget_reached':
        view.budget = { heldBytes: e.held_bytes, budgetBytes: e.budget_bytes, action: e.action };
        if (e.action === 'paused') view.phase = 'paused';
        break;
      case 'stopped':
        view.phase = 'stopped';
        view.stopped = e.report;
        break;
    }
  }
  if (rows) view.rowsChanged += 1;
  return view;
}
