// The alerts the backend raised, as the app shows them: loaded once, then kept current by the
// backend's `watch-alert` events. The badge counts those not seen yet (raised after the list
// was last looked at).

import { BackendError, clearWatchAlerts, onWatchAlert, toBackendError, watchAlerts } from '../backend';
import type { Alert } from '../bindings/Alert';

/** The backend keeps this many; the UI keeps no more. */
const KEPT = 100;

export class AlertStore {
  alerts: Alert[] = $state([]);
  /** The id of the newest alert seen in the list. */
  seen = $state(0);
  error: BackendError | null = $state(null);
  unseen: number = $derived(this.alerts.filter((a) => a.id > this.seen).length);
  #started = false;
  #load: () => Promise<Alert[]>;
  #subscribe: (onAlert: (a: Alert) => void) => Promise<() => void>;

  constructor(load = watchAlerts, subscribe = onWatchAlert) {
    this.#load = load;
    this.#subscribe = subscribe;
  }

  /** Subscribes first, then loads, so no alert falls between the two. Once per app. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      await this.#subscribe((a) => this.add(a));
      for (const a of await this.#load()) this.add(a);
      this.error = null;
    } catch (e) {
      this.error = toBackendError(e);
    }
  }

  add(alert: Alert): void {
    if (this.alerts.some((a) => a.id === alert.id)) return;
    const next = [...this.alerts, alert].sort((a, b) => a.id - b.id);
    this.alerts = next.slice(Math.max(0, next.length - KEPT));
  }

  markSeen(): void {
    this.seen = this.alerts.reduce((max, a) => Math.max(max, a.id), this.seen);
  }

  async clear(): Promise<void> {
    try {
      await clearWatchAlerts();
      this.markSeen();
      this.alerts = [];
      this.error = null;
    } catch (e) {
      this.error = toBackendError(e);
    }
  }
}

export const alerts = new AlertStore();
