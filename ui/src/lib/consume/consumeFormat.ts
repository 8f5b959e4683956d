// Words for a consumer tab: delivery states, how a stop gave messages back, the consumer
// timeout and how close the oldest unsettled delivery is to it.

import type { ConsumerTimeout } from '../bindings/ConsumerTimeout';
import type { DeliveryState } from '../bindings/DeliveryState';
import type { ReturnMethod } from '../bindings/ReturnMethod';
import type { Settle } from '../bindings/Settle';
import type { Tone } from '../shared/format';

export const STATE_LABELS: Record<DeliveryState, string> = {
  unacked: 'unacked',
  acked: 'acked',
  nacked: 'nacked',
  nacked_requeued: 'nacked, requeued',
  rejected: 'rejected',
  rejected_requeued: 'rejected, requeued',
  returned: 'returned',
  stale: 'stale',
  auto_acked: 'auto-acked',
};

export const STATE_TONES: Record<DeliveryState, Tone> = {
  unacked: 'info',
  acked: 'ok',
  nacked: 'warning',
  nacked_requeued: 'unknown',
  rejected: 'warning',
  rejected_requeued: 'unknown',
  returned: 'unknown',
  stale: 'critical',
  auto_acked: 'ok',
};

export function returnMethodLabel(m: ReturnMethod): string {
  switch (m) {
    case 'nack_requeue':
      return 'nacked with requeue, keeping their place';
    case 'channel_close':
      return 'returned by closing the channel';
    case 'nothing':
      return 'nothing was unsettled';
  }
}

/** What a settle button does, for its label. */
export function settleLabel(how: Settle): string {
  switch (how.kind) {
    case 'ack':
      return 'Ack';
    case 'nack':
      return how.requeue ? 'Nack + requeue' : 'Nack';
    case 'reject':
      return how.requeue ? 'Reject + requeue' : 'Reject';
  }
}

/** Every way to settle, as the action bar offers them. */
export const SETTLE_CHOICES: readonly Settle[] = [
  { kind: 'ack' },
  { kind: 'nack', requeue: true },
  { kind: 'nack', requeue: false },
  { kind: 'reject', requeue: true },
  { kind: 'reject', requeue: false },
];

/** A stable name for a way to settle (test ids, keys). */
export function settleKey(how: Settle): string {
  return how.kind === 'ack' ? 'ack' : `${how.kind}${how.requeue ? '-requeue' : ''}`;
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  if (m >= 1) return `${Math.round(m * 10) / 10} min`.replace('.0 ', ' ');
  return `${Math.max(0, Math.round(ms / 1000))} s`;
}

export function timeoutLabel(t: ConsumerTimeout): string {
  const source =
    t.source === 'queue_argument'
      ? "the queue's x-consumer-timeout"
      : t.source === 'policy'
        ? "the queue's policy"
        : "the broker's default; a node's configuration may set another";
  return `${minutes(t.ms)} (${source})`;
}

/**
 * How close the oldest unsettled delivery is to the consumer timeout: null when nothing is
 * unsettled; the tone turns to warning in the last fifth of the timeout and critical
 * once past it.
 */
export function timeoutStatus(
  t: ConsumerTimeout,
  oldestSince: number | null,
  now: number,
): { text: string; tone: Tone } | null {
  if (oldestSince === null) return null;
  const left = t.ms - (now - oldestSince);
  if (left <= 0) {
    return { text: 'the oldest unsettled delivery is past the consumer timeout: the broker may close the channel now', tone: 'critical' };
  }
  const tone: Tone = left < t.ms / 5 ? 'warning' : 'info';
  return { text: `the oldest unsettled delivery must be settled within ${minutes(left)}, or the broker closes the channel`, tone };
}
