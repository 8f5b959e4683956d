import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  inspectionSummary,
  messageDetail,
  peekPlan,
  queueDetail,
  queuePage,
  queueRow,
  rowsOf,
  topologyAroundQueue,
} from '../../test/browseFixtures';
import { clusterStatus } from '../../test/fixtures';

const backend = vi.hoisted(() => ({
  clusterStatus: vi.fn(),
  closeCluster: vi.fn(),
  listQueues: vi.fn(),
  queueDetail: vi.fn(),
  topology: vi.fn(),
  listExchanges: vi.fn(),
  listBindings: vi.fn(),
  planPeek: vi.fn(),
  startPeek: vi.fn(),
  inspectionRows: vi.fn(),
  inspectionMessage: vi.fn(),
  suggestSavePath: vi.fn(),
  closeInspection: vi.fn(),
  releaseCluster: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import { handleShortcutKey } from '../shared/shortcuts';
import ClusterWorkspace from './ClusterWorkspace.svelte';

const props = { name: 'prod', vhost: '/', onBack: () => {}, onEdit: () => {} };

async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  for (const f of Object.values(backend)) f.mockReset();
  backend.clusterStatus.mockResolvedValue(clusterStatus());
  backend.listQueues.mockResolvedValue(queuePage([queueRow('orders', { type: 'classic' })]));
  backend.queueDetail.mockResolvedValue(queueDetail('orders', { row: queueRow('orders', { type: 'classic' }) }));
  backend.topology.mockResolvedValue(topologyAroundQueue());
  backend.listExchanges.mockResolvedValue([]);
  backend.listBindings.mockResolvedValue([]);
  backend.planPeek.mockResolvedValue(peekPlan());
  backend.startPeek.mockResolvedValue(inspectionSummary(100));
  backend.inspectionRows.mockImplementation(rowsOf(100));
  backend.inspectionMessage.mockImplementation((_id: number, i: number) => Promise.resolve(messageDetail(i)));
  backend.suggestSavePath.mockResolvedValue('/tmp/orders.jsonl');
  backend.closeInspection.mockResolvedValue(undefined);
  backend.releaseCluster.mockResolvedValue(undefined);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ClusterWorkspace', () => {
  it('opens on Status and switches tabs', async () => {
    render(ClusterWorkspace, props);
    await settle();
    expect(screen.getByTestId('tab-status').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('cluster-view')).toBeTruthy();

    await fireEvent.click(screen.getByTestId('tab-queues'));
    await settle();
    expect(screen.queryByTestId('cluster-view')).toBeNull();
    expect(screen.getAllByTestId('queue-row')).toHaveLength(1);

    await fireEvent.keyDown(screen.getByTestId('tab-queues'), { key: 'ArrowRight' });
    await settle();
    expect(screen.getByTestId('tab-exchanges').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('exchanges-tab')).toBeTruthy();

    await fireEvent.click(screen.getByTestId('tab-publish'));
    expect(screen.getByTestId('composer')).toBeTruthy();
  });

  it('browses a queue from its detail, then edits a message and resends it from Publish', async () => {
    render(ClusterWorkspace, props);
    await settle();
    await fireEvent.click(screen.getByTestId('tab-queues'));
    await settle();
    await fireEvent.click(screen.getAllByTestId('queue-row')[0] as HTMLElement);
    await settle();
    await fireEvent.click(screen.getByTestId('browse-queue'));
    await settle();
    expect(screen.getByTestId('tab-browse').getAttribute('aria-selected')).toBe('true');
    expect((screen.getByTestId('peek-queue') as HTMLInputElement).value).toBe('orders');
    expect((screen.getByTestId('peek-count') as HTMLInputElement).value).toBe('100');

    await fireEvent.click(screen.getByTestId('peek-start'));
    await settle();
    await fireEvent.click(screen.getAllByTestId('message-row')[4] as HTMLElement);
    await settle();
    await fireEvent.click(screen.getByTestId('edit-resend'));
    await settle();
    expect(screen.getByTestId('tab-publish').getAttribute('aria-selected')).toBe('true');
    const composer = screen.getByTestId('composer');
    expect(composer.closest('[hidden]')).toBeNull();
    // The composer (another component) starts from the message: its routing key is in one of its inputs.
    const values = [...composer.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value);
    expect(values).toContain('order.4');

    // The inspection survives a look at another tab.
    await fireEvent.click(screen.getByTestId('tab-browse'));
    expect(screen.getByTestId('inspector')).toBeTruthy();
    expect(backend.closeInspection).not.toHaveBeenCalled();
  });

  it('releases the cluster when it is left, and only then', async () => {
    const view = render(ClusterWorkspace, props);
    await settle();
    await fireEvent.click(screen.getByTestId('tab-browse'));
    await fireEvent.click(screen.getByTestId('tab-status'));
    await settle();
    expect(backend.releaseCluster).not.toHaveBeenCalled();

    // The same workspace shown for another profile leaves the first cluster.
    await view.rerender({ ...props, name: 'staging' });
    await settle();
    expect(backend.releaseCluster.mock.calls).toEqual([['prod']]);

    view.unmount();
    expect(backend.releaseCluster.mock.calls).toEqual([['prod'], ['staging']]);
  });

  it('switches tabs, peeks and steps through messages from the keyboard', async () => {
    // What App.svelte does for the window.
    const listener = (e: KeyboardEvent): void => void handleShortcutKey(e, () => {}, 'other');
    window.addEventListener('keydown', listener);
    try {
      render(ClusterWorkspace, props);
      await settle();
      await fireEvent.keyDown(document.body, { key: '4', ctrlKey: true });
      expect(screen.getByTestId('tab-browse').getAttribute('aria-selected')).toBe('true');
      await fireEvent.keyDown(document.body, { key: 'Tab', ctrlKey: true, shiftKey: true });
      expect(screen.getByTestId('tab-exchanges').getAttribute('aria-selected')).toBe('true');
      await fireEvent.keyDown(document.body, { key: 'Tab', ctrlKey: true });
      expect(screen.getByTestId('tab-browse').getAttribute('aria-selected')).toBe('true');

      // Ctrl+Enter in the queue field peeks.
      await fireEvent.input(screen.getByTestId('peek-queue'), { target: { value: 'orders' } });
      await fireEvent.keyDown(screen.getByTestId('peek-queue'), { key: 'Enter', ctrlKey: true });
      await settle();
      expect(backend.startPeek).toHaveBeenCalledOnce();
      expect(screen.getAllByTestId('message-row').length).toBeGreaterThan(0);

      // J and K move through the list, wherever the focus is.
      (document.activeElement as HTMLElement | null)?.blur();
      await fireEvent.keyDown(document.body, { key: 'j' });
      await fireEvent.keyDown(document.body, { key: 'j' });
      await fireEvent.keyDown(document.body, { key: 'j' });
      await fireEvent.keyDown(document.body, { key: 'k' });
      await settle();
      expect(screen.getByTestId('message-detail').dataset['index']).toBe('1');
    } finally {
      window.removeEventListener('keydown', listener);
    }
  });
});
