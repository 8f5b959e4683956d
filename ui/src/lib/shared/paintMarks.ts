// User Timing marks at moments a person sees, so tools outside the page can read when they
// were painted: tests/bench/desktop measures cold start (process spawn to the home screen's
// first painted frame) from `performance.timeOrigin + mark.startTime`. A page cannot be
// instrumented from outside before it loads, so the page marks them itself; each mark is set
// once per page and costs one animation frame callback.

const marked = new Set<string>();

/**
 * Marks `name` (a `performance.mark`) once the frame showing the current DOM is painted: a task
 * queued from the next animation frame runs after that frame's paint. Only the first call per
 * name counts.
 */
export function markPainted(name: string): void {
  if (marked.has(name)) return;
  marked.add(name);
  if (typeof requestAnimationFrame !== 'function' || typeof performance?.mark !== 'function') return;
  requestAnimationFrame(() => setTimeout(() => performance.mark(name), 0));
}

/** The names `markPainted` sets, read by tests/bench/desktop.mjs. */
export const PAINT_MARKS = {
  /** The home screen shows its cluster cards (or the empty state). */
  home: 'warren:home-painted',
  /** Every card on the home screen shows its cluster's health (or why it has none). */
  homeHealth: 'warren:home-health-painted',
} as const;
