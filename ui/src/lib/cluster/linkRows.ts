// Shovels and federation links as the cluster view lists them: one row shape for both, not
// running first (those are what an operator looks for), then by vhost and name.
import type { FederationLinkStatus } from '../bindings/FederationLinkStatus';
import type { ShovelStatus } from '../bindings/ShovelStatus';

export interface LinkRow {
  key: string;
  kind: 'shovel' | 'federation';
  /** The shovel's name, or the local exchange/queue a federation link feeds. */
  name: string;
  vhost: string;
  /** The broker's state, as it says it. */
  state: string;
  running: boolean;
  /** `dynamic`/`static` for a shovel; `exchange`/`queue` for a federation link. */
  detail: string;
  node: string | null;
  source: string | null;
  destination: string | null;
  lastError: string | null;
}

export function shovelRows(shovels: readonly ShovelStatus[]): LinkRow[] {
  return ordered(
    shovels.map((s) => ({
      key: `shovel\u0000${s.vhost}\u0000${s.name}`,
      kind: 'shovel' as const,
      name: s.name,
      vhost: s.vhost,
      state: s.state,
      running: s.state === 'running',
      detail: s.kind,
      node: s.node,
      source: s.source,
      destination: s.destination,
      lastError: s.last_error,
    })),
  );
}

export function federationRows(links: readonly FederationLinkStatus[]): LinkRow[] {
  return ordered(
    links.map((l) => {
      const upstreamEnd = l.upstream_name ? `${l.kind} "${l.upstream_name}"` : l.kind;
      return {
        key: `federation\u0000${l.vhost}\u0000${l.kind}\u0000${l.local}\u0000${l.upstream}`,
        kind: 'federation' as const,
        name: l.local,
        vhost: l.vhost,
        state: l.status,
        running: l.status === 'running',
        detail: l.kind,
        node: l.node,
        source: `upstream "${l.upstream}": ${upstreamEnd}${l.uri ? ` on ${l.uri}` : ''}`,
        destination: `${l.kind} "${l.local}"`,
        lastError: l.last_error,
      };
    }),
  );
}

function ordered(rows: LinkRow[]): LinkRow[] {
  return rows.sort(
    (a, b) =>
      Number(a.running) - Number(b.running) || a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name),
  );
}

/** How many are not running, of a list that may be absent (plugin not running). */
export function downCount(rows: readonly LinkRow[] | null): number {
  return rows ? rows.filter((r) => !r.running).length : 0;
}
