// A consumer tab from the keyboard: J and K move through the deliveries, A acks the open one,
// N / Shift+N nack it with or without requeue, R / Shift+R reject it (lib/shared/shortcuts.ts).
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { messageDetail, messageRow } from '../../test/browseFixtures';
import type { OperationHandlers } from '../backend';
import type { ConsumerEvent } from '../bindings/ConsumerEvent';
import type { StopReport } from '../bindings/StopReport';
import { handleShortcutKey } from '../shared/shortcuts';

const backend = vi.hoisted(() => ({
  startConsumer: vi.fn(),
  settleDeliveries: vi.fn(),
  consumerRows: vi.fn(),
  consumerMessage: vi.fn(),
  closeConsumer: vi.fn(),
  listCollections: vi.fn(),
  suggestSavePath: vi.fn(),
  cancelOperation: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import ConsumeTab from './ConsumeTab.svelte';

const flush = () => vi.advanceTimersByTimeAsync(0);
const listener = (e: KeyboardEvent): void => void handleShortcutKey(e, () => {}, 'other');

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  for (const f of Object.values(backend)) f.mockReset();
  backend.startConsumer.mockImplementation((_n: string, _r: unknown, h: OperationHandlers<ConsumerEvent[]>) => {
    h.onStarted(7);
    h.onProgress([
      {
        event: 'started',
        endpoint: 'node-1',
        queue: 'orders',
        consumer_tag: 'ctag',
        generation: 1,
        timeout: { ms: 1_800_000, source: 'broker_default' },
        ack_mode: 'manual',
      },
      { event: 'deliveries', first_seq: 1, last_seq: 3, total: 3, matched: 3, held_bytes: 360 },
    ]);
    return new Promise<StopReport>(() => {});
  });
  const state = { seq: 0, delivery_tag: 0, state: 'unacked' as const, acquired_count: null, received_at_ms: 0, evicted: false };
  backend.consumerRows.mockImplementation((_id: number, start: number, count: number) =>
    Promise.resolve(Array.from({ length: count }, (_, i) => ({ ...messageRow(start + i), ...state, seq: start + i + 1, delivery_tag: start + i + 1 }))),
  );
  backend.consumerMessage.mockImplementation((_id: number, i: number) =>
    Promise.resolve({ ...messageDetail(i), ...state, seq: i + 1, delivery_tag: i + 1 }),
  );
  backend.settleDeliveries.mockResolvedValue({ settled: [], skipped: [], frames: 1 });
  backend.cancelOperation.mockResolvedValue(undefined);
  backend.closeConsumer.mockResolvedValue(undefined);
  backend.suggestSavePath.mockResolvedValue('/tmp/orders.jsonl');
  backend.listCollections.mockResolvedValue({ folder: '/tmp', collections: [], problems: [] });
  window.addEventListener('keydown', listener);
});

afterEach(() => {
  window.removeEventListener('keydown', listener);
  vi.useRealTimers();
});

async function key(k: string, mods: KeyboardEventInit = {}): Promise<void> {
  await fireEvent.keyDown(document.body, { key: k, ...mods });
  await flush();
}

describe('consumer tab shortcuts', () => {
  it('steps to a delivery and settles it by key', async () => {
    render(ConsumeTab, { props: { name: 'prod', target: { vhost: '/', queue: 'orders', type: 'classic' as const }, onEditResend: vi.fn() } });
    await flush();
    await fireEvent.click(screen.getByTestId('consume-start'));
    await flush();
    expect(screen.getAllByTestId('message-row')).toHaveLength(3);

    // Nothing open yet: A has nothing to act on.
    await key('a');
    expect(backend.settleDeliveries).not.toHaveBeenCalled();

    await key('j');
    await key('j');
    expect(screen.getByTestId('delivery-facts').dataset['seq']).toBe('2');
    await key('a');
    expect(backend.settleDeliveries).toHaveBeenLastCalledWith(7, { kind: 'indices', indices: [1] }, { kind: 'ack' });

    await key('k');
    expect(screen.getByTestId('delivery-facts').dataset['seq']).toBe('1');
    await key('n');
    expect(backend.settleDeliveries).toHaveBeenLastCalledWith(7, { kind: 'indices', indices: [0] }, { kind: 'nack', requeue: true });
    await key('N', { shiftKey: true });
    expect(backend.settleDeliveries).toHaveBeenLastCalledWith(7, { kind: 'indices', indices: [0] }, { kind: 'nack', requeue: false });
    await key('r');
    expect(backend.settleDeliveries).toHaveBeenLastCalledWith(7, { kind: 'indices', indices: [0] }, { kind: 'reject', requeue: true });
    await key('R', { shiftKey: true });
    expect(backend.settleDeliveries).toHaveBeenLastCalledWith(7, { kind: 'indices', indices: [0] }, { kind: 'reject', requeue: false });
  });
});
