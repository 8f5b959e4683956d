import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';

import { downNode, GiB, runningNode } from '../../test/fixtures';
import { UNKNOWN, UNKNOWN_TITLE } from '../shared/format';
import NodesTable from './NodesTable.svelte';

function rowOf(name: string): HTMLElement {
  const row = screen.getAllByTestId('node-row').find((r) => r.dataset['node'] === name);
  if (!row) throw new Error(`no row for ${name}`);
  return row;
}

describe('NodesTable', () => {
  it('marks a stopped node as down, in red', () => {
    render(NodesTable, { nodes: [runningNode('rabbit@a'), downNode('rabbit@b')] });
    expect(rowOf('rabbit@a').dataset['state']).toBe('running');
    const down = rowOf('rabbit@b');
    expect(down.dataset['state']).toBe('down');
    expect(down.classList.contains('row-critical')).toBe(true);
    expect(within(down).getByText('DOWN')).toBeTruthy();
    expect(rowOf('rabbit@a').classList.contains('row-critical')).toBe(false);
  });

  it('shows unreported values as "—" with a tooltip, never as 0', () => {
    render(NodesTable, { nodes: [downNode('rabbit@b')] });
    const row = rowOf('rabbit@b');
    const unknowns = within(row).getAllByText(UNKNOWN);
    // versions, uptime, memory, disk, alarms, fds, sockets, procs, partitions
    expect(unknowns.length).toBeGreaterThanOrEqual(10);
    for (const u of unknowns) expect(u.getAttribute('title')).toBe(UNKNOWN_TITLE);
    expect(row.textContent).not.toMatch(/\b0 B\b|\b0s\b|\b0 \/ 0\b/);
  });

  it('shows a running node with its resources and Warren link', () => {
    render(NodesTable, { nodes: [runningNode('rabbit@a')] });
    const row = rowOf('rabbit@a');
    expect(row.textContent).toContain('3.13.7');
    expect(row.textContent).toContain('3h 5m');
    expect(row.querySelector('[data-col="memory"]')?.textContent).toMatch(/1 GiB\s*\/\s*4 GiB/);
    expect(row.textContent).toContain('120 / 1,024');
    expect(row.querySelector('[data-link-state]')?.getAttribute('data-link-state')).toBe('connected');
    expect(row.textContent).toContain('2 ms');
  });

  it('highlights alarms and partitions', () => {
    render(NodesTable, {
      nodes: [
        runningNode('rabbit@a', {
          mem_used: 4 * GiB,
          mem_alarm: true,
          disk_free_alarm: true,
          partitions: ['rabbit@c'],
        }),
      ],
    });
    const row = rowOf('rabbit@a');
    const alarms = row.querySelector('[data-col="alarms"]');
    expect(alarms?.textContent).toMatch(/memory/);
    expect(alarms?.textContent).toMatch(/disk/);
    expect(row.querySelector('[data-col="memory"] .tone-critical')).not.toBeNull();
    expect(row.querySelector('[data-col="disk"] .tone-critical')).not.toBeNull();
    const partitions = row.querySelector('[data-col="partitions"]');
    expect(partitions?.textContent).toContain('rabbit@c');
    expect(partitions?.querySelector('.tone-critical')).not.toBeNull();
  });
});
