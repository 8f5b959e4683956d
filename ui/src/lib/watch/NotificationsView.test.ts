import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { WatchOverview } from '../bindings/WatchOverview';
import { profileEntry } from '../../test/fixtures';

const backend = vi.hoisted(() => ({
  watchOverview: vi.fn(),
  setClusterWatch: vi.fn(),
  deleteWatchRule: vi.fn(),
  saveWatchRule: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import { profiles } from '../profiles/profiles.svelte';
import NotificationsView from './NotificationsView.svelte';

function overview(over: Partial<WatchOverview['settings']> = {}): WatchOverview {
  return {
    settings: {
      clusters: [],
      rules: [{ id: 1, profile: 'prod', vhost: '/', queue: 'orders', metric: 'depth', comparison: 'above', threshold: 100 }],
      ...over,
    },
    states: [{ rule_id: 1, value: 150, firing: true, problem: null, at_ms: 1_700_000_000_000 }],
    refused: [],
  };
}

beforeEach(() => {
  for (const f of Object.values(backend)) f.mockReset();
  backend.watchOverview.mockResolvedValue(overview());
  profiles.entries = [profileEntry('prod'), profileEntry('test')];
});

describe('NotificationsView', () => {
  it("lists every cluster's health switch off unless switched on, and switches one", async () => {
    backend.setClusterWatch.mockResolvedValue(overview({ clusters: [{ profile: 'test', health: true }] }));
    render(NotificationsView);
    const switches = await screen.findAllByTestId('health-switch');
    await vi.waitFor(() => expect(switches.every((s) => !(s as HTMLInputElement).disabled)).toBe(true));
    expect(switches.map((s) => [s.dataset.profile, (s as HTMLInputElement).checked])).toEqual([
      ['prod', false],
      ['test', false],
    ]);
    await fireEvent.click(switches[1]!);
    expect(backend.setClusterWatch).toHaveBeenCalledWith('test', true);
    await vi.waitFor(() => expect((switches[1] as HTMLInputElement).checked).toBe(true));
    expect((switches[0] as HTMLInputElement).checked).toBe(false);
  });

  it('shows each rule with its last reading, and deletes one', async () => {
    backend.deleteWatchRule.mockResolvedValue(undefined);
    render(NotificationsView);
    const rule = await screen.findByTestId('watch-rule');
    expect(rule.textContent).toContain('orders');
    expect(rule.textContent).toContain('Depth above 100');
    expect(within(rule).getByTestId('rule-reading').textContent).toMatch(/150\s*alerting/);

    backend.watchOverview.mockResolvedValue(overview({ rules: [] }));
    await fireEvent.click(within(rule).getByTestId('delete-rule'));
    expect(backend.deleteWatchRule).toHaveBeenCalledWith(1);
    expect(await screen.findByText(/No rule yet/)).toBeTruthy();
  });

  it('edits a rule in place', async () => {
    backend.saveWatchRule.mockImplementation(async (r) => r);
    render(NotificationsView);
    const rule = await screen.findByTestId('watch-rule');
    await fireEvent.click(within(rule).getByText('Edit'));
    const threshold = (await screen.findByTestId('watch-threshold')) as HTMLInputElement;
    expect(threshold.value).toBe('100');
    await fireEvent.input(threshold, { target: { value: '50' } });
    await fireEvent.click(screen.getByTestId('watch-save'));
    await vi.waitFor(() =>
      expect(backend.saveWatchRule).toHaveBeenCalledWith(expect.objectContaining({ id: 1, threshold: 50 })),
    );
    await vi.waitFor(() => expect(screen.queryByTestId('watch-form')).toBeNull());
  });
});
