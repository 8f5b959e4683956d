import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { ConnectionRow } from '../bindings/ConnectionRow';

const backend = vi.hoisted(() => ({ listConnections: vi.fn(), closeConnection: vi.fn() }));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import ConnectionsTab from './ConnectionsTab.svelte';

function row(name: string, over: Partial<ConnectionRow> = {}): ConnectionRow {
  return {
    name,
    client_provided_name: null,
    user: 'guest',
    vhost: '/',
    node: 'rabbit@a',
    client_host: '10.0.0.7',
    client_port: 50112,
    protocol: 'AMQP 0-9-1',
    state: 'running',
    tls: false,
    client: 'lapin 4',
    channels: 2,
    prefetch: 40,
    unacked: 3,
    publish_rate: 12.5,
    deliver_rate: 0,
    recv_rate: 2048,
    send_rate: 512,
    connected_at: 1_700_000_000_000,
    ...over,
  };
}

const A = '10.0.0.7:50112 -> 10.0.0.1:5672';
const B = '10.0.0.8:40000 -> 10.0.0.1:5672';

beforeEach(() => {
  backend.listConnections.mockReset();
  backend.closeConnection.mockReset();
  backend.listConnections.mockResolvedValue([
    row(A, { client_provided_name: 'orders-worker' }),
    row(B, { user: 'billing', client_host: '10.0.0.8' }),
  ]);
});

describe('ConnectionsTab', () => {
  it('lists each connection by the name its client gave, with channels, prefetch and unacked', async () => {
    render(ConnectionsTab, { name: 'prod' });
    const rows = await screen.findAllByTestId('connection-row');
    expect(rows.map((r) => r.dataset.connection)).toEqual([A, B]);
    const [first, second] = rows as [HTMLElement, HTMLElement];
    expect(within(first).getByText('orders-worker')).toBeTruthy();
    expect(first.textContent).toContain('40');
    expect(first.textContent).toContain('AMQP 0-9-1');
    // Without a client name, the broker's name shows.
    expect(second.textContent).toContain(B);
  });

  it('filters by user or host', async () => {
    render(ConnectionsTab, { name: 'prod' });
    await screen.findAllByTestId('connection-row');
    await fireEvent.input(screen.getByTestId('connection-filter').querySelector('input') ?? screen.getByTestId('connection-filter'), {
      target: { value: 'billing' },
    });
    const rows = screen.getAllByTestId('connection-row');
    expect(rows.map((r) => r.dataset.connection)).toEqual([B]);
  });

  it('closes a connection only with a reason, after a confirmation that names it, then reloads', async () => {
    render(ConnectionsTab, { name: 'prod' });
    const [first] = (await screen.findAllByTestId('connection-row')) as [HTMLElement];
    await fireEvent.click(within(first).getByTestId('close-connection'));
    const confirm = screen.getByTestId('close-confirm');
    expect(confirm.textContent).toContain('orders-worker');
    expect(confirm.textContent).toContain('3');
    const button = screen.getByTestId('confirm-close') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(backend.closeConnection).not.toHaveBeenCalled();

    backend.closeConnection.mockResolvedValue(A);
    backend.listConnections.mockResolvedValue([row(B)]);
    await fireEvent.input(screen.getByTestId('close-reason'), { target: { value: 'maintenance' } });
    expect(button.disabled).toBe(false);
    await fireEvent.click(button);
    await vi.waitFor(() => expect(screen.getByTestId('connection-closed').textContent).toContain(A));
    expect(backend.closeConnection).toHaveBeenCalledWith('prod', A, 'maintenance');
    await vi.waitFor(() => expect(screen.getAllByTestId('connection-row')).toHaveLength(1));
  });

  it('keeps the confirmation open with the error when the close is refused', async () => {
    render(ConnectionsTab, { name: 'prod' });
    const [, second] = (await screen.findAllByTestId('connection-row')) as [HTMLElement, HTMLElement];
    await fireEvent.click(within(second).getByTestId('close-connection'));
    backend.closeConnection.mockRejectedValue({ kind: 'access_refused', message: 'user "ops" may not access connections' });
    await fireEvent.input(screen.getByTestId('close-reason'), { target: { value: 'gone' } });
    await fireEvent.click(screen.getByTestId('confirm-close'));
    await vi.waitFor(() => expect(screen.getByTestId('close-confirm').textContent).toContain('may not access connections'));
  });
});
