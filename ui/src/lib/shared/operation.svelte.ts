// One long operation run from the UI (a peek, a publish; later a consumer, a replay): start,
// progress, cancel, result, error, held as reactive state, so that every feature runs its long
// work the same way and none counts ids of its own.
//
// The backend names each run (`started` carries an id unique in the app). A Cancel pressed
// before that id arrives is remembered and sent as soon as it does. `dispose()` (the view that
// owns the operation goes away) cancels a running one, and hands every result nobody will show
// to `onDiscard` (an inspection to close, for instance), also one that arrives afterwards.

import { cancelOperation, toBackendError, type BackendError, type OperationHandlers } from '../backend';

/** Starts one run of the operation with the handlers the controller listens with. */
export type Start<P, R> = (handlers: OperationHandlers<P>) => Promise<R>;

export interface OperationOptions<R> {
  /** A result replaced by a newer one, cleared, or arriving after `dispose()`. */
  onDiscard?: (result: R) => void;
  /** Sends a cancel by the backend's id (the backend's `cancel_operation` unless told). */
  cancel?: (id: number) => Promise<void>;
}

export class Operation<P, R> {
  /** True from `run()` until the run settles. */
  running = $state(false);
  /** The backend's id of the running operation, once `started` arrived. */
  id = $state<number | null>(null);
  /** Cancel was pressed for the running operation (sent, or waiting for its id). */
  cancelling = $state(false);
  /** The last progress of the running operation. */
  progress = $state<P | null>(null);
  /** The last run's result, kept until a newer run succeeds or `clear()`. */
  result = $state<R | null>(null);
  /** What the last run failed with (also a failed cancel); cleared by the next run. */
  error = $state<BackendError | null>(null);

  #disposed = false;
  readonly #onDiscard: (result: R) => void;
  readonly #cancel: (id: number) => Promise<void>;

  constructor(options: OperationOptions<R> = {}) {
    this.#onDiscard = options.onDiscard ?? (() => {});
    this.#cancel = options.cancel ?? cancelOperation;
  }

  /**
   * Runs the operation; resolves with its result, or null when it failed (see `error`), was
   * already running, or the controller was disposed meanwhile. `initial` is the progress
   * shown until the first report.
   */
  async run(start: Start<P, R>, initial: P | null = null): Promise<R | null> {
    if (this.running || this.#disposed) return null;
    this.running = true;
    this.id = null;
    this.cancelling = false;
    this.progress = initial;
    this.error = null;
    try {
      const value = await start({
        onStarted: (id) => {
          this.id = id;
          // Cancel was pressed, or the owner went away, before the id arrived.
          if (this.#disposed || this.cancelling) this.#sendCancel(id);
        },
        onProgress: (p) => {
          if (!this.#disposed) this.progress = p;
        },
      });
      if (this.#disposed) {
        this.#onDiscard(value);
        return null;
      }
      const previous = this.result;
      this.result = value;
      if (previous !== null) this.#onDiscard(previous);
      return value;
    } catch (e) {
      if (!this.#disposed) this.error = toBackendError(e);
      return null;
    } finally {
      this.running = false;
      this.id = null;
      this.cancelling = false;
      this.progress = null;
    }
  }

  /** Asks the running operation to stop: now when its id is known, else as soon as it is. */
  cancel(): void {
    if (!this.running || this.cancelling) return;
    this.cancelling = true;
    if (this.id !== null) this.#sendCancel(this.id);
  }

  /** Forgets the result, handing it to `onDiscard`. */
  clear(): void {
    const r = this.result;
    this.result = null;
    if (r !== null) this.#onDiscard(r);
  }

  /** Forgets the last error (the person moved on). */
  dismissError(): void {
    this.error = null;
  }

  /** The owner goes away: cancel what runs, discard what is held and whatever arrives later. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.running && this.id !== null) this.#sendCancel(this.id);
    const r = this.result;
    this.result = null;
    if (r !== null) this.#onDiscard(r);
  }

  #sendCancel(id: number): void {
    this.#cancel(id).catch((e: unknown) => {
      if (this.#disposed) return;
      this.cancelling = false;
      this.error = toBackendError(e);
    });
  }
}
