import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.hoisted(() => vi.fn());
// The channel a long operation reports on: the test plays the backend's side of it.
const FakeChannel = vi.hoisted(
  () =>
    class FakeChannel<T> {
      onmessage: (message: T) => void = () => {};
    },
);
vi.mock('@tauri-apps/api/core', () => ({ invoke, Channel: FakeChannel }));

import { inspectionSummary } from '../test/browseFixtures';
import { summary } from '../test/composeFixtures';
import { profileEntry } from '../test/fixtures';
import type { OperationEvent } from './bindings/OperationEvent';
import type { PeekProgress } from './bindings/PeekProgress';
import type { PublishRequest } from './bindings/PublishRequest';
import {
  BackendError,
  cancelOperation,
  closeCluster,
  clusterStatus,
  deleteProfile,
  isErrorKind,
  listProfiles,
  publish,
  releaseCluster,
  saveProfile,
  startPeek,
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

    await clusterStatus('prod', true);
    expect(invoke).toHaveBeenLastCalledWith('cluster_status', { name: 'prod', links: true });

    await closeCluster('prod');
    expect(invoke).toHaveBeenLastCalledWith('close_cluster', { name: 'prod' });

    await releaseCluster('prod');
    expect(invoke).toHaveBeenLastCalledWith('release_cluster', { name: 'prod' });

    await cancelOperation(7);
    expect(invoke).toHaveBeenLastCalledWith('cancel_operation', { id: 7 });
  });

  it('hand a long operation its id first, then its progress, from one channel', async () => {
    invoke.mockResolvedValue(inspectionSummary(3));
    const heard: string[] = [];
    const request = { vhost: '/', queue: 'orders', count: 3, allow_side_effects: false };
    const result = await startPeek('prod', request, {
      onStarted: (id) => heard.push(`started ${id}`),
      onProgress: (p) => heard.push(`${p.phase} ${p.received}/${p.expected}`),
    });
    expect(result).toEqual(inspectionSummary(3));
    const [command, args] = invoke.mock.lastCall as [string, Record<string, unknown>];
    expect(command).toBe('start_peek');
    expect(Object.keys(args).sort()).toEqual(['events', 'name', 'request']);
    expect(args['request']).toEqual(request);
    const events = args['events'] as InstanceType<typeof FakeChannel<OperationEvent<PeekProgress>>>;
    events.onmessage({ event: 'started', id: 41 });
    events.onmessage({ event: 'progress', progress: { received: 2, expected: 3, phase: 'receiving' } });
    expect(heard).toEqual(['started 41', 'receiving 2/3']);
  });

  it('publish passes the request and its channel, nothing else', async () => {
    invoke.mockResolvedValue(summary());
    const request = { count: 1 } as unknown as PublishRequest;
    const ids: number[] = [];
    await publish('prod', request, { onStarted: (id) => ids.push(id), onProgress: () => {} });
    const [command, args] = invoke.mock.lastCall as [string, Record<string, unknown>];
    expect(command).toBe('publish');
    expect(Object.keys(args).sort()).toEqual(['events', 'name', 'request']);
    (args['events'] as InstanceType<typeof FakeChannel<OperationEvent<unknown>>>).onmessage({ event: 'started', id: 9 });
    expect(ids).toEqual([9]);
  });

  it('return what the backend answered', async () => {
    const entries = [profileEntry('a'), profileEntry('b', false)];
    invoke.mockResolvedValue(entries);
    await expect(listProfiles()).resolves.toEqual(entries);
    expect(invoke).toHaveBeenLastCalledWith('list_profiles', undefined);
  });

  it('reject with a BackendError carrying the ErrorReport', async () => {
    invoke.mockRejectedValue({ kind: 'unreachable', message: 'connection refused (127.0.0.1:5672)' });
    const err = await clusterStatus('prod', false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ kind: 'unreachable', message: 'connection refused (127.0.0.1:5672)' });
    expect((err as BackendError).toReport()).toEqual({ kind: 'unreachable', message: 'connection refused (127.0.0.1:5672)' });
    expect((err as BackendError).field).toBeUndefined();
  });

  it('keep the field an error names', async () => {
    const report = { kind: 'invalid_input', message: 'invalid properties.expiration: not a number', field: 'properties.expiration' };
    invoke.mockRejectedValue(report);
    const err = (await clusterStatus('prod', false).catch((e: unknown) => e)) as BackendError;
    expect(err.field).toBe('properties.expiration');
    expect(err.toReport()).toEqual(report);
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

  it('does not trust a field that is not a string', () => {
    expect(toBackendError({ kind: 'invalid_input', message: 'x', field: 3 }).kind).toBe('protocol');
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
