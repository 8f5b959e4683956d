import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { queueDetail, queuePage, queueRow, topologyAroundQueue } from '../../test/browseFixtures';

const backend = vi.hoisted(() => ({
  listQueues: vi.fn(),
  queueDetail: vi.fn(),
  purgeQueue: vi.fn(),
  topology: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import QueuesTab from './QueuesTab.svelte';

const onBrowse = vi.fn();
const props = { name: 'prod', vhost: '/', onBrowse, onConsume: () => {} };

async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  for (const f of Object.values(backend)) f.mockReset();
  onBrowse.mockReset();
  backend.listQueues.mockResolvedValue(
    queuePage(
      [
        queueRow('orders'),
        queueRow('payments', { type: 'classic', replication: { kind: 'mirrors', total: 2, healthy: 1 }, policy: 'ha-two' }),
      ],
      { total_count: 250, filtered_count: 250, page_count: 3 },
    ),
  );
  backend.queueDetail.mockImplementation((_n: string, _v: string, q: string) => Promise.resolve(queueDetail(q)));
  backend.topology.mockResolvedValue(topologyAroundQueue());
});

afterEach(() => {
  vi.useRealTimers();
});

const lastQuery = () => backend.listQueues.mock.calls.at(-1)?.[1] as Record<string, unknown>;

describe('QueuesTab', () => {
  it('lists a page of queues with replication badges', async () => {
    render(QueuesTab, props);
    await settle();
    expect(lastQuery()).toEqual({
      vhost: '/',
      filter: '',
      regex: false,
      page: 1,
      page_size: 100,
      sort: 'name',
      sort_reverse: false,
    });
    const rows = screen.getAllByTestId('queue-row');
    expect(rows.map((r) => r.dataset['queue'])).toEqual(['orders', 'payments']);
    const badges = screen.getAllByTestId('replication-badge');
    expect(badges.map((b) => b.textContent)).toEqual(['3/3 online', '1/2 synced']);
    expect(badges[1]?.className).toContain('tone-warning');
    expect(screen.getByTestId('page-label').textContent).toBe('page 1 of 3');
  });

  it('sorts by a clicked column, pages, filters (debounced) and lists every vhost', async () => {
    render(QueuesTab, props);
    await settle();
    await fireEvent.click(screen.getByTestId('sort-messages_ready'));
    await settle();
    expect(lastQuery()).toMatchObject({ sort: 'messages_ready', sort_reverse: true });
    await fireEvent.click(screen.getByTestId('sort-messages_ready'));
    await settle();
    expect(lastQuery()).toMatchObject({ sort: 'messages_ready', sort_reverse: false });

    await fireEvent.click(screen.getByTestId('page-next'));
    await settle();
    expect(lastQuery()).toMatchObject({ page: 2 });

    const calls = backend.listQueues.mock.calls.length;
    await fireEvent.click(screen.getByTestId('queue-filter-regex'));
    await settle();
    await fireEvent.input(screen.getByTestId('queue-filter'), { target: { value: '^ord' } });
    await settle(100);
    expect(lastQuery()).toMatchObject({ filter: '' });
    await settle(300);
    expect(lastQuery()).toMatchObject({ filter: '^ord', regex: true, page: 1 });
    expect(backend.listQueues.mock.calls.length).toBe(calls + 2);

    await fireEvent.change(screen.getByTestId('queue-vhost'), { target: { value: '*' } });
    await settle();
    expect(lastQuery()).toMatchObject({ vhost: null });
    expect(screen.getByRole('columnheader', { name: 'Vhost' })).toBeTruthy();
  });

  it('refreshes every 5 s and marks the page stale when a refresh fails', async () => {
    render(QueuesTab, props);
    await settle();
    const n = backend.listQueues.mock.calls.length;
    backend.listQueues.mockRejectedValueOnce({ kind: 'unreachable', message: 'connection refused' });
    await settle(5000);
    expect(backend.listQueues.mock.calls.length).toBe(n + 1);
    expect(screen.getByTestId('last-updated').dataset['stale']).toBe('true');
    expect(screen.getAllByTestId('queue-row')).toHaveLength(2);
    expect(screen.getByTestId('error-box').dataset['kind']).toBe('unreachable');
  });

  it('opens the detail on a row click and hands the queue to Browse', async () => {
    render(QueuesTab, props);
    await settle();
    await fireEvent.click(screen.getAllByTestId('queue-row')[0] as HTMLElement);
    await settle();
    expect(backend.queueDetail).toHaveBeenCalledWith('prod', '/', 'orders');
    const detail = screen.getByTestId('queue-detail');
    expect(detail.dataset['queue']).toBe('orders');
    const features = screen.getAllByTestId('feature-row').map((r) => [r.dataset['feature'], r.dataset['source']]);
    expect(features).toEqual([
      ['dead_letter_exchange', 'argument'],
      ['max_length', 'policy'],
      ['delivery_limit', 'default'],
    ]);
    expect(screen.getAllByTestId('replica').map((r) => r.dataset['healthy'])).toEqual(['true', 'true', 'false']);
    expect(backend.topology).toHaveBeenCalledWith('prod', '/', { kind: 'queue', name: 'orders' });
    expect(screen.getAllByTestId('topology-node')).toHaveLength(4);

    await fireEvent.click(screen.getByTestId('browse-queue'));
    expect(onBrowse).toHaveBeenCalledWith({ vhost: '/', queue: 'orders', type: 'quorum' });

    // No refresh of the hidden list.
    const n = backend.listQueues.mock.calls.length;
    await settle(10_000);
    expect(backend.listQueues.mock.calls.length).toBe(n);
    await fireEvent.click(screen.getByTestId('close-queue-detail'));
    await settle();
    expect(screen.getAllByTestId('queue-row')).toHaveLength(2);
  });

  it('purges only after the queue name is typed', async () => {
    backend.purgeQueue.mockResolvedValue({ messages_before: 12 });
    render(QueuesTab, props);
    await settle();
    await fireEvent.click(screen.getAllByTestId('queue-row')[0] as HTMLElement);
    await settle();
    await fireEvent.click(screen.getByTestId('purge-queue'));
    const confirm = screen.getByTestId('purge-confirm') as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('purge-confirm-input'), { target: { value: 'order' } });
    expect(confirm.disabled).toBe(true);
    await fireEvent.click(confirm);
    expect(backend.purgeQueue).not.toHaveBeenCalled();
    await fireEvent.input(screen.getByTestId('purge-confirm-input'), { target: { value: 'orders' } });
    expect(confirm.disabled).toBe(false);
    await fireEvent.click(confirm);
    await settle();
    expect(backend.purgeQueue).toHaveBeenCalledWith('prod', '/', 'orders');
    expect(screen.getByTestId('purge-result').textContent).toContain('12 message(s)');
    expect(screen.queryByTestId('purge-dialog')).toBeNull();
  });
});
