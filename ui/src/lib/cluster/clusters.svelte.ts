// The last known status of each saved cluster, as the Home cards show it. Each cluster is
// fetched on its own: one that hangs or fails leaves the others alone, and a cluster whose
// previous fetch is still under way is not asked again until it answers. Cards ask the
// management API only (no AMQP links), and a cluster that refused the login is not asked again
// until the user retries: repeated failed logins lock directory-backed accounts.

import { BackendError, clusterStatus, toBackendError } from '../backend';
import type { ClusterStatus } from '../bindings/ClusterStatus';

export interface ClusterCardState {
  /** The last status received, kept when a later fetch fails. */
  status: ClusterStatus | null;
  /** Why the latest fetch failed; null once a fetch succeeds. */
  error: BackendError | null;
  /** A fetch is under way. */
  loading: boolean;
  /** When the latest fetch finished (epoch ms), successfully or not. */
  checkedAt: number | null;
}

function blank(): ClusterCardState {
  return { status: null, error: null, loading: false, checkedAt: null };
}

export class ClusterStatusStore {
  cards: Record<string, ClusterCardState> = $state({});
  /** The fetch under way for each cluster; a result is kept only if its fetch is still it. */
  #inflight = new Map<string, symbol>();
  #load: (name: string) => Promise<ClusterStatus>;

  constructor(load: (name: string) => Promise<ClusterStatus> = (name) => clusterStatus(name, false)) {
    this.#load = load;
  }

  get(name: string): ClusterCardState {
    return this.cards[name] ?? blank();
  }

  #card(name: string): ClusterCardState {
    let card = this.cards[name];
    if (card === undefined) {
      this.cards[name] = blank();
      card = this.cards[name];
    }
    return card as ClusterCardState;
  }

  /**
   * Fetches one cluster's status, unless a fetch for it is already under way or its login was
   * refused (then only `retry` asks again).
   */
  async refresh(name: string): Promise<void> {
    if (this.cards[name]?.error?.kind === 'auth') return;
    await this.retry(name);
  }

  /** Fetches one cluster's status now, also after a refused login. */
  async retry(name: string): Promise<void> {
    if (this.#inflight.has(name)) return;
    const token = Symbol(name);
    this.#inflight.set(name, token);
    this.#card(name).loading = true;
    const current = () => this.#inflight.get(name) === token;
    try {
      const status = await this.#load(name);
      if (current()) this.record(name, status);
    } catch (e) {
      if (current()) this.recordError(name, toBackendError(e));
    } finally {
      if (current()) {
        this.#inflight.delete(name);
        const card = this.cards[name];
        if (card) card.loading = false;
      }
    }
  }

  /** Fetches every named cluster concurrently; resolves when all have answered. */
  async refreshAll(names: readonly string[]): Promise<void> {
    await Promise.all(names.map((n) => this.refresh(n)));
  }

  /** A status obtained elsewhere (the cluster view), so the card is as fresh. */
  record(name: string, status: ClusterStatus): void {
    const card = this.#card(name);
    card.status = status;
    card.error = null;
    card.checkedAt = Date.now();
  }

  recordError(name: string, error: BackendError): void {
    const card = this.#card(name);
    card.error = error;
    card.checkedAt = Date.now();
  }

  /** Drops what is known of a cluster (deleted or renamed profile, links reopened). */
  forget(name: string): void {
    this.#inflight.delete(name);
    delete this.cards[name];
  }
}

export const clusterStatuses = new ClusterStatusStore();
