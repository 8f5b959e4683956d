import { describe, expect, it } from 'vitest';

import type { CollectionEntry } from '../bindings/CollectionEntry';
import type { ReplayReport } from '../bindings/ReplayReport';
import {
  compileReplay,
  emptyReplayForm,
  entryLabel,
  fateLabel,
  fates,
  loadFolders,
  pacingLabel,
  reportHeadline,
  rowsToVariables,
  saveFolders,
  shiftTarget,
  sourceLabel,
  variableRows,
  withFolder,
} from './collectionsModel';

function report(over: Partial<ReplayReport> = {}): ReplayReport {
  return {
    collection: 'c',
    total: 4,
    confirmed: 4,
    returned: 0,
    nacked: 0,
    failed: 0,
    maybe_sent: 0,
    not_sent: 0,
    rate: 100,
    started_at: '2026-12-02T14:00:00.000Z',
    ended_at: '2026-12-02T14:00:01.000Z',
    elapsed_ms: 1000,
    cancelled: false,
    endpoint: 'node-1',
    failovers: 0,
    max_late_ms: null,
    pacing: { kind: 'as_fast_as_confirms' },
    target: { exchange: null, routing_key: null },
    outcomes: [],
    ...over,
  };
}

function entry(over: Partial<CollectionEntry> = {}): CollectionEntry {
  return {
    message: { exchange: 'orders', routing_key: 'new', properties: {}, body: '{"id":\n 1}', body_encoding: 'utf8' },
    recorded_at: null,
    source: null,
    ...over,
  };
}

describe('the replay form', () => {
  it('replays everything as fast as confirms allow by default, to the recorded targets', () => {
    const c = compileReplay(emptyReplayForm(), null, {});
    expect(c).toEqual({
      ok: true,
      request: { target: { exchange: null, routing_key: null }, selection: null, variables: {}, pacing: { kind: 'as_fast_as_confirms' } },
    });
  });

  it('overrides the target, sorts the selection and reads the pacing', () => {
    const form = { ...emptyReplayForm(), overrideExchange: true, exchange: '', overrideRoutingKey: true, routingKey: 'q', pacing: 'rate' as const, rate: '2.5' };
    const c = compileReplay(form, [3, 1], { tenant: 'acme' });
    expect(c.ok && c.request).toEqual({
      target: { exchange: '', routing_key: 'q' },
      selection: [1, 3],
      variables: { tenant: 'acme' },
      pacing: { kind: 'rate', per_second: 2.5 },
    });
    const slow = compileReplay({ ...emptyReplayForm(), pacing: 'original', speed: '0.5' }, null, {});
    expect(slow.ok && slow.request.pacing).toEqual({ kind: 'original', speed: 0.5 });
  });

  it('names what is wrong instead of sending a request', () => {
    expect(compileReplay({ ...emptyReplayForm(), pacing: 'rate', rate: '0' }, null, {})).toMatchObject({ ok: false, errors: { rate: expect.any(String) } });
    expect(compileReplay({ ...emptyReplayForm(), pacing: 'original', speed: 'fast' }, null, {})).toMatchObject({ ok: false, errors: { speed: expect.any(String) } });
    expect(compileReplay({ ...emptyReplayForm(), pacing: 'original', speed: '-2' }, null, {}).ok).toBe(false);
    expect(compileReplay(emptyReplayForm(), [], {})).toMatchObject({ ok: false, errors: { selection: 'no message selected' } });
    // A rate left over from another pacing does not matter.
    expect(compileReplay({ ...emptyReplayForm(), rate: 'x' }, null, {}).ok).toBe(true);
  });

  it('labels each pacing', () => {
    expect(pacingLabel({ kind: 'as_fast_as_confirms' })).toBe('as fast as confirms allow');
    expect(pacingLabel({ kind: 'rate', per_second: 50 })).toBe('50 msg/s');
    expect(pacingLabel({ kind: 'original', speed: 1 })).toBe('recorded timing');
    expect(pacingLabel({ kind: 'original', speed: 2 })).toBe('recorded timing × 2');
  });
});

describe('moving a message', () => {
  it('counts the target without the message and stops at both ends', () => {
    expect(shiftTarget(1, -1, 3)).toBe(0);
    expect(shiftTarget(1, 1, 3)).toBe(2);
    expect(shiftTarget(0, -1, 3)).toBeNull();
    expect(shiftTarget(2, 1, 3)).toBeNull();
  });
});

describe('variables', () => {
  it('round-trips rows and skips empty ones', () => {
    const rows = variableRows({ tenant: 'acme', region: 'eu' });
    expect(rows.map((r) => [r.name, r.value])).toEqual([
      ['tenant', 'acme'],
      ['region', 'eu'],
    ]);
    expect(rowsToVariables([...rows, { id: 99, name: '', value: '' }])).toEqual({ ok: true, variables: { tenant: 'acme', region: 'eu' } });
  });

  it('flags a missing name and a name given twice, by row', () => {
    const r = rowsToVariables([
      { id: 1, name: 'a', value: '1' },
      { id: 2, name: ' a ', value: '2' },
      { id: 3, name: '', value: 'x' },
    ]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([...r.errors.keys()]).toEqual([2, 3]);
  });
});

describe('a replay report', () => {
  it('tells every message its fate: listed outcomes, confirmed, and the unsent tail of a cancelled run', () => {
    const r = report({
      total: 4,
      confirmed: 1,
      returned: 1,
      not_sent: 2,
      cancelled: true,
      outcomes: [{ index: 7, outcome: { kind: 'returned', reply_code: 312, reply_text: 'NO_ROUTE' } }],
    });
    expect(fates(r, [7, 2, 5, 0]).map((f) => [f.index, f.fate.kind])).toEqual([
      [7, 'returned'],
      [2, 'confirmed'],
      [5, 'not_sent'],
      [0, 'not_sent'],
    ]);
    expect(reportHeadline(r)).toBe('Cancelled: 1 of 4 confirmed, 1 returned, 2 not sent');
    expect(reportHeadline(report())).toBe('4 of 4 confirmed');
  });

  it('labels outcomes with their reason', () => {
    expect(fateLabel({ kind: 'returned', reply_code: 312, reply_text: 'NO_ROUTE' })).toBe('returned (312 NO_ROUTE)');
    expect(fateLabel({ kind: 'failed', reason: 'channel closed' })).toBe('failed: channel closed');
    expect(fateLabel({ kind: 'not_sent' })).toBe('not sent');
  });
});

describe('entries', () => {
  it('reads as a line with target and body, and names where they came from', () => {
    expect(entryLabel(entry())).toBe('orders → new · {"id": 1}');
    expect(entryLabel(entry({ message: { exchange: '', routing_key: '', properties: {}, body: 'AAE=', body_encoding: 'base64' } }))).toBe(
      '(default) → (no key) · (base64)',
    );
    expect(sourceLabel(entry())).toBeNull();
    expect(sourceLabel(entry({ source: { cluster: 'rabbit@a', vhost: '/', queue: 'q' } }))).toBe('q, vhost /, cluster rabbit@a');
  });
});

describe('opened folders', () => {
  it('are remembered most recent first, once each, and survive bad storage', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(loadFolders(storage)).toEqual([]);
    saveFolders(storage, withFolder(withFolder([], '/a'), '/b'));
    expect(loadFolders(storage)).toEqual(['/b', '/a']);
    expect(withFolder(['/b', '/a'], '/a')).toEqual(['/a', '/b']);
    store.set('warren.collections.folders', '{not json');
    expect(loadFolders(storage)).toEqual([]);
    expect(loadFolders(null)).toEqual([]);
  });
});
