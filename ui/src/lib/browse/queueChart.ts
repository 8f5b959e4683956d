// A queue's history (the backend's `QueueHistory`) shaped for uPlot: one x axis in seconds
// shared by the series of a chart, a value or a gap (null) for each series at each time. The
// depth chart and the rate chart each take their own series; colours are read from app.css's
// variables when the chart draws, so both themes apply without a colour written here.
import type { Point } from '../bindings/Point';
import type { QueueHistory } from '../bindings/QueueHistory';

export type ChartKind = 'depth' | 'rates';

export interface ChartSeries {
  key: keyof Omit<QueueHistory, 'source'>;
  label: string;
  /** The app.css variable holding its colour. */
  colour: string;
}

export const CHART_SERIES: Record<ChartKind, ChartSeries[]> = {
  depth: [
    { key: 'ready', label: 'Ready', colour: '--chart-ready' },
    { key: 'unacked', label: 'Unacked', colour: '--chart-unacked' },
  ],
  rates: [
    { key: 'publish', label: 'Publish /s', colour: '--chart-publish' },
    { key: 'deliver', label: 'Deliver /s', colour: '--chart-deliver' },
    { key: 'ack', label: 'Ack /s', colour: '--chart-ack' },
  ],
};

/** uPlot's data: the x values (seconds), then one array per series, aligned to them. */
export type Aligned = [number[], ...(number | null)[][]];

/** Series with their own times aligned on the union of those times; a series without a
 *  value at a time has a gap there. */
export function align(series: readonly (readonly Point[])[]): Aligned {
  const times = [...new Set(series.flatMap((s) => s.map((p) => p.t_ms)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const ys = series.map((s) => {
    const out: (number | null)[] = new Array<number | null>(times.length).fill(null);
    for (const p of s) out[index.get(p.t_ms)!] = p.value;
    return out;
  });
  return [times.map((t) => t / 1000), ...ys];
}

/** One chart's data from a history. */
export function chartData(history: QueueHistory, kind: ChartKind): Aligned {
  return align(CHART_SERIES[kind].map((s) => history[s.key]));
}

/** How many values a chart's data holds (gaps not counted). */
export function valueCount(data: Aligned): number {
  return data.slice(1).reduce((n, ys) => n + (ys as (number | null)[]).filter((v) => v !== null).length, 0);
}

/** The latest value of each series of a chart, for its legend (null: none known). */
export function latest(history: QueueHistory, kind: ChartKind): (number | null)[] {
  return CHART_SERIES[kind].map((s) => {
    const points = history[s.key];
    return points.length > 0 ? points[points.length - 1]!.value : null;
  });
}

/** A sentence saying where the history comes from and how far back it goes. */
export function sourceNote(history: QueueHistory): string {
  if (history.source === 'broker') return "The broker's own samples: the last 10 minutes, every 5 s.";
  return 'Warren samples this queue every 5 s while the cluster is open (the broker keeps no history of it), up to an hour.';
}

/** A colour variable's value on the document, read when the chart draws. */
export function cssColour(name: string, root: Element = document.documentElement): string {
  return getComputedStyle(root).getPropertyValue(name).trim();
}

/**
 * uPlot formats numbers with `Intl.NumberFormat(navigator.language)` when it loads, and that
 * throws where the system's locale is no language tag (`LANG=C` makes WebKitGTK report "c"):
 * the chart would never load. Such a webview is given "en-US" instead, before uPlot loads; a
 * valid language is left alone. Returns the language uPlot will see.
 */
export function usableLanguage(nav: Navigator = navigator): string {
  try {
    new Intl.NumberFormat(nav.language);
    return nav.language;
  } catch {
    Object.defineProperty(nav, 'language', { value: 'en-US', configurable: true });
    return nav.language;
  }
}
