import { render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import { profileEntry } from '../../test/fixtures';

// The workspace's status view asks the backend at once; it never answers here.
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return {
    ...actual,
    clusterStatus: vi.fn(() => new Promise(() => {})),
    releaseCluster: vi.fn(() => Promise.resolve()),
  };
});
import ClusterCard from '../cluster/ClusterCard.svelte';
import ClusterWorkspace from '../cluster/ClusterWorkspace.svelte';
import TlsWarning from './TlsWarning.svelte';

const verified = profileEntry('prod').profile.tls;
const unverified = { ...verified, verify_peer: false };

function unverifiedEntry(name: string) {
  const entry = profileEntry(name);
  return { ...entry, profile: { ...entry.profile, tls: unverified } };
}

const card = { status: null, error: null, loading: false, checkedAt: null };

describe('TlsWarning', () => {
  it('says nothing while verification is on', () => {
    render(TlsWarning, { tls: verified });
    expect(screen.queryByTestId('tls-unverified')).toBeNull();
  });

  it('warns, as a line or as a badge, when verification is off', () => {
    const { unmount } = render(TlsWarning, { tls: unverified });
    expect(screen.getByTestId('tls-unverified').textContent).toContain('TLS verification is off for this profile');
    unmount();
    render(TlsWarning, { tls: unverified, compact: true });
    const badge = screen.getByTestId('tls-unverified');
    expect(badge.textContent).toBe('TLS unverified');
    expect(badge.getAttribute('title')).toContain('cannot tell them from an impostor');
  });

  it('shows on the home card of a profile with verification off, and only there', () => {
    const handlers = { onOpen: () => {}, onEdit: () => {}, onRetry: () => {} };
    const { unmount } = render(ClusterCard, { entry: profileEntry('prod'), card, ...handlers });
    expect(screen.queryByTestId('tls-unverified')).toBeNull();
    unmount();
    render(ClusterCard, { entry: unverifiedEntry('lab'), card, ...handlers });
    expect(screen.getByTestId('tls-unverified').textContent).toBe('TLS unverified');
  });

  it('shows in the workspace of a profile with verification off', () => {
    render(ClusterWorkspace, { name: 'lab', vhost: '/', tls: unverified, onBack: () => {}, onEdit: () => {} });
    expect(screen.getByTestId('tls-unverified').textContent).toContain('TLS verification is off');
  });
});
