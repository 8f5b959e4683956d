import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import { clusterStatus, profileEntry } from '../../test/fixtures';
import { BackendError } from '../backend';
import type { ClusterCardState } from './clusters.svelte';
import ClusterCard from './ClusterCard.svelte';

function card(over: Partial<ClusterCardState> = {}): ClusterCardState {
  return { status: null, error: null, loading: false, checkedAt: null, ...over };
}

describe('ClusterCard', () => {
  it('summarises a reachable cluster', () => {
    render(ClusterCard, {
      entry: profileEntry('prod'),
      card: card({ status: clusterStatus(), checkedAt: Date.now() }),
      onOpen: () => {},
      onEdit: () => {},
      onRetry: () => {},
    });
    const el = screen.getByTestId('cluster-card');
    expect(el.dataset['profile']).toBe('prod');
    expect(el.dataset['health']).toBe('critical');
    expect(screen.getByTestId('nodes-up').textContent?.trim()).toBe('2/3 nodes up');
    expect(screen.getByTestId('at-risk-count').textContent?.trim()).toBe('1');
    expect(el.textContent).toContain('node rabbit@node-3 is down');
    expect(screen.getByTestId('card-updated').textContent).toMatch(/^updated \d\d:\d\d:\d\d$/);
  });

  it('shows the error of an unreachable cluster, in grey', () => {
    render(ClusterCard, {
      entry: profileEntry('lab'),
      card: card({ error: new BackendError('unreachable', 'connection refused (10.0.0.1:15672)'), checkedAt: 1 }),
      onOpen: () => {},
      onEdit: () => {},
      onRetry: () => {},
    });
    const el = screen.getByTestId('cluster-card');
    expect(el.dataset['health']).toBe('error');
    expect(el.dataset['errorKind']).toBe('unreachable');
    expect(el.classList.contains('tone-unknown')).toBe(true);
    expect(screen.getByTestId('card-error').textContent).toContain('connection refused (10.0.0.1:15672)');
    expect(screen.getByTestId('nodes-up').textContent?.trim()).toBe('?/2 nodes up');
  });

  it('opens on click and edits from its own button', async () => {
    const onOpen = vi.fn();
    const onEdit = vi.fn();
    render(ClusterCard, { entry: profileEntry('prod'), card: card(), onOpen, onEdit, onRetry: () => {} });
    expect(screen.getByTestId('cluster-card').dataset['health']).toBe('loading');
    await fireEvent.click(screen.getByTestId('edit-cluster'));
    expect(onEdit).toHaveBeenCalledTimes(1);
    expect(onOpen).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('open-cluster'));
    expect(onOpen).toHaveBeenCalledTimes(1);
  });

  it('offers to retry a refused login, since it does not retry by itself', async () => {
    const onRetry = vi.fn();
    render(ClusterCard, {
      entry: profileEntry('prod'),
      card: card({ error: new BackendError('auth', 'authentication failed for user "guest"') }),
      onOpen: () => {},
      onEdit: () => {},
      onRetry,
    });
    await fireEvent.click(screen.getByTestId('retry-login'));
    expect(onRetry).toHaveBeenCalledTimes(1);
  });
});
