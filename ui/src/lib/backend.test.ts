import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import { profileEntry } from '../test/fixtures';
import {
  BackendError,
  closeCluster,
  clusterStatus,
  deleteProfile,
  isErrorKind,
  listProfiles,
  saveProfile,
  testProfile,
  toBackendError,
} from './backend';

beforeEach(() => {
  invoke.mockReset();
});

describe('commands', () => {
  it('pass camelCase arguments as Tauri 2 expects', async () => {
    const { profile } = profileEntry('prod');
    invoke.mockResolvedValue(null);

    await saveProfile(profile, 'secret', 'old-name');
    expect(invoke).toHaveBeenLastCalledWith('save_profile', { profile, password: 'secret', replacing: 'old-name' });

    await saveProfile(profile, null, null);
    expect(invoke).toHaveBeenLastCalledWith('save_profile', { profile, password: null, replacing: null });

    await testProfile(profile, null, 'prod');
    expect(invoke).toHaveBeenLastCalledWith('test_profile', { profile, password: null, storedAs: 'prod' });

    await deleteProfile('prod');
    expect(invoke).toHaveBeenLastCalledWith('delete_profile', { name: 'prod' });

    await clusterStatus('prod');
    expect(invoke).toHaveBeenLastCalledWith('cluster_status', { name: 'prod' });

    await closeCluster('prod');
    expect(invoke).toHaveBeenLastCalledWith('close_cluster', { name: 'prod' });
  });

  it('return what the backend answered', async () => {
    const entries = [profileEntry('a'), profileEntry('b', false)];
    invoke.mockResolvedValue(entries);
    await expect(listProfiles()).resolves.toEqual(entries);
    expect(invoke).toHaveBeenLastCalledWith('list_profiles', undefined);
  });

  it('reject with a BackendError carrying the ErrorReport', async () => {
    invoke.mockRejectedValue({ kind: 'unreachable', message: 'connection refused (127.0.0.1:5672)' });
    const err = await clusterStatus('prod').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ kind: 'unreachable', message: 'connection refused (127.0.0.1:5672)' });
    expect((err as BackendError).toReport()).toEqual({ kind: 'unreachable', message: 'connection refused (127.0.0.1:5672)' });
  });
});

describe('toBackendError', () => {
  it("maps Tauri's own string rejections to protocol errors", () => {
    const e = toBackendError('command cluster_status not found');
    expect(e.kind).toBe('protocol');
    expect(e.message).toContain('command cluster_status not found');
  });

  it('does not trust an object with an unknown kind', () => {
    const e = toBackendError({ kind: 'nonsense', message: 'x' });
    expect(e.kind).toBe('protocol');
  });

  it('explains a call made outside the app', () => {
    const e = toBackendError(new TypeError("Cannot read properties of undefined (reading 'invoke')"));
    expect(e.kind).toBe('unavailable');
    expect(e.message).toMatch(/inside the Warren app/);
  });

  it('passes BackendErrors through', () => {
    const original = new BackendError('auth', 'bad password');
    expect(toBackendError(original)).toBe(original);
  });

  it('knows the kinds of the bindings', () => {
    expect(isErrorKind('password_missing')).toBe(true);
    expect(isErrorKind('toString')).toBe(false);
    expect(isErrorKind(42)).toBe(false);
  });
});
