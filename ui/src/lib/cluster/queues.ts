// Filtering, ordering and capping of the replication tables: a cluster may have thousands of
// queues, so a table shows at most ROW_LIMIT rows, worst first, and says how many it left out.

import type { AtRiskQueue } from '../bindings/AtRiskQueue';
import type { MirroredQueue } from '../bindings/MirroredQueue';
import type { ReplicatedQueue } from '../bindings/ReplicatedQueue';

export const ROW_LIMIT = 500;

export interface Slice<T> {
  /** The rows to render: at most the limit. */
  rows: T[];
  /** How many matched the filter. */
  matched: number;
  /** How many there are in all. */
  total: number;
}

type Named = { vhost: string; name: string };

/** Every whitespace-separated term of `query` occurs in the name (case-insensitive). */
export function nameMatches(name: string, query: string): boolean {
  const terms = query.toLowerCase().split(/\s+/).filter((t) => t !== '');
  const lower = name.toLowerCase();
  return terms.every((t) => lower.includes(t));
}

function byVhostThenName(a: Named, b: Named): number {
  return a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name);
}

/** Filters by name, sorts with `compare` (then vhost, name), keeps the first `limit`. */
export function sliceQueues<T extends Named>(
  items: readonly T[],
  query: string,
  compare: (a: T, b: T) => number = () => 0,
  limit: number = ROW_LIMIT,
): Slice<T> {
  const matching = items.filter((q) => nameMatches(q.name, query));
  matching.sort((a, b) => compare(a, b) || byVhostThenName(a, b));
  return { rows: matching.slice(0, Math.max(0, limit)), matched: matching.length, total: items.length };
}

/** Quorum queues and streams: fewest spare members first, then most members offline. */
export function replicatedRisk(a: ReplicatedQueue, b: ReplicatedQueue): number {
  return a.spare_members - b.spare_members || b.offline.length - a.offline.length;
}

/** Mirrored queues: no master first, then most unsynchronised mirrors. */
export function mirroredRisk(a: MirroredQueue, b: MirroredQueue): number {
  const noMaster = Number(b.master === null) - Number(a.master === null);
  return noMaster || b.unsynchronised.length - a.unsynchronised.length;
}

/** Queues at risk: critical before warning. */
export function severityRisk(a: AtRiskQueue, b: AtRiskQueue): number {
  const rank = (q: AtRiskQueue) => (q.severity === 'critical' ? 0 : 1);
  return rank(a) - rank(b);
}

/** "showing 500 of 1,234 — refine the filter", or null when everything matching is shown. */
export function truncationNote(slice: Slice<unknown>): string | null {
  if (slice.rows.length >= slice.matched) return null;
  const fmt = new Intl.NumberFormat('en-US');
  return `showing ${fmt.format(slice.rows.length)} of ${fmt.format(slice.matched)} — refine the filter`;
}
