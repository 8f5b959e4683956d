import { describe, expect, it } from 'vitest';

import type { QueueHistory } from '../bindings/QueueHistory';
import { align, chartData, cssColour, latest, sourceNote, usableLanguage, valueCount } from './queueChart';

const p = (t_ms: number, value: number) => ({ t_ms, value });

function history(over: Partial<QueueHistory> = {}): QueueHistory {
  return { source: 'broker', ready: [], unacked: [], publish: [], deliver: [], ack: [], ...over };
}

describe('queue charts: data shaping', () => {
  it('aligns series on the union of their times, in seconds, with gaps where a series has no value', () => {
    const data = align([
      [p(10_000, 1), p(5_000, 0), p(15_000, 3)],
      [p(15_000, 7), p(20_000, 8)],
    ]);
    expect(data).toEqual([
      [5, 10, 15, 20],
      [0, 1, 3, null],
      [null, null, 7, 8],
    ]);
    expect(valueCount(data)).toBe(5);
  });

  it('keeps each chart to its own series, in the order of their legend', () => {
    const h = history({
      ready: [p(1_000, 5), p(6_000, 9)],
      unacked: [p(1_000, 1), p(6_000, 0)],
      publish: [p(6_000, 2.5)],
      ack: [p(6_000, 1)],
    });
    expect(chartData(h, 'depth')).toEqual([
      [1, 6],
      [5, 9],
      [1, 0],
    ]);
    expect(chartData(h, 'rates')).toEqual([[6], [2.5], [null], [1]]);
    expect(latest(h, 'depth')).toEqual([9, 0]);
    expect(latest(h, 'rates')).toEqual([2.5, null, 1]);
  });

  it('has no x values and no points for an empty history', () => {
    const data = chartData(history(), 'rates');
    expect(data).toEqual([[], [], [], []]);
    expect(valueCount(data)).toBe(0);
  });

  it("says whose samples the chart shows", () => {
    expect(sourceNote(history())).toContain("broker's own samples");
    expect(sourceNote(history({ source: 'warren' }))).toContain('Warren samples this queue');
  });

  it('reads colours from the theme variables on the document, so a theme change recolours', () => {
    const root = document.documentElement;
    root.style.setProperty('--chart-ready', ' #123456 ');
    expect(cssColour('--chart-ready')).toBe('#123456');
    root.style.setProperty('--chart-ready', '#abcdef');
    expect(cssColour('--chart-ready')).toBe('#abcdef');
    root.style.removeProperty('--chart-ready');
  });

  it('gives the chart library a language it can format numbers in when the system has none', () => {
    const nav = (language: string) => Object.create(navigator, { language: { value: language, configurable: true } }) as Navigator;
    const c = nav('c');
    expect(() => new Intl.NumberFormat(c.language)).toThrow();
    expect(usableLanguage(c)).toBe('en-US');
    expect(c.language).toBe('en-US');
    expect(usableLanguage(nav('de-DE'))).toBe('de-DE');
  });
});
