import { describe, expect, it } from 'vitest';

import { quorumQueue } from '../../test/fixtures';
import type { AtRiskQueue } from '../bindings/AtRiskQueue';
import type { MirroredQueue } from '../bindings/MirroredQueue';
import { mirroredRisk, nameMatches, replicatedRisk, severityRisk, sliceQueues, truncationNote } from './queues';

const NODES = ['a', 'b', 'c'];

describe('nameMatches', () => {
  it('matches every term, case-insensitively', () => {
    expect(nameMatches('Orders.EU.priority', 'orders eu')).toBe(true);
    expect(nameMatches('orders.eu', 'orders us')).toBe(false);
    expect(nameMatches('anything', '   ')).toBe(true);
  });
});

describe('sliceQueues', () => {
  const many = Array.from({ length: 1234 }, (_, i) => quorumQueue(`q-${String(i).padStart(4, '0')}`, NODES));

  it('caps the rows and counts what matched', () => {
    const s = sliceQueues(many, '', replicatedRisk, 500);
    expect(s.rows).toHaveLength(500);
    expect(s.matched).toBe(1234);
    expect(s.total).toBe(1234);
    expect(truncationNote(s)).toBe('showing 500 of 1,234 — refine the filter');
  });

  it('has no note when everything matching is shown', () => {
    const s = sliceQueues(many, 'q-001', replicatedRisk, 500);
    expect(s.matched).toBe(10);
    expect(s.rows.map((q) => q.name)).toEqual(Array.from({ length: 10 }, (_, i) => `q-001${i}`));
    expect(truncationNote(s)).toBeNull();
  });

  it('puts the queues closest to losing quorum first, even past the cap', () => {
    const risky = quorumQueue('zzz-last-by-name', NODES, ['c']);
    const lost = quorumQueue('zzz-lost', NODES, ['b', 'c']);
    const s = sliceQueues([...many, risky, lost], '', replicatedRisk, 500);
    expect(s.rows[0]?.name).toBe('zzz-lost');
    expect(s.rows[1]?.name).toBe('zzz-last-by-name');
    expect(s.rows[2]?.name).toBe('q-0000');
  });

  it('orders mirrored queues without master, then by unsynchronised mirrors', () => {
    const m = (name: string, master: string | null, unsync: string[]): MirroredQueue => ({
      vhost: '/',
      name,
      policy: 'ha',
      master,
      mirrors: ['b', 'c'],
      synchronised: [],
      unsynchronised: unsync,
      state: null,
      messages: null,
    });
    const s = sliceQueues([m('ok', 'a', []), m('one', 'a', ['b']), m('none', null, []), m('two', 'a', ['b', 'c'])], '', mirroredRisk);
    expect(s.rows.map((q) => q.name)).toEqual(['none', 'two', 'one', 'ok']);
  });

  it('orders queues at risk critical first', () => {
    const r = (name: string, severity: AtRiskQueue['severity']): AtRiskQueue => ({
      vhost: '/',
      name,
      type: 'quorum',
      severity,
      reason: 'x',
    });
    const s = sliceQueues([r('a', 'warning'), r('b', 'critical'), r('c', 'warning'), r('d', 'critical')], '', severityRisk);
    expect(s.rows.map((q) => q.name)).toEqual(['b', 'd', 'a', 'c']);
  });
});
