import { describe, expect, it } from 'vitest';

import type { OpsReport } from '../bindings/OpsReport';
import { buildOrder, emptyForm, reportLine, selectionOf, whichLabel } from './opsForm';

describe('buildOrder', () => {
  it('turns ticked messages into sorted indices of the view', () => {
    const built = buildOrder(7, emptyForm('delete'), { kind: 'checked', indices: [5, 1, 3] }, false);
    expect(built).toEqual({
      ok: true,
      order: {
        inspection: 7,
        selection: { kind: 'indices', indices: [1, 3, 5] },
        action: { kind: 'delete' },
        target_profile: null,
        allow_side_effects: false,
      },
    });
  });

  it('refuses to delete nothing or the whole queue', () => {
    expect(buildOrder(1, emptyForm('delete'), { kind: 'checked', indices: [] }, false)).toMatchObject({
      ok: false,
      field: 'selection',
    });
    expect(buildOrder(1, emptyForm('delete'), { kind: 'queue' }, false)).toMatchObject({ ok: false, field: 'selection' });
  });

  it('builds queue and exchange targets, keeping routing keys when none is given', () => {
    const move = { ...emptyForm('move'), targetName: ' orders.hold ', targetProfile: 'staging' };
    expect(buildOrder(1, move, { kind: 'view' }, true)).toMatchObject({
      ok: true,
      order: {
        selection: { kind: 'view' },
        action: { kind: 'move', target: { kind: 'queue', name: 'orders.hold' } },
        target_profile: 'staging',
        allow_side_effects: true,
      },
    });
    expect(buildOrder(1, { ...move, targetName: '' }, { kind: 'view' }, false)).toMatchObject({ ok: false, field: 'target' });
    const copy = { ...emptyForm('copy'), targetKind: 'exchange' as const, targetName: 'audit' };
    expect(buildOrder(1, copy, { kind: 'queue' }, false)).toMatchObject({
      ok: true,
      order: { selection: null, action: { kind: 'copy', target: { kind: 'exchange', name: 'audit', routing_key: null } } },
    });
    expect(buildOrder(1, { ...copy, routingKey: 'k' }, { kind: 'queue' }, false)).toMatchObject({
      ok: true,
      order: { action: { target: { routing_key: 'k' } } },
    });
  });

  it('sends dead letters back with or without their history, on their own cluster', () => {
    const form = { ...emptyForm('send_back'), stripDeath: true, targetProfile: 'elsewhere' };
    expect(buildOrder(2, form, { kind: 'checked', indices: [0] }, false)).toMatchObject({
      ok: true,
      order: { action: { kind: 'send_back', strip_death: true }, target_profile: null },
    });
  });
});

describe('labels', () => {
  it('names the selection and the outcome', () => {
    expect(selectionOf({ kind: 'queue' })).toBeNull();
    expect(whichLabel({ kind: 'checked', indices: [1, 2] }, 10)).toBe('2 selected');
    expect(whichLabel({ kind: 'view' }, 10)).toBe('all 10 in view');
    const r: OpsReport = {
      deleted: 0,
      moved: 2,
      copied: 0,
      sent_back: 0,
      failed: 1,
      returned_to_source: 1,
      failures: [{ position: 3, reason: 'refused' }],
      cancelled: false,
      endpoint: 'amqp://n1',
      elapsed_ms: 5,
    };
    expect(reportLine('move', r)).toBe('Moved 2 messages; 1 failed and stayed in the queue; 1 returned to the queue');
    expect(reportLine('delete', { ...r, moved: 0, deleted: 1, failed: 0, returned_to_source: 0 })).toBe('Deleted 1 message');
  });
});
