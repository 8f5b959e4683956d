import { describe, expect, it } from 'vitest';

import type { ConsumerEvent } from '../bindings/ConsumerEvent';
import type { StopReport } from '../bindings/StopReport';
import { applyBatch, initialView, StateTracker } from './consumerState';

const started = (generation: number, ack_mode: 'manual' | 'auto' = 'manual'): ConsumerEvent => ({
  event: 'started',
  endpoint: `node-${generation}`,
  queue: 'q',
  consumer_tag: `ctag-${generation}`,
  generation,
  timeout: { ms: 1_800_000, source: 'broker_default' },
  ack_mode,
});

const deliveries = (first_seq: number, last_seq: number, total = last_seq): ConsumerEvent => ({
  event: 'deliveries',
  first_seq,
  last_seq,
  total,
  matched: total,
  held_bytes: total * 100,
});

function run(...batches: ConsumerEvent[][]) {
  const tracker = new StateTracker();
  const view = initialView();
  for (const b of batches) applyBatch(view, tracker, b);
  return { view, tracker };
}

describe('applyBatch', () => {
  it('counts deliveries as unacked and moves them as they settle', () => {
    const { view, tracker } = run(
      [started(1), deliveries(1, 5)],
      [
        {
          event: 'states',
          changes: [
            { seq: 1, state: 'acked' },
            { seq: 2, state: 'rejected' },
            { seq: 3, state: 'nacked_requeued' },
          ],
        },
      ],
    );
    expect(view.phase).toBe('running');
    expect(view.endpoint).toBe('node-1');
    expect(view.received).toBe(5);
    expect(view.counts.unacked).toBe(2);
    expect(view.counts.acked).toBe(1);
    expect(view.counts.rejected).toBe(1);
    expect(view.counts.nacked_requeued).toBe(1);
    expect(tracker.openCount).toBe(2);
    // Only the change of state asks for the rows again; new rows only lengthen the view.
    expect(view.rowsChanged).toBe(1);
    expect(view.matched).toBe(5);
  });

  it('a repeated change of state counts once', () => {
    const { view } = run([started(1), deliveries(1, 2)], [{ event: 'states', changes: [{ seq: 1, state: 'acked' }] }], [
      { event: 'states', changes: [{ seq: 1, state: 'acked' }] },
    ]);
    expect(view.counts.acked).toBe(1);
    expect(view.counts.unacked).toBe(1);
  });

  it('times the oldest unsettled delivery', () => {
    const tracker = new StateTracker();
    const view = initialView();
    applyBatch(view, tracker, [started(1), deliveries(1, 2)], 1000);
    applyBatch(view, tracker, [deliveries(3, 3)], 5000);
    expect(tracker.oldestOpenSince).toBe(1000);
    applyBatch(view, tracker, [{ event: 'states', changes: [{ seq: 1, state: 'acked' }, { seq: 2, state: 'acked' }] }]);
    expect(tracker.oldestOpenSince).toBe(5000);
    applyBatch(view, tracker, [{ event: 'states', changes: [{ seq: 3, state: 'acked' }] }]);
    expect(tracker.oldestOpenSince).toBeNull();
  });

  it('automatic ack counts deliveries as auto-acked and tracks none', () => {
    const { view, tracker } = run([started(1, 'auto'), deliveries(1, 1000)]);
    expect(view.counts.auto_acked).toBe(1000);
    expect(view.counts.unacked).toBe(0);
    expect(tracker.openCount).toBe(0);
  });

  it('a lost channel marks the unsettled stale, and a resume clears the banner', () => {
    const lost = run(
      [started(1), deliveries(1, 3)],
      [
        {
          event: 'states',
          changes: [
            { seq: 2, state: 'stale' },
            { seq: 3, state: 'stale' },
          ],
        },
        { event: 'channel_lost', stale: 2, reason: 'connection reset' },
      ],
    );
    expect(lost.view.phase).toBe('lost');
    expect(lost.view.lost).toEqual({ stale: 2, reason: 'connection reset' });
    expect(lost.view.counts.stale).toBe(2);
    expect(lost.view.counts.unacked).toBe(1);
    applyBatch(lost.view, lost.tracker, [started(2), deliveries(4, 4)]);
    expect(lost.view.phase).toBe('running');
    expect(lost.view.lost).toBeNull();
    expect(lost.view.generation).toBe(2);
    expect(lost.view.counts.unacked).toBe(2);
  });

  it("shows a broker's cancel, the budget and the stop", () => {
    const report: StopReport = {
      received: 3,
      acked: 1,
      nacked: 0,
      rejected: 0,
      returned: 2,
      returned_by: 'nack_requeue',
      return_effect: null,
      stale: 0,
      tap_queue_removed: null,
      error: null,
    };
    const { view } = run(
      [started(1), deliveries(1, 3)],
      [{ event: 'cancelled_by_broker', reason: 'the queue was deleted' }],
      [{ event: 'budget_reached', held_bytes: 10, budget_bytes: 8, action: 'evict_settled' }],
      [{ event: 'stopped', report }],
    );
    expect(view.cancelled).toBe('the queue was deleted');
    expect(view.budget).toEqual({ heldBytes: 10, budgetBytes: 8, action: 'evict_settled' });
    expect(view.phase).toBe('stopped');
    expect(view.counts.unacked).toBe(3);
    expect(view.stopped?.returned).toBe(2);
  });

  it('an automatic-ack consumer over its budget pauses until started again', () => {
    const { view, tracker } = run([started(1, 'auto'), deliveries(1, 10)], [
      { event: 'budget_reached', held_bytes: 10, budget_bytes: 8, action: 'paused' },
    ]);
    expect(view.phase).toBe('paused');
    applyBatch(view, tracker, [started(1, 'auto')]);
    expect(view.phase).toBe('running');
    expect(view.budget).toBeNull();
  });
});
