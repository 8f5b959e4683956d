import { describe, expect, it, vi } from 'vitest';

import { clusterStatus } from '../../test/fixtures';
import { BackendError } from '../backend';
import type { ClusterStatus } from '../bindings/ClusterStatus';
import { ClusterStatusStore } from './clusters.svelte';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('ClusterStatusStore', () => {
  it("keeps one cluster's failure away from the others", async () => {
    const fetch = vi.fn((name: string): Promise<ClusterStatus> => {
      if (name === 'broken') return Promise.reject({ kind: 'unreachable', message: 'connection refused' });
      return Promise.resolve(clusterStatus({ cluster_name: name }));
    });
    const store = new ClusterStatusStore(fetch);
    await store.refreshAll(['a', 'broken', 'b']);

    expect(store.get('a').status?.cluster_name).toBe('a');
    expect(store.get('a').error).toBeNull();
    expect(store.get('b').status?.cluster_name).toBe('b');
    expect(store.get('broken').status).toBeNull();
    expect(store.get('broken').error).toBeInstanceOf(BackendError);
    expect(store.get('broken').error?.kind).toBe('unreachable');
  });

  it('fetches concurrently and does not pile up calls on a slow cluster', async () => {
    const slow = deferred<ClusterStatus>();
    const fetch = vi.fn((name: string) => (name === 'slow' ? slow.promise : Promise.resolve(clusterStatus())));
    const store = new ClusterStatusStore(fetch);

    const first = store.refreshAll(['slow', 'fast']);
    await new Promise((r) => setTimeout(r, 0));
    expect(store.get('fast').status).not.toBeNull();
    expect(store.get('slow').loading).toBe(true);

    void store.refresh('slow'); // still under way: not asked again
    expect(fetch.mock.calls.filter(([n]) => n === 'slow')).toHaveLength(1);

    slow.resolve(clusterStatus({ cluster_name: 'slow' }));
    await first;
    expect(store.get('slow').loading).toBe(false);
    expect(store.get('slow').status?.cluster_name).toBe('slow');
  });

  it('keeps the last status when a later fetch fails, and clears the error on success', async () => {
    let fail = false;
    const store = new ClusterStatusStore(() =>
      fail ? Promise.reject({ kind: 'timeout', message: 'no answer in 10 s' }) : Promise.resolve(clusterStatus()),
    );
    await store.refresh('x');
    fail = true;
    await store.refresh('x');
    expect(store.get('x').status).not.toBeNull();
    expect(store.get('x').error?.kind).toBe('timeout');
    fail = false;
    await store.refresh('x');
    expect(store.get('x').error).toBeNull();
  });

  it('ignores the answer of a fetch started before forget()', async () => {
    const pending = deferred<ClusterStatus>();
    const store = new ClusterStatusStore(() => pending.promise);
    const p = store.refresh('renamed');
    store.forget('renamed');
    pending.resolve(clusterStatus());
    await p;
    expect(store.cards['renamed']).toBeUndefined();
  });

  it('does not ask again after a refused login until retried', async () => {
    const fetch = vi.fn(() => Promise.reject({ kind: 'auth', message: 'authentication failed for user "u"' }));
    const store = new ClusterStatusStore(fetch);
    await store.refresh('locked');
    await store.refreshAll(['locked']);
    await store.refresh('locked');
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(store.get('locked').error?.kind).toBe('auth');
    await store.retry('locked');
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});
