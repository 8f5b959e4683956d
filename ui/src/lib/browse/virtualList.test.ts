import { describe, expect, it, vi } from 'vitest';

import { BlockCache, blocksFor, scrollToReveal, visibleWindow } from './virtualList';

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
