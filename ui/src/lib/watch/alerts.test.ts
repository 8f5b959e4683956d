import { describe, expect, it } from 'vitest';

import type { Alert } from '../bindings/Alert';
import { AlertStore } from './alerts.svelte';

function alert(id: number): Alert {
  return {
    id,
    profile: 'local',
    at_ms: 1_700_000_000_000 + id,
    title: `local is critical (${id})`,
    body: 'was ok',
    kind: 'health',
    from: 'ok',
    to: 'critical',
    reasons: [],
  };
}

describe('AlertStore', () => {
  it('takes the kept alerts and those raised later, each once, in order', async () => {
    let push: (a: Alert) => void = () => {};
    const store = new AlertStore(
      async () => [alert(1), alert(2)],
      async (onAlert) => {
        push = onAlert;
        // An alert raised between subscribing and loading arrives both ways.
        onAlert(alert(2));
        return () => {};
      },
    );
    await store.start();
    push(alert(3));
    push(alert(3));
    expect(store.alerts.map((a) => a.id)).toEqual([1, 2, 3]);
    expect(store.unseen).toBe(3);
    store.markSeen();
    expect(store.unseen).toBe(0);
    push(alert(4));
    expect(store.unseen).toBe(1);
  });

  it('keeps at most a hundred', async () => {
    const store = new AlertStore(async () => Array.from({ length: 120 }, (_, i) => alert(i + 1)), async () => () => {});
    await store.start();
    expect(store.alerts).toHaveLength(100);
    expect(store.alerts[0]?.id).toBe(21);
  });

  it('shows why the alerts could not be read', async () => {
    const store = new AlertStore(
      async () => {
        throw { kind: 'file', message: 'watch.json: bad' };
      },
      async () => () => {},
    );
    await store.start();
    expect(store.error?.kind).toBe('file');
  });
});
