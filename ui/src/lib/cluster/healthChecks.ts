// The broker's health checks as the cluster view shows them: one row per check that some node
// has, one cell per node, and the checks no node has (this version lacks them) named apart.

import type { CheckOutcome } from '../bindings/CheckOutcome';
import type { HealthCheck } from '../bindings/HealthCheck';
import type { NodeHealthChecks } from '../bindings/NodeHealthChecks';
import type { Tone } from '../shared/format';

export interface CheckRow {
  /** The check's name in the API path, e.g. `node-is-quorum-critical`. */
  name: string;
  /** One cell per node, in the order of the nodes; null when that node did not report it. */
  cells: (HealthCheck | null)[];
}

export interface CheckTable {
  /** Column heads: each node's name, or its endpoint when the name is unknown. */
  nodes: string[];
  rows: CheckRow[];
  /** Checks every node answered "not available" for. */
  unavailable: string[];
  /** How many (node, check) pairs failed. */
  failed: number;
}

export function checkTable(nodes: readonly NodeHealthChecks[]): CheckTable {
  const names: string[] = [];
  for (const n of nodes) for (const c of n.checks) if (!names.includes(c.name)) names.push(c.name);
  const rows: CheckRow[] = [];
  const unavailable: string[] = [];
  let failed = 0;
  for (const name of names) {
    const cells = nodes.map((n) => n.checks.find((c) => c.name === name) ?? null);
    failed += cells.filter((c) => c?.outcome === 'failed').length;
    if (cells.every((c) => c === null || c.outcome === 'not_available')) unavailable.push(name);
    else rows.push({ name, cells });
  }
  return { nodes: nodes.map((n) => n.node_name ?? n.endpoint), rows, unavailable, failed };
}

const OUTCOME: Record<CheckOutcome, { text: string; tone: Tone }> = {
  passed: { text: 'passed', tone: 'ok' },
  failed: { text: 'failed', tone: 'critical' },
  not_available: { text: 'n/a', tone: 'unknown' },
  unknown: { text: 'unknown', tone: 'unknown' },
};

export function outcomeLabel(o: CheckOutcome): { text: string; tone: Tone } {
  return OUTCOME[o];
}
