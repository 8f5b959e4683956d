import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { queuePage, queueRow } from './test/browseFixtures';
import { clusterStatus, profileEntry } from './test/fixtures';

const backend = vi.hoisted(() => ({
  appInfo: vi.fn(),
  listProfiles: vi.fn(),
  clusterStatus: vi.fn(),
  closeCluster: vi.fn(),
  saveProfile: vi.fn(),
  testProfile: vi.fn(),
  deleteProfile: vi.fn(),
  listQueues: vi.fn(),
}));
vi.mock('./lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./lib/backend')>();
  return { ...actual, ...backend };
});

import App from './App.svelte';

beforeEach(() => {
  for (const f of Object.values(backend)) f.mockReset();
  backend.appInfo.mockResolvedValue({ version: '0.1.0', profiles_file: '/tmp/profiles.toml' });
});

describe('App', () => {
  it('explains how to add a cluster when there is none', async () => {
    backend.listProfiles.mockResolvedValue([]);
    render(App);
    const empty = await screen.findByTestId('empty-state');
    expect(empty.textContent).toContain('warren profile add');
    expect(empty.textContent).toContain('/tmp/profiles.toml');
  });

  it('shows a card per profile, each with its own outcome, and opens a cluster', async () => {
    backend.listProfiles.mockResolvedValue([profileEntry('prod'), profileEntry('lab')]);
    backend.clusterStatus.mockImplementation((name: string) =>
      name === 'lab'
        ? Promise.reject({ kind: 'unreachable', message: 'connection refused' })
        : Promise.resolve(clusterStatus()),
    );
    render(App);
    await vi.waitFor(() => {
      const health = screen.getAllByTestId('cluster-card').map((c) => [c.dataset['profile'], c.dataset['health']]);
      expect(health).toEqual([
        ['prod', 'critical'],
        ['lab', 'error'],
      ]);
    });

    await fireEvent.click(screen.getAllByTestId('open-cluster')[0] as HTMLElement);
    const view = await screen.findByTestId('cluster-view');
    expect(view.dataset['profile']).toBe('prod');
    expect(screen.queryByTestId('cluster-card')).toBeNull();

    await fireEvent.click(screen.getByTestId('edit-profile'));
    expect((await screen.findByTestId('profile-editor')).dataset['mode']).toBe('edit');
    await fireEvent.click(screen.getByTestId('cancel-profile'));
    expect(await screen.findByTestId('cluster-view')).toBeTruthy();
  });

  it('opens the editor to add a cluster', async () => {
    backend.listProfiles.mockResolvedValue([]);
    render(App);
    await fireEvent.click(await screen.findByTestId('add-cluster'));
    const editor = await screen.findByTestId('profile-editor');
    expect(editor.dataset['mode']).toBe('add');
    expect(editor.querySelector<HTMLInputElement>('[name="vhost"]')?.value).toBe('/');
  });

  it('opens a cluster on its Status tab and lists queues of the profile\'s vhost', async () => {
    // A name of its own: the status cache is shared across the tests of this file.
    const entry = profileEntry('stage');
    entry.profile.vhost = 'orders';
    backend.listProfiles.mockResolvedValue([entry]);
    backend.clusterStatus.mockResolvedValue(clusterStatus());
    backend.listQueues.mockResolvedValue(queuePage([queueRow('payments', { vhost: 'orders' })]));
    render(App);
    await fireEvent.click(await screen.findByTestId('open-cluster'));
    expect(await screen.findByTestId('cluster-view')).toBeTruthy();
    expect(screen.getByTestId('tab-status').getAttribute('aria-selected')).toBe('true');

    await fireEvent.click(screen.getByTestId('tab-queues'));
    const row = await screen.findByTestId('queue-row');
    expect(row.dataset['queue']).toBe('payments');
    expect(backend.listQueues.mock.calls[0]?.[1]).toMatchObject({ vhost: 'orders', page: 1, page_size: 100 });
    expect(screen.queryByTestId('cluster-view')).toBeNull();
  });
});
