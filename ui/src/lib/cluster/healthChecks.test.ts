import { describe, expect, it } from 'vitest';

import { nodeChecks } from '../../test/fixtures';
import { checkTable } from './healthChecks';

describe('checkTable', () => {
  it('puts a row per check some node has, a cell per node, and names the checks no node has', () => {
    const t = checkTable([
      nodeChecks('rabbit@a', { 'node-is-quorum-critical': 'failed', 'is-in-service': 'not_available' }),
      nodeChecks('rabbit@b', { 'is-in-service': 'passed' }),
    ]);
    expect(t.nodes).toEqual(['rabbit@a', 'rabbit@b']);
    expect(t.rows.map((r) => r.name)).toEqual(['alarms', 'node-is-quorum-critical', 'is-in-service']);
    expect(t.rows[1]!.cells.map((c) => c?.outcome)).toEqual(['failed', 'passed']);
    expect(t.rows[2]!.cells.map((c) => c?.outcome)).toEqual(['not_available', 'passed']);
    expect(t.unavailable).toEqual(['node-is-mirror-sync-critical']);
    expect(t.failed).toBe(1);
  });

  it('names a node by its endpoint when its name is unknown', () => {
    const t = checkTable([{ ...nodeChecks('x', {}), node_name: null, endpoint: 'http://127.0.0.1:15791' }]);
    expect(t.nodes).toEqual(['http://127.0.0.1:15791']);
    expect(t.failed).toBe(0);
  });
});
