// The message list's window math and its row cache: with 100,000 messages only the rows on
// screen are in the DOM, and rows come from the backend in blocks as the user scrolls.

export interface VirtualWindow {
  /** First row index to render. */
  start: number;
  /** One past the last row index to render. */
  end: number;
  /** Offset in pixels of the first rendered row. */
  offsetY: number;
  /** Height in pixels of the whole list. */
  totalHeight: number;
}

/** Rows rendered either side of those visible, by default. */
export const OVERSCAN = 6;

/** Rows rendered at a time, at most, for a viewport: those visible and `overscan` either side. */
export function windowCapacity(viewportHeight: number, rowHeight: number, overscan = OVERSCAN): number {
  if (rowHeight <= 0) return 1;
  return Math.ceil(Math.max(viewportHeight, rowHeight) / rowHeight) + 1 + 2 * overscan;
}

/** Rows [start, end) to render for a scroll position, with `overscan` rows either side. */
export function visibleWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = OVERSCAN,
): VirtualWindow {
  const totalHeight = count * rowHeight;
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, offsetY: 0, totalHeight: 0 };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, totalHeight - viewportHeight)));
  const first = Math.floor(top / rowHeight);
  const visible = windowCapacity(viewportHeight, rowHeight, 0);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, offsetY: start * rowHeight, totalHeight };
}

/**
 * The key of the DOM row that shows row `index` in a window of at most `capacity` rows: the
 * rows on screen have distinct slots, a row keeps its slot while it stays on screen, and a row
 * scrolled in takes the slot of the one scrolled out. So scrolling by a few rows updates those
 * few, and a page or a jump updates rows in place instead of building new ones.
 */
export function rowSlot(index: number, capacity: number): number {
  return index % Math.max(1, capacity);
}

/**
 * The scrollTop that brings row `index` into view with as little movement as possible
 * (unchanged when it is already fully visible).
 */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/** The blocks that hold rows [start, end). */
export function blocksFor(start: number, end: number, blockSize: number): number[] {
  if (end <= start) return [];
  const first = Math.floor(start / blockSize);
  const last = Math.floor((end - 1) / blockSize);
  const out: number[] = [];
  for (let b = first; b <= last; b++) out.push(b);
  return out;
}

/**
 * Rows by block, fetched once each. `reset` (on a new filter or header columns) drops every
 * block and makes answers to requests made before it be ignored. `refresh` (the rows changed:
 * a consumer's deliveries arrive and settle) keeps the blocks on show but fetches them again
 * when next needed, so a live list does not flash "loading"; an answer to a request made
 * before a refresh is still shown (it is newer than what is), and its block asked for again.
 * At most `maxBlocks` are kept (the least recently used go first).
 */
export class BlockCache<T> {
  readonly blockSize: number;
  readonly maxBlocks: number;
  private blocks = new Map<number, T[]>();
  private pending = new Set<number>();
  /** Blocks still shown but to be fetched again. */
  private stale = new Set<number>();
  /** Blocks in flight when a refresh reached them: stale as soon as they arrive. */
  private refreshedInFlight = new Set<number>();
  private generation = 0;

  constructor(blockSize = 200, maxBlocks = 64) {
    this.blockSize = blockSize;
    this.maxBlocks = maxBlocks;
  }

  /** The row at `index`, if its block is here. */
  get(index: number): T | undefined {
    const b = Math.floor(index / this.blockSize);
    const block = this.blocks.get(b);
    if (!block) return undefined;
    // Refresh its place in the LRU order.
    this.blocks.delete(b);
    this.blocks.set(b, block);
    return block[index - b * this.blockSize];
  }

  has(block: number): boolean {
    return this.blocks.has(block);
  }

  /** The block is shown but to be fetched again (a refresh reached it, maybe in flight). */
  isStale(block: number): boolean {
    return this.stale.has(block);
  }

  /** Blocks needed for rows [start, end) that are missing or stale and not asked for. */
  missing(start: number, end: number): number[] {
    return blocksFor(start, end, this.blockSize).filter(
      (b) => (!this.blocks.has(b) || this.stale.has(b)) && !this.pending.has(b),
    );
  }

  /**
   * Fetches a block with `read(start, count)` (count clipped to `total`). Resolves true when
   * the rows were stored, false when the cache was reset meanwhile or the block is in flight.
   */
  async load(block: number, total: number, read: (start: number, count: number) => Promise<T[]>): Promise<boolean> {
    if (this.pending.has(block) || (this.blocks.has(block) && !this.stale.has(block))) return false;
    const start = block * this.blockSize;
    const count = Math.min(this.blockSize, Math.max(0, total - start));
    if (count <= 0) return false;
    const generation = this.generation;
    this.pending.add(block);
    try {
      const rows = await read(start, count);
      if (generation !== this.generation) return false;
      this.blocks.delete(block);
      this.blocks.set(block, rows);
      if (this.refreshedInFlight.delete(block)) this.stale.add(block);
      else this.stale.delete(block);
      while (this.blocks.size > this.maxBlocks) {
        const oldest = this.blocks.keys().next().value;
        if (oldest === undefined) break;
        this.blocks.delete(oldest);
        this.stale.delete(oldest);
      }
      return true;
    } finally {
      if (generation === this.generation) this.pending.delete(block);
    }
  }

  reset(): void {
    this.generation += 1;
    this.blocks.clear();
    this.pending.clear();
    this.stale.clear();
    this.refreshedInFlight.clear();
  }

  /**
   * Every block holding rows from `index` on is to be fetched again (0: all of them; the old
   * length when the list grew); until then the old rows stay on show.
   */
  refresh(index = 0): void {
    const from = Math.floor(Math.max(0, index) / this.blockSize);
    for (const b of this.blocks.keys()) if (b >= from) this.stale.add(b);
    for (const b of this.pending) if (b >= from) this.refreshedInFlight.add(b);
  }

  get size(): number {
    return this.blocks.size;
  }
}
