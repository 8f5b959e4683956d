import { render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { QueueHistory } from '../bindings/QueueHistory';

const backend = vi.hoisted(() => ({ queueHistory: vi.fn() }));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, queueHistory: backend.queueHistory };
});

// jsdom has no canvas: uPlot is replaced by a recorder of what the view asks of it.
const plots = vi.hoisted(() => [] as { data: unknown; setData: ReturnType<typeof vi.fn>; destroy: ReturnType<typeof vi.fn>; opts: { series: { label?: string }[] } }[]);
vi.mock('uplot', () => ({
  default: class {
    width = 300;
    setData = vi.fn();
    destroy = vi.fn();
    redraw = vi.fn();
    setSize = vi.fn();
    constructor(
      public opts: { series: { label?: string }[] },
      public data: unknown,
    ) {
      plots.push(this);
    }
  },
}));

import QueueCharts from './QueueCharts.svelte';

const p = (t_ms: number, value: number) => ({ t_ms, value });
const history = (over: Partial<QueueHistory> = {}): QueueHistory => ({
  source: 'broker',
  ready: [p(1_000, 1), p(6_000, 4)],
  unacked: [p(1_000, 0), p(6_000, 2)],
  publish: [p(6_000, 0.6)],
  deliver: [],
  ack: [],
  ...over,
});

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  backend.queueHistory.mockReset();
  plots.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('QueueCharts', () => {
  it('draws depth and rates from the history, feeds them every 5 s, and lets go when it goes', async () => {
    backend.queueHistory.mockResolvedValueOnce(history());
    backend.queueHistory.mockResolvedValueOnce(history({ ready: [p(1_000, 1), p(6_000, 4), p(11_000, 9)] }));
    const view = render(QueueCharts, { name: 'prod', vhost: '/', queue: 'orders' });
    await vi.advanceTimersByTimeAsync(0);

    expect(backend.queueHistory).toHaveBeenCalledWith('prod', '/', 'orders');
    expect(plots.map((pl) => pl.opts.series.slice(1).map((s) => s.label))).toEqual([
      ['Ready', 'Unacked'],
      ['Publish /s', 'Deliver /s', 'Ack /s'],
    ]);
    expect(plots[0]!.data).toEqual([
      [1, 6],
      [1, 4],
      [0, 2],
    ]);
    const charts = screen.getAllByTestId('queue-chart');
    expect(charts.map((c) => [c.dataset['kind'], c.dataset['values']])).toEqual([
      ['depth', '4'],
      ['rates', '1'],
    ]);
    expect(screen.getByTestId('chart-source').textContent).toContain("broker's own samples");

    await vi.advanceTimersByTimeAsync(5000);
    expect(backend.queueHistory).toHaveBeenCalledTimes(2);
    expect(plots).toHaveLength(2);
    expect(plots[0]!.setData).toHaveBeenCalledWith([
      [1, 6, 11],
      [1, 4, 9],
      [0, 2, null],
    ]);

    view.unmount();
    expect(plots.every((pl) => pl.destroy.mock.calls.length === 1)).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(backend.queueHistory).toHaveBeenCalledTimes(2);
  });

  it("says when the history is Warren's own and when no rate is known", async () => {
    backend.queueHistory.mockResolvedValue(history({ source: 'warren', publish: [] }));
    render(QueueCharts, { name: 'prod', vhost: '/', queue: 'orders' });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId('queue-charts').dataset['source']).toBe('warren');
    expect(screen.getByTestId('chart-source').textContent).toContain('Warren samples this queue');
    expect(screen.getByTestId('chart-empty').textContent).toContain('No message rates');
  });

  it('shows a failed read and keeps polling', async () => {
    backend.queueHistory.mockRejectedValueOnce({ kind: 'not_found', message: 'queue orders not found' });
    backend.queueHistory.mockResolvedValueOnce(history());
    render(QueueCharts, { name: 'prod', vhost: '/', queue: 'orders' });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId('error-box').textContent).toContain('queue orders not found');
    await vi.advanceTimersByTimeAsync(5000);
    expect(screen.queryByTestId('error-box')).toBeNull();
    expect(plots).toHaveLength(2);
  });
});
