import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { messageDetail, messageRow } from '../../test/browseFixtures';
import type { OperationHandlers } from '../backend';
import type { ConsumedDetail } from '../bindings/ConsumedDetail';
import type { ConsumedRow } from '../bindings/ConsumedRow';
import type { ConsumerEvent } from '../bindings/ConsumerEvent';
import type { DeliveryState } from '../bindings/DeliveryState';
import type { StopReport } from '../bindings/StopReport';

const backend = vi.hoisted(() => ({
  startConsumer: vi.fn(),
  stopConsumer: vi.fn(),
  resumeConsumer: vi.fn(),
  settleDeliveries: vi.fn(),
  settleUpTo: vi.fn(),
  consumerRows: vi.fn(),
  consumerMessage: vi.fn(),
  saveConsumed: vi.fn(),
  closeConsumer: vi.fn(),
  saveConsumedToCollection: vi.fn(),
  listCollections: vi.fn(),
  suggestSavePath: vi.fn(),
  cancelOperation: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import ConsumeTab from './ConsumeTab.svelte';

const states = new Map<number, DeliveryState>();

function row(index: number): ConsumedRow {
  return {
    ...messageRow(index),
    seq: index + 1,
    delivery_tag: index + 1,
    state: states.get(index + 1) ?? 'unacked',
    acquired_count: null,
    received_at_ms: 1_700_000_000_000,
    evicted: false,
  };
}

function detail(index: number): ConsumedDetail {
  return {
    ...messageDetail(index),
    seq: index + 1,
    delivery_tag: index + 1,
    state: states.get(index + 1) ?? 'unacked',
    acquired_count: 2,
    received_at_ms: 1_700_000_000_000,
    evicted: false,
  };
}

const report: StopReport = {
  received: 3,
  acked: 1,
  nacked: 0,
  rejected: 0,
  returned: 2,
  returned_by: 'nack_requeue',
  return_effect: null,
  stale: 0,
  tap_queue_removed: null,
  error: null,
};

let handlers: OperationHandlers<ConsumerEvent[]> | null = null;
let finish: (r: StopReport) => void = () => {};

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  for (const f of Object.values(backend)) f.mockReset();
  states.clear();
  handlers = null;
  backend.startConsumer.mockImplementation((_n: string, _r: unknown, h: OperationHandlers<ConsumerEvent[]>) => {
    handlers = h;
    h.onStarted(41);
    return new Promise<StopReport>((resolve) => (finish = resolve));
  });
  backend.consumerRows.mockImplementation((_id: number, start: number, count: number) =>
    Promise.resolve(Array.from({ length: count }, (_, i) => row(start + i))),
  );
  backend.consumerMessage.mockImplementation((_id: number, index: number) => Promise.resolve(detail(index)));
  backend.suggestSavePath.mockResolvedValue('/tmp/orders.jsonl');
  backend.closeConsumer.mockResolvedValue(undefined);
  backend.cancelOperation.mockResolvedValue(undefined);
  backend.settleDeliveries.mockImplementation((_id: number, sel: { indices: number[] }) => {
    for (const i of sel.indices) states.set(i + 1, 'acked');
    return Promise.resolve({ settled: sel.indices.map((i) => i + 1), skipped: [], frames: 1 });
  });
  backend.stopConsumer.mockImplementation(() => {
    finish(report);
    return Promise.resolve(report);
  });
});

afterEach(() => {
  vi.useRealTimers();
});

const props = { name: 'prod', target: { vhost: '/', queue: 'orders', type: 'classic' as const }, onEditResend: vi.fn() };

async function startWithThree(): Promise<void> {
  render(ConsumeTab, { props });
  await flush();
  await fireEvent.click(screen.getByTestId('consume-start'));
  await flush();
  handlers?.onProgress([
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
  await flush();
}

describe('ConsumeTab', () => {
  it('starts a manual-ack consumer with the small default prefetch', async () => {
    await startWithThree();
    expect(backend.startConsumer).toHaveBeenCalledWith(
      'prod',
      { vhost: '/', queue: 'orders', prefetch: 20, exclusive: false, priority: null, ack_mode: 'manual', budget_bytes: null, auto_resume: false },
      expect.anything(),
    );
    expect(screen.getAllByTestId('message-row')).toHaveLength(3);
    expect(screen.getByTestId('consumer-timeout').textContent).toMatch(/30 min/);
  });

  it('asks before automatic ack', async () => {
    render(ConsumeTab, { props });
    await flush();
    await fireEvent.click(screen.getByTestId('consume-ack-auto'));
    expect(screen.getByTestId('auto-ack-warning').textContent).toMatch(/gone from\s+RabbitMQ/);
    expect((screen.getByTestId('consume-start') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('consume-auto-confirm'));
    expect((screen.getByTestId('consume-start') as HTMLButtonElement).disabled).toBe(false);
  });

  it('acks the rows ticked with Ctrl + click and shows their new state', async () => {
    await startWithThree();
    const rows = () => screen.getAllByTestId('message-row');
    await fireEvent.click(rows()[0]!);
    await fireEvent.click(rows()[2]!, { ctrlKey: true });
    await flush();
    await fireEvent.click(screen.getByTestId('settle-ack'));
    await flush();
    expect(backend.settleDeliveries).toHaveBeenCalledWith(41, { kind: 'indices', indices: [2] }, { kind: 'ack' });
    handlers?.onProgress([{ event: 'states', changes: [{ seq: 3, state: 'acked' }] }]);
    await flush();
    expect(rows().map((r) => r.dataset.state)).toEqual(['unacked', 'unacked', 'acked']);
    const acked = screen.getAllByTestId('state-count').find((c) => c.dataset.state === 'acked');
    expect(acked?.dataset.count).toBe('1');
  });

  it('settles everything up to the open delivery', async () => {
    backend.settleUpTo.mockResolvedValue({ settled: [1, 2], skipped: [], frames: 1 });
    await startWithThree();
    await fireEvent.click(screen.getAllByTestId('message-row')[1]!);
    await flush();
    await fireEvent.change(screen.getByTestId('settle-scope'), { target: { value: 'up_to' } });
    await fireEvent.click(screen.getByTestId('settle-reject'));
    await flush();
    expect(backend.settleUpTo).toHaveBeenCalledWith(41, 2, { kind: 'reject', requeue: false });
  });

  it('saves the ticked deliveries into a new collection', async () => {
    backend.listCollections.mockResolvedValue({ dir: '/data/collections', own: true, collections: [] });
    backend.saveConsumedToCollection.mockResolvedValue({ file: 'poison.jsonl', name: 'poison', messages: 1 });
    await startWithThree();
    await fireEvent.click(screen.getAllByTestId('message-row')[1]!, { ctrlKey: true });
    await flush();
    await fireEvent.click(screen.getByTestId('save-to-collection-open'));
    await flush();
    await fireEvent.input(screen.getByTestId('save-to-collection-name'), { target: { value: 'poison' } });
    await fireEvent.click(screen.getByTestId('save-to-collection-save'));
    await flush();
    expect(backend.saveConsumedToCollection).toHaveBeenCalledWith(
      41,
      { kind: 'indices', indices: [1] },
      null,
      { kind: 'new', name: 'poison' },
    );
  });

  it('says how many went back when stopped', async () => {
    await startWithThree();
    await fireEvent.click(screen.getByTestId('consumer-stop'));
    await flush();
    expect(screen.getByTestId('consumer-stopped').textContent).toMatch(/2 went back/);
  });

  it('closing the tab cancels the consumer and frees it', async () => {
    await startWithThree();
    cleanup();
    await flush();
    expect(backend.cancelOperation).toHaveBeenCalledWith(41);
    expect(backend.closeConsumer).toHaveBeenCalledWith(41);
  });

  it('shows batches of new deliveries at most every 200 ms, and anything else at once', async () => {
    await startWithThree();
    expect(screen.getByTestId('consumer-received').textContent).toMatch(/^3 received/);
    handlers?.onProgress([{ event: 'deliveries', first_seq: 4, last_seq: 5, total: 5, matched: 5, held_bytes: 600 }]);
    handlers?.onProgress([{ event: 'deliveries', first_seq: 6, last_seq: 6, total: 6, matched: 6, held_bytes: 720 }]);
    await flush();
    expect(screen.getByTestId('consumer-received').textContent).toMatch(/^3 received/);
    await vi.advanceTimersByTimeAsync(200);
    expect(screen.getByTestId('consumer-received').textContent).toMatch(/^6 received/);
    // Deliveries held back come with the next batch that must show at once.
    handlers?.onProgress([{ event: 'deliveries', first_seq: 7, last_seq: 7, total: 7, matched: 7, held_bytes: 840 }]);
    handlers?.onProgress([{ event: 'states', changes: [{ seq: 7, state: 'acked' }] }]);
    await flush();
    expect(screen.getByTestId('consumer-received').textContent).toMatch(/^7 received/);
    const count = (state: string) => screen.getByTestId('consumer-counts').querySelector(`[data-state="${state}"]`)?.getAttribute('data-count');
    expect([count('unacked'), count('acked')]).toEqual(['6', '1']);
  });

  it('shows a lost channel with Resume', async () => {
    backend.resumeConsumer.mockResolvedValue(undefined);
    await startWithThree();
    handlers?.onProgress([
      { event: 'states', changes: [{ seq: 1, state: 'stale' }] },
      { event: 'channel_lost', stale: 1, reason: 'connection closed' },
    ]);
    await flush();
    expect(screen.getByTestId('consumer-lost').textContent).toMatch(/1 unsettled delivery is\s+stale/);
    await fireEvent.click(screen.getByTestId('consumer-resume'));
    await flush();
    expect(backend.resumeConsumer).toHaveBeenCalledWith(41);
  });
});
