import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { harmfulPlan } from '../../test/browseFixtures';
import type { OperationHandlers } from '../backend';
import type { OpsPlan } from '../bindings/OpsPlan';
import type { OpsProgress } from '../bindings/OpsProgress';
import type { OpsReport } from '../bindings/OpsReport';

const backend = vi.hoisted(() => ({
  listProfiles: vi.fn(),
  planMessageOps: vi.fn(),
  startMessageOps: vi.fn(),
  cancelOperation: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import MessageOps from './MessageOps.svelte';

function opsPlan(harmless: boolean): OpsPlan {
  const peek = harmfulPlan();
  return {
    action: 'delete',
    vhost: '/',
    queue: 'orders',
    destination: null,
    count: 2,
    reads: 5,
    returns: 3,
    effects: harmless ? [] : peek.effects,
    harmless,
    summary: 'Delete 2 messages from queue "orders"; 3 other message(s) read on the way go back',
    peek,
  };
}

const report: OpsReport = {
  deleted: 2,
  moved: 0,
  copied: 0,
  sent_back: 0,
  failed: 0,
  returned_to_source: 3,
  failures: [],
  cancelled: false,
  endpoint: 'amqp://127.0.0.1:5781',
  elapsed_ms: 12,
};

beforeEach(() => {
  for (const f of Object.values(backend)) f.mockReset();
  backend.listProfiles.mockResolvedValue([]);
  backend.startMessageOps.mockImplementation((_name: string, _order: unknown, h: OperationHandlers<OpsProgress>) => {
    h.onStarted(9);
    return Promise.resolve(report);
  });
});

describe('MessageOps', () => {
  it('plans a delete of the ticked messages, asks for consent when the plan is not harmless, then reports', async () => {
    backend.planMessageOps.mockResolvedValue(opsPlan(false));
    render(MessageOps, { name: 'prod', inspection: 4, checked: [1, 4], inView: 10, hasDeadLetters: false });
    expect(screen.queryByTestId('ops-send_back')).toBeNull();
    await fireEvent.click(screen.getByTestId('ops-delete'));
    await fireEvent.click(screen.getByTestId('ops-review'));
    await vi.waitFor(() => expect(screen.getByTestId('ops-summary').textContent).toContain('Delete 2 messages'));
    expect(backend.planMessageOps).toHaveBeenCalledWith('prod', {
      inspection: 4,
      selection: { kind: 'indices', indices: [1, 4] },
      action: { kind: 'delete' },
      target_profile: null,
      allow_side_effects: false,
    });
    const go = screen.getByTestId('ops-confirm-go') as HTMLButtonElement;
    expect(go.disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('ops-consent'));
    expect(go.disabled).toBe(false);
    await fireEvent.click(go);
    await vi.waitFor(() => expect(screen.getByTestId('ops-report').textContent).toContain('Deleted 2 messages'));
    expect(backend.startMessageOps.mock.calls[0]?.[1]).toMatchObject({ allow_side_effects: true });
  });

  it('offers send back only with dead letters and refuses an empty target', async () => {
    render(MessageOps, { name: 'prod', inspection: 4, checked: [], inView: 10, hasDeadLetters: true });
    expect(screen.getByTestId('ops-send_back')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('ops-move'));
    await fireEvent.click(screen.getByTestId('ops-review'));
    expect(screen.getByTestId('ops-form-error').textContent).toContain('name the queue');
    expect(backend.planMessageOps).not.toHaveBeenCalled();
  });
});
