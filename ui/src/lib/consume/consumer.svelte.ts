// One consumer (or tap) run from a tab: starts it as an operation, folds its event batches
// into a `ConsumerView`, and acts on it (settle, resume, stop) by the operation's id, which
// stays the consumer's name in the backend after it stopped, until the tab closes.

import {
  closeConsumer,
  resumeConsumer,
  settleDeliveries,
  settleUpTo,
  stopConsumer,
  toBackendError,
  type BackendError,
  type OperationHandlers,
} from '../backend';
import type { ConsumerEvent } from '../bindings/ConsumerEvent';
import type { Selection } from '../bindings/Selection';
import type { Settle } from '../bindings/Settle';
import type { SettleReport } from '../bindings/SettleReport';
import type { StopReport } from '../bindings/StopReport';
import { Operation } from '../shared/operation.svelte';
import { applyBatch, initialView, StateTracker, type ConsumerView } from './consumerState';

export type StartConsumer = (handlers: OperationHandlers<ConsumerEvent[]>) => Promise<StopReport>;

/**
 * Batches that only bring new deliveries are shown at most this often. The backend sends one
 * about every 50 ms while messages flow; each shown one costs the webview a frame (counts, the
 * list's length), which on a busy machine delays the frame that answers a click. Anything else
 * (a start, settled states, a cancel, a loss, a stop) is shown at once, with what waited.
 */
export const DELIVERIES_EVERY_MS = 200;

export class ConsumerRun {
  view = $state<ConsumerView>(initialView());
  /** The consumer's id in the backend (its operation's), once known; kept after it stops. */
  id = $state<number | null>(null);
  /** An action in flight (settle, resume, stop). */
  busy = $state(false);
  /** What the last action failed with. */
  actionError = $state<BackendError | null>(null);
  lastSettle = $state<SettleReport | null>(null);

  #tracker = new StateTracker();
  #closed = false;
  /** Batches not shown yet (deliveries only), and the timer that shows them. */
  #waiting: ConsumerEvent[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #shownAt = -Infinity;
  readonly #op = new Operation<ConsumerEvent[], StopReport>();

  get running(): boolean {
    return this.#op.running;
  }

  /** When the oldest unsettled delivery arrived (read it beside `view.rowsChanged`). */
  get oldestOpenSince(): number | null {
    return this.#tracker.oldestOpenSince;
  }

  /** Why it could not start, or why it ended other than by a stop. */
  get error(): BackendError | null {
    return this.#op.error;
  }

  async start(start: StartConsumer): Promise<void> {
    this.view = initialView();
    this.#tracker = new StateTracker();
    this.id = null;
    const report = await this.#op.run((h) =>
      start({
        onStarted: (id) => {
          this.id = id;
          h.onStarted(id);
          // The tab closed before the id arrived: free it as soon as it is known.
          if (this.#closed) void closeConsumer(id).catch(() => {});
        },
        onProgress: (batch) => this.#receive(batch),
      }),
    );
    this.#showWaiting();
    if (report && !this.view.stopped) this.view.stopped = report;
  }

  #receive(batch: ConsumerEvent[]): void {
    if (this.#closed) return;
    this.#waiting.push(...batch);
    const now = Date.now();
    const urgent = batch.some((e) => e.event !== 'deliveries');
    if (urgent || now - this.#shownAt >= DELIVERIES_EVERY_MS) {
      this.#showWaiting();
    } else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#showWaiting(), DELIVERIES_EVERY_MS - (now - this.#shownAt));
    }
  }

  /** Applies every batch that waited, in order, as one change of the view. */
  #showWaiting(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed || this.#waiting.length === 0) return;
    const events = this.#waiting;
    this.#waiting = [];
    this.#shownAt = Date.now();
    applyBatch(this.view, this.#tracker, events);
  }

  async #act<T>(f: (id: number) => Promise<T>): Promise<T | null> {
    const id = this.id;
    if (id === null || this.busy) return null;
    this.busy = true;
    this.actionError = null;
    try {
      return await f(id);
    } catch (e) {
      this.actionError = toBackendError(e);
      return null;
    } finally {
      this.busy = false;
    }
  }

  async settle(selection: Selection, how: Settle): Promise<void> {
    const r = await this.#act((id) => settleDeliveries(id, selection, how));
    if (r) this.lastSettle = r;
  }

  async settleUpTo(seq: number, how: Settle): Promise<void> {
    const r = await this.#act((id) => settleUpTo(id, seq, how));
    if (r) this.lastSettle = r;
  }

  async resume(): Promise<void> {
    await this.#act((id) => resumeConsumer(id));
  }

  async stop(): Promise<void> {
    const r = await this.#act((id) => stopConsumer(id));
    if (r && !this.view.stopped) {
      this.view.stopped = r;
      this.view.phase = 'stopped';
    }
  }

  /** The tab goes: the consumer stops and what it held is freed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#waiting = [];
    this.#op.dispose();
    if (this.id !== null) void closeConsumer(this.id).catch(() => {});
  }
}

/**
 * The run of a consumer or tap tab: none until started, a new one on every start (the one
 * before is closed), and closed with the tab. The tab shows its start form while `showForm`.
 */
export class ConsumerSlot {
  run = $state<ConsumerRun | null>(null);

  /** Until a consumer starts, and again when it could not start. */
  get showForm(): boolean {
    const r = this.run;
    return r === null || (r.view.phase === 'starting' && !r.running);
  }

  start(start: StartConsumer): void {
    this.run?.close();
    const next = new ConsumerRun();
    this.run = next;
    void next.start(start);
  }

  /** "Start again": back to the form. */
  reset(): void {
    this.run?.close();
    this.run = null;
  }

  close(): void {
    this.run?.close();
  }
}
