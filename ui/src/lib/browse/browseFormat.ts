// Formatting for the browse screens (queues, exchanges, the message inspector).

import type { DeliveryOrder } from '../bindings/DeliveryOrder';
import type { PeekEnd } from '../bindings/PeekEnd';
import type { PeekMethod } from '../bindings/PeekMethod';
import type { Replication } from '../bindings/Replication';
import { formatCount, type Tone } from '../shared/format';

const two = (n: number): string => n.toString().padStart(2, '0');

/**
 * An AMQP timestamp (epoch seconds) as "YYYY-MM-DD HH:MM:SS", local time unless `utc`
 * (then with a trailing "Z").
 */
export function formatEpochSeconds(seconds: number, utc = false): string {
  const d = new Date(seconds * 1000);
  if (!Number.isFinite(seconds) || Number.isNaN(d.getTime())) return String(seconds);
  const [y, mo, da, h, mi, s] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${y}-${two(mo)}-${two(da)} ${two(h)}:${two(mi)}:${two(s)}${utc ? 'Z' : ''}`;
}

export interface Badge {
  text: string;
  tone: Tone;
  title: string;
}

/**
 * "2/2 synced" (mirrors of a classic queue) or "3/3 online" (members of a quorum queue or
 * stream); warning when some are behind, critical when none is in a state to take over.
 */
export function replicationBadge(r: Replication | null | undefined): Badge | null {
  if (!r) return null;
  const mirrors = r.kind === 'mirrors';
  const text = `${r.healthy}/${r.total} ${mirrors ? 'synced' : 'online'}`;
  const tone: Tone = r.total === 0 ? 'unknown' : r.healthy >= r.total ? 'ok' : r.healthy === 0 ? 'critical' : 'warning';
  const title = mirrors
    ? `${r.healthy} of ${r.total} mirror(s) synchronised with the master`
    : `${r.healthy} of ${r.total} member(s) online`;
  return { text, tone, title };
}

/** Messages per second: "0", "0.4/s", "12/s", "1,250/s"; null when not reported. */
export function formatRate(rate: number | null | undefined): string | null {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return null;
  if (rate === 0) return '0';
  if (Math.abs(rate) < 10) return `${Number(rate.toFixed(1))}/s`;
  return `${formatCount(Math.round(rate))}/s`;
}

/** A JSON value from the management API (argument, policy key, feature) as one line. */
export function jsonText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? String(value);
}

const METHOD_LABELS: Record<PeekMethod, string> = {
  nack_requeue: 'consume without ack, then nack with requeue',
  close_channel: 'consume without ack, then close the channel',
  stream_offset: 'read the stream from an offset (nothing to give back)',
};

export function peekMethodLabel(m: PeekMethod): string {
  return METHOD_LABELS[m];
}

const ORDER_LABELS: Record<DeliveryOrder, string> = {
  publication: 'in publication order (first in, first out), as a consumer gets them',
  highest_priority_first: 'highest priority first, first in first out within a priority, as a consumer gets them',
  high_then_normal_two_to_one:
    'priority above 4 first, two of those for each other message, otherwise first in first out, as a consumer gets them',
  offset: 'in stream offset order',
};

const ORDER_SHORT: Record<DeliveryOrder, string> = {
  publication: 'FIFO order',
  highest_priority_first: 'priority order',
  high_then_normal_two_to_one: 'high priority 2:1 order',
  offset: 'offset order',
};

/** The order a peek shows the messages in (the broker's delivery order), as a phrase. */
export function deliveryOrderLabel(o: DeliveryOrder): string {
  return ORDER_LABELS[o];
}

/** The same order in a few words, for a summary line. */
export function deliveryOrderShort(o: DeliveryOrder): string {
  return ORDER_SHORT[o];
}

const END_LABELS: Record<PeekEnd, string> = {
  count_reached: 'count reached',
  queue_exhausted: 'queue exhausted',
  cancelled: 'cancelled',
  budget_reached: 'memory budget reached',
};

export function peekEndLabel(e: PeekEnd): string {
  return END_LABELS[e];
}

/** "the default exchange" for "", else the name. */
export function exchangeLabel(name: string): string {
  return name === '' ? '(AMQP default)' : name;
}
