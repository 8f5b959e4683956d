import { describe, expect, it, vi } from 'vitest';

import { BlockCache, blocksFor, rowSlot, scrollToReveal, visibleWindow, windowCapacity } from './virtualList';

describe('visibleWindow', () => {
  it('renders the rows on screen plus overscan', () => {
    expect(visibleWindow(0, 240, 24, 100_000, 5)).toEqual({ start: 0, end: 16, offsetY: 0, totalHeight: 2_400_000 });
    const w = visibleWindow(24 * 50_000, 240, 24, 100_000, 5);
    expect(w.start).toBe(49_995);
    expect(w.end).toBe(50_016);
    expect(w.offsetY).toBe(49_995 * 24);
  });

  it('clamps past the end and handles an empty list', () => {
    const w = visibleWindow(10_000_000, 240, 24, 100, 0);
    expect(w.end).toBe(100);
    expect(w.start).toBe(90);
    expect(visibleWindow(0, 240, 24, 0)).toEqual({ start: 0, end: 0, offsetY: 0, totalHeight: 0 });
  });
});

describe('rowSlot', () => {
  const slots = (scrollTop: number, count: number): number[] => {
    const capacity = windowCapacity(240, 24, 5);
    const w = visibleWindow(scrollTop, 240, 24, count, 5);
    const out: number[] = [];
    for (let i = w.start; i < w.end; i++) out.push(rowSlot(i, capacity));
    return out;
  };

  it('gives the rows of every window distinct slots, at the ends too', () => {
    for (const top of [0, 24 * 3, 24 * 777 + 11, 24 * 50_000, 24 * 99_990, 10_000_000]) {
      const s = slots(top, 100_000);
      expect(new Set(s).size).toBe(s.length);
      expect(s.length).toBeLessThanOrEqual(windowCapacity(240, 24, 5));
    }
    expect(new Set(slots(0, 7)).size).toBe(7);
  });

  it('gives rows scrolled in the slots of the rows scrolled out, and a jump the same slots', () => {
    const capacity = windowCapacity(240, 24, 5);
    const before = visibleWindow(24 * 1_000, 240, 24, 100_000, 5);
    const after = visibleWindow(24 * 1_002, 240, 24, 100_000, 5);
    expect(after.start - before.start).toBe(2);
    const left = [before.start, before.start + 1].map((i) => rowSlot(i, capacity)).sort();
    const came = [after.end - 2, after.end - 1].map((i) => rowSlot(i, capacity)).sort();
    expect(came).toEqual(left);
    const sorted = (top: number) => slots(top, 100_000).sort((a, b) => a - b);
    expect(sorted(24 * 1_000)).toEqual(sorted(24 * 61_234 + 7));
  });
});

describe('scrollToReveal', () => {
  it('moves only as far as needed', () => {
    expect(scrollToReveal(5, 0, 240, 24)).toBe(0);
    expect(scrollToReveal(10, 0, 240, 24)).toBe(24);
    expect(scrollToReveal(2, 240, 240, 24)).toBe(48);
  });
});

describe('blocksFor', () => {
  it('lists the blocks of a row range', () => {
    expect(blocksFor(0, 200, 200)).toEqual([0]);
    expect(blocksFor(190, 210, 200)).toEqual([0, 1]);
    expect(blocksFor(5, 5, 200)).toEqual([]);
  });
});

describe('BlockCache', () => {
  const rows = (start: number, count: number) => Promise.resolve(Array.from({ length: count }, (_, i) => start + i));

  it('fetches a block once and clips the last one', async () => {
    const cache = new BlockCache<number>(200);
    const fetch = vi.fn(rows);
    expect(cache.missing(150, 250)).toEqual([0, 1]);
    const first = cache.load(0, 250, fetch);
    expect(cache.missing(0, 10)).toEqual([]); // in flight
    await first;
    await cache.load(1, 250, fetch);
    expect(fetch.mock.calls).toEqual([
      [0, 200],
      [200, 50],
    ]);
    expect(cache.get(249)).toBe(249);
    expect(await cache.load(0, 250, fetch)).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('ignores answers to requests made before a reset', async () => {
    const cache = new BlockCache<number>(10);
    let release: (v: number[]) => void = () => {};
    const slow = cache.load(0, 100, () => new Promise<number[]>((r) => (release = r)));
    cache.reset();
    release([1, 2, 3]);
    expect(await slow).toBe(false);
    expect(cache.get(0)).toBeUndefined();
    expect(cache.missing(0, 10)).toEqual([0]);
  });

  it('keeps at most maxBlocks, dropping the least recently used', async () => {
    const cache = new BlockCache<number>(10, 2);
    await cache.load(0, 100, rows);
    await cache.load(1, 100, rows);
    cache.get(0);
    await cache.load(2, 100, rows);
    expect(cache.has(0)).toBe(true);
    expect(cache.has(1)).toBe(false);
    expect(cache.size).toBe(2);
  });

  it('refresh keeps the rows on show until they are fetched again', async () => {
    const cache = new BlockCache<number>(10);
    await cache.load(0, 15, rows);
    expect(cache.missing(0, 10)).toEqual([]);
    let release: (v: number[]) => void = () => {};
    const inFlight = cache.load(1, 15, () => new Promise<number[]>((r) => (release = r)));
    cache.refresh();
    expect(cache.get(3)).toBe(3);
    // Block 0 is asked for again; block 1 is still in flight.
    expect(cache.missing(0, 20)).toEqual([0]);
    release([10, 11, 12, 13, 14]);
    // An answer to a request from before the refresh is shown, and asked for again.
    expect(await inFlight).toBe(true);
    expect(cache.get(12)).toBe(12);
    expect(cache.isStale(1)).toBe(true);
    expect(cache.missing(0, 20)).toEqual([0, 1]);
    expect(await cache.load(0, 20, (s, n) => Promise.resolve(Array.from({ length: n }, (_, i) => 100 + s + i)))).toBe(true);
    expect(cache.get(3)).toBe(103);
    expect(cache.missing(0, 10)).toEqual([]);
  });

  it('refresh from an index leaves the blocks before it alone', async () => {
    const cache = new BlockCache<number>(10);
    await cache.load(0, 25, rows);
    await cache.load(1, 25, rows);
    await cache.load(2, 25, rows);
    cache.refresh(25);
    expect(cache.missing(0, 30)).toEqual([2]);
  });
});
