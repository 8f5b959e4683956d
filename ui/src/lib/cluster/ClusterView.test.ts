import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { clusterStatus as statusFixture, nodeChecks, quorumQueue } from '../../test/fixtures';

const backend = vi.hoisted(() => ({ clusterStatus: vi.fn(), closeCluster: vi.fn() }));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, clusterStatus: backend.clusterStatus, closeCluster: backend.closeCluster };
});

import ClusterView from './ClusterView.svelte';

const props = { name: 'prod', onBack: () => {}, onEdit: () => {} };

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  backend.clusterStatus.mockReset();
  backend.closeCluster.mockReset();
});

afterEach(() => {
  vi.useRealTimers();
});

async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

describe('ClusterView', () => {
  it('renders the status: nodes, health, at-risk and replication rows', async () => {
    backend.clusterStatus.mockResolvedValue(statusFixture());
    render(ClusterView, props);
    await settle();

    expect(screen.getByTestId('cluster-view')).toBeTruthy();
    expect(screen.getByTestId('health-badge').dataset['level']).toBe('critical');
    const rows = screen.getAllByTestId('node-row');
    expect(rows.map((r) => r.dataset['state'])).toEqual(['running', 'running', 'down']);
    expect(screen.getAllByTestId('at-risk-row')).toHaveLength(1);
    expect(screen.getAllByTestId('quorum-row')).toHaveLength(1);
    expect(screen.getAllByTestId('mirrored-row')).toHaveLength(1);
    expect(screen.getByTestId('last-updated').textContent).toMatch(/last updated \d\d:\d\d:\d\d/);
    expect((screen.getByTestId('refresh-interval') as HTMLSelectElement).value).toBe('5000');
    expect(screen.queryByTestId('dead-config-section')).toBeNull();
  });

  it('shows the health checks per node: failures with the reason, checks this version lacks apart', async () => {
    backend.clusterStatus.mockResolvedValue(
      statusFixture({
        health_checks: [
          nodeChecks('rabbit@node-1', {}),
          nodeChecks('rabbit@node-2', { 'node-is-quorum-critical': 'failed' }),
        ],
      }),
    );
    render(ClusterView, props);
    await settle();
    const section = screen.getByTestId('health-checks-section');
    expect(section.textContent).toContain('1 failed');
    const rows = screen.getAllByTestId('health-check-row');
    expect(rows.map((r) => r.dataset['check'])).toEqual(['alarms', 'node-is-quorum-critical', 'is-in-service']);
    const quorumCells = rows[1]!.querySelectorAll<HTMLElement>('[data-testid="health-check-cell"]');
    expect([...quorumCells].map((c) => c.dataset['outcome'])).toEqual(['passed', 'failed']);
    expect(quorumCells[1]!.textContent).toContain('node-is-quorum-critical failed on rabbit@node-2');
    expect(screen.getByTestId('health-checks-unavailable').textContent).toContain('node-is-mirror-sync-critical');
  });

  it('says when no health check could be read', async () => {
    backend.clusterStatus.mockResolvedValue(statusFixture({ health_checks: [] }));
    render(ClusterView, props);
    await settle();
    expect(screen.getByTestId('health-checks-none')).toBeTruthy();
  });

  it('hides mirrored classic queues where mirroring does not exist', async () => {
    backend.clusterStatus.mockResolvedValue(statusFixture({ mirroring_supported: false, mirrored_queues: [] }));
    render(ClusterView, props);
    await settle();
    expect(screen.queryByTestId('mirrored-section')).toBeNull();
    expect(screen.getByTestId('quorum-section')).toBeTruthy();
  });

  it('says so when no queue is at risk, and shows dead policies when there are some', async () => {
    backend.clusterStatus.mockResolvedValue(
      statusFixture({
        at_risk: [],
        dead_policies: [{ vhost: '/', name: 'ha-all', pattern: '.*', keys: ['ha-mode'], reason: 'ignored on 4.x' }],
      }),
    );
    render(ClusterView, props);
    await settle();
    expect(screen.getByTestId('no-risk').textContent).toBe('No queue at risk');
    expect(screen.getAllByTestId('dead-policy-row')).toHaveLength(1);
  });

  it('lists shovels and federation links, the ones not running first and highlighted', async () => {
    backend.clusterStatus.mockResolvedValue(
      statusFixture({
        shovels: [
          {
            name: 'ok-mover',
            vhost: '/',
            kind: 'dynamic',
            state: 'running',
            node: 'rabbit@node-1',
            source: 'queue "a" on amqp://',
            destination: 'queue "b" on amqp://10.0.0.2',
            last_error: null,
            source_queue: 'a',
          },
          {
            name: 'broken-mover',
            vhost: '/',
            kind: 'dynamic',
            state: 'terminated',
            node: 'rabbit@node-1',
            source: 'queue "c" on amqp://',
            destination: 'queue "d" on amqp://10.0.0.9',
            last_error: 'failed to connect to destination',
            source_queue: 'c',
          },
        ],
        federation: [
          {
            vhost: '/',
            upstream: 'dc2',
            kind: 'queue',
            local: 'orders',
            upstream_name: 'orders',
            status: 'running',
            node: 'rabbit@node-2',
            uri: 'amqp://dc2.example',
            last_error: null,
          },
        ],
      }),
    );
    render(ClusterView, props);
    await settle();

    const shovels = screen.getByTestId('shovels-section');
    expect(shovels.textContent).toContain('1 not running');
    const rows = [...shovels.querySelectorAll<HTMLElement>('[data-testid="link-row"]')];
    expect(rows.map((r) => [r.dataset['name'], r.dataset['state']])).toEqual([
      ['broken-mover', 'terminated'],
      ['ok-mover', 'running'],
    ]);
    expect(rows[0]!.classList.contains('row-warning')).toBe(true);
    expect(rows[1]!.classList.contains('row-warning')).toBe(false);
    expect(rows[0]!.textContent).toContain('queue "d" on amqp://10.0.0.9');
    expect(rows[0]!.querySelector('[data-testid="link-error"]')!.textContent).toBe('failed to connect to destination');

    const federation = screen.getByTestId('federation-section');
    const links = [...federation.querySelectorAll<HTMLElement>('[data-testid="link-row"]')];
    expect(links).toHaveLength(1);
    expect(links[0]!.dataset['kind']).toBe('federation');
    expect(links[0]!.textContent).toContain('upstream "dc2": queue "orders" on amqp://dc2.example');
    expect(federation.querySelector('[data-testid="links-unavailable"]')).toBeNull();
  });

  it('says the links are not available where their plugins do not run, and none where there are none', async () => {
    backend.clusterStatus.mockResolvedValue(statusFixture({ shovels: [] }));
    render(ClusterView, props);
    await settle();
    const shovels = screen.getByTestId('shovels-section');
    expect(shovels.querySelector('[data-testid="links-none"]')).toBeTruthy();
    const federation = screen.getByTestId('federation-section');
    expect(federation.querySelector('[data-testid="links-unavailable"]')!.textContent).toContain(
      'rabbitmq_federation_management',
    );
    expect(federation.textContent).toContain('n/a');
  });

  it('caps a long replication table and filters it', async () => {
    const many = Array.from({ length: 700 }, (_, i) => quorumQueue(`q-${i}`, ['a', 'b', 'c']));
    backend.clusterStatus.mockResolvedValue(statusFixture({ quorum_queues: many }));
    render(ClusterView, props);
    await settle();
    expect(screen.getAllByTestId('quorum-row')).toHaveLength(500);
    expect(screen.getByText('showing 500 of 700 — refine the filter')).toBeTruthy();

    await fireEvent.input(screen.getByTestId('queue-filter'), { target: { value: 'q-69' } });
    expect(screen.getAllByTestId('quorum-row')).toHaveLength(11); // q-69, q-690..q-699
  });

  it('keeps the last good data, marked stale, when a refresh fails', async () => {
    backend.clusterStatus.mockResolvedValueOnce(statusFixture());
    backend.clusterStatus.mockRejectedValueOnce({ kind: 'unreachable', message: 'connection refused' });
    render(ClusterView, props);
    await settle();
    expect(screen.queryByTestId('stale-banner')).toBeNull();

    await vi.advanceTimersByTimeAsync(5000);
    expect(backend.clusterStatus).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('stale-banner').textContent).toContain('connection refused');
    expect(screen.getByTestId('last-updated').dataset['stale']).toBe('true');
    expect(screen.getAllByTestId('node-row')).toHaveLength(3);
  });

  it('shows the error with a retry when the first load fails', async () => {
    backend.clusterStatus.mockRejectedValue({ kind: 'password_missing', message: 'no password stored for "prod"' });
    render(ClusterView, props);
    await settle();
    const box = screen.getByTestId('error-box');
    expect(box.dataset['kind']).toBe('password_missing');
    expect(box.textContent).toContain('no password stored');
    expect(screen.queryByTestId('node-row')).toBeNull();
  });

  it('refreshes on the chosen interval, not when off, and stops when it goes away', async () => {
    backend.clusterStatus.mockResolvedValue(statusFixture());
    const view = render(ClusterView, props);
    await settle();
    expect(backend.clusterStatus).toHaveBeenCalledTimes(1);

    await vi.advanceTimersByTimeAsync(5000);
    expect(backend.clusterStatus).toHaveBeenCalledTimes(2);

    await fireEvent.change(screen.getByTestId('refresh-interval'), { target: { value: '0' } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(backend.clusterStatus).toHaveBeenCalledTimes(2);

    await fireEvent.change(screen.getByTestId('refresh-interval'), { target: { value: '2000' } });
    await vi.advanceTimersByTimeAsync(2000);
    expect(backend.clusterStatus).toHaveBeenCalledTimes(3);

    view.unmount();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(backend.clusterStatus).toHaveBeenCalledTimes(3);
  });
});
