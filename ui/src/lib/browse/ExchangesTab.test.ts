import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { bindingRow, exchangeRow } from '../../test/browseFixtures';
import type { Topology } from '../bindings/Topology';

const backend = vi.hoisted(() => ({ listExchanges: vi.fn(), listBindings: vi.fn(), topology: vi.fn() }));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import ExchangesTab from './ExchangesTab.svelte';

const around = (name: string): Topology => ({
  focus: `e:${name}`,
  truncated: false,
  nodes: [
    { id: `e:${name}`, kind: 'exchange', name, exchange_type: 'topic', depth: 0 },
    { id: 'q:orders.eu', kind: 'queue', name: 'orders.eu', exchange_type: null, depth: 1 },
  ],
  edges: [{ from: `e:${name}`, to: 'q:orders.eu', routing_key: 'order.eu', arguments: {} }],
});

async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  for (const f of Object.values(backend)) f.mockReset();
  backend.listExchanges.mockResolvedValue([
    exchangeRow('', { kind: 'direct' }),
    exchangeRow('orders'),
    exchangeRow('match', { kind: 'headers' }),
  ]);
  backend.listBindings.mockResolvedValue([
    bindingRow('orders', 'orders.eu', { routing_key: 'order.eu' }),
    bindingRow('match', 'orders.eu', { routing_key: '', arguments: { 'x-match': 'all', region: 'eu' } }),
    bindingRow('match', 'orders', { destination_type: 'exchange', routing_key: '' }),
  ]);
  backend.topology.mockImplementation((_n: string, _v: string, f: { name: string }) => Promise.resolve(around(f.name)));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ExchangesTab', () => {
  it('lists, filters and selects exchanges, showing their bindings and routing', async () => {
    render(ExchangesTab, { name: 'prod', vhost: '/', onTap: () => {} });
    await settle();
    expect(backend.listExchanges).toHaveBeenCalledWith('prod', '/');
    expect(screen.getAllByTestId('exchange-row').map((r) => r.dataset['exchange'])).toEqual(['', 'orders', 'match']);

    await fireEvent.input(screen.getByTestId('exchange-filter'), { target: { value: 'ord' } });
    expect(screen.getAllByTestId('exchange-row').map((r) => r.dataset['exchange'])).toEqual(['orders']);

    await fireEvent.click(screen.getAllByTestId('exchange-row')[0] as HTMLElement);
    await settle();
    const detail = screen.getByTestId('exchange-detail');
    const out = within(detail).getByTestId('exchange-bindings');
    expect(within(out).getAllByTestId('binding-row').map((r) => r.dataset['destination'])).toEqual(['orders.eu']);
    const incoming = within(detail).getByTestId('exchange-incoming');
    expect(within(incoming).getAllByTestId('binding-row').map((r) => r.dataset['source'])).toEqual(['match']);
    expect(backend.topology).toHaveBeenCalledWith('prod', '/', { kind: 'exchange', name: 'orders' });

    // Re-centre on the queue.
    const queueNode = within(detail)
      .getAllByTestId('topology-node')
      .find((n) => n.dataset['node'] === 'q:orders.eu');
    await fireEvent.click(queueNode as Element);
    await settle();
    expect(backend.topology).toHaveBeenLastCalledWith('prod', '/', { kind: 'queue', name: 'orders.eu' });
  });

  it('shows every binding of the vhost with header matches', async () => {
    render(ExchangesTab, { name: 'prod', vhost: '/', onTap: () => {} });
    await settle();
    const all = screen.getByTestId('all-bindings');
    const rows = within(all).getAllByTestId('binding-row');
    expect(rows).toHaveLength(3);
    expect(rows[1]?.textContent).toContain('all: region=eu');
  });
});
