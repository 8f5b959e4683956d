import { describe, expect, it, vi } from 'vitest';

import { BackendError, type OperationHandlers } from '../backend';
import { Operation } from './operation.svelte';

type Progress = { done: number };

/** One run the test plays the backend of: it reports, then settles, by hand. */
function backendRun<R>() {
  let handlers: OperationHandlers<Progress> | null = null;
  let resolve: (r: R) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  const start = vi.fn((h: OperationHandlers<Progress>) => {
    handlers = h;
    return new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  });
  const h = () => {
    if (!handlers) throw new Error('the operation was not started');
    return handlers;
  };
  return {
    start,
    started: (id: number) => h().onStarted(id),
    progress: (done: number) => h().onProgress({ done }),
    resolve: (r: R) => resolve(r),
    reject: (e: unknown) => reject(e),
  };
}

function controller(onDiscard: (r: string) => void = () => {}) {
  const cancel = vi.fn((_id: number) => Promise.resolve());
  const op = new Operation<Progress, string>({ onDiscard, cancel });
  return { op, cancel };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Operation', () => {
  it('runs: started, progress, then the result', async () => {
    const { op } = controller();
    const b = backendRun<string>();
    const done = op.run(b.start, { done: 0 });
    expect(op.running).toBe(true);
    expect(op.progress).toEqual({ done: 0 });
    expect(op.id).toBeNull();

    b.started(5);
    b.progress(3);
    expect(op.id).toBe(5);
    expect(op.progress).toEqual({ done: 3 });

    b.resolve('inspection 1');
    await expect(done).resolves.toBe('inspection 1');
    expect(op.result).toBe('inspection 1');
    expect(op.running).toBe(false);
    expect(op.progress).toBeNull();
    expect(op.id).toBeNull();
    expect(op.error).toBeNull();
  });

  it('sends a Cancel pressed before `started` as soon as the id arrives, once', async () => {
    const { op, cancel } = controller();
    const b = backendRun<string>();
    void op.run(b.start);
    op.cancel();
    expect(op.cancelling).toBe(true);
    expect(cancel).not.toHaveBeenCalled();
    b.started(12);
    expect(cancel).toHaveBeenCalledTimes(1);
    expect(cancel).toHaveBeenCalledWith(12);
    op.cancel();
    expect(cancel).toHaveBeenCalledTimes(1);
  });

  it('cancels a started operation by the id the backend gave it', () => {
    const { op, cancel } = controller();
    const first = backendRun<string>();
    void op.run(first.start);
    first.started(40);
    op.cancel();
    expect(cancel).toHaveBeenCalledWith(40);
  });

  it('keeps the error, and the previous result, when a run fails', async () => {
    const { op } = controller();
    const ok = backendRun<string>();
    const okRun = op.run(ok.start);
    ok.resolve('first');
    await okRun;

    const failing = backendRun<string>();
    const done = op.run(failing.start);
    failing.reject({ kind: 'cancelled', message: 'cancelled' });
    await expect(done).resolves.toBeNull();
    expect(op.error).toBeInstanceOf(BackendError);
    expect(op.error?.kind).toBe('cancelled');
    expect(op.result).toBe('first');
    expect(op.running).toBe(false);
    op.dismissError();
    expect(op.error).toBeNull();
  });

  it('discards a result replaced by a newer one, or cleared', async () => {
    const discarded: string[] = [];
    const { op } = controller((r) => discarded.push(r));
    for (const value of ['a', 'b']) {
      const b = backendRun<string>();
      const done = op.run(b.start);
      b.resolve(value);
      await done;
    }
    expect(discarded).toEqual(['a']);
    op.clear();
    expect(discarded).toEqual(['a', 'b']);
    expect(op.result).toBeNull();
    op.clear();
    expect(discarded).toEqual(['a', 'b']);
  });

  it('does not start a second run while one runs', async () => {
    const { op } = controller();
    const first = backendRun<string>();
    const second = backendRun<string>();
    void op.run(first.start);
    await expect(op.run(second.start)).resolves.toBeNull();
    expect(second.start).not.toHaveBeenCalled();
  });

  it('on dispose cancels the running operation and discards what it brings later', async () => {
    const discarded: string[] = [];
    const { op, cancel } = controller((r) => discarded.push(r));
    const b = backendRun<string>();
    const done = op.run(b.start);
    b.started(3);
    op.dispose();
    expect(cancel).toHaveBeenCalledWith(3);
    b.progress(9);
    expect(op.progress).toBeNull();
    b.resolve('late inspection');
    await expect(done).resolves.toBeNull();
    expect(discarded).toEqual(['late inspection']);
    expect(op.result).toBeNull();
    await expect(op.run(backendRun<string>().start)).resolves.toBeNull();
  });

  it('on dispose before `started`, cancels when the id arrives', () => {
    const { op, cancel } = controller();
    const b = backendRun<string>();
    void op.run(b.start);
    op.dispose();
    expect(cancel).not.toHaveBeenCalled();
    b.started(77);
    expect(cancel).toHaveBeenCalledWith(77);
  });

  it('on dispose discards the result it holds, and a failure after it is nobody’s', async () => {
    const discarded: string[] = [];
    const { op } = controller((r) => discarded.push(r));
    const ok = backendRun<string>();
    const okRun = op.run(ok.start);
    ok.resolve('shown');
    await okRun;
    const failing = backendRun<string>();
    const done = op.run(failing.start);
    op.dispose();
    expect(discarded).toEqual(['shown']);
    failing.reject(new BackendError('cancelled', 'cancelled'));
    await done;
    expect(op.error).toBeNull();
  });

  it('reports a cancel that failed and lets it be pressed again', async () => {
    const cancel = vi.fn((_id: number) => Promise.reject(new BackendError('unavailable', 'backend gone')));
    const op = new Operation<Progress, string>({ cancel });
    const b = backendRun<string>();
    void op.run(b.start);
    b.started(1);
    op.cancel();
    await tick();
    expect(op.error?.message).toBe('backend gone');
    expect(op.cancelling).toBe(false);
    op.cancel();
    expect(cancel).toHaveBeenCalledTimes(2);
  });
});
