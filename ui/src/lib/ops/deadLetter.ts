// Where a dead letter came from and why, in one sentence, from its latest x-death entry (the
// one RabbitMQ puts first): the same entry "Send back" republishes to.

import type { DeathRecord } from '../bindings/DeathRecord';

const REASONS: Record<string, string> = {
  rejected: 'rejected by a consumer',
  expired: 'expired (its TTL ran out)',
  maxlen: 'dropped from the head of a full queue',
  delivery_limit: 'delivered more times than the delivery limit allows',
};

export function reasonText(reason: string | null): string {
  if (reason === null) return 'for a reason not recorded';
  return REASONS[reason] ?? reason;
}

/** "Dead-lettered from queue "work", rejected by a consumer; sent back, it goes to exchange "orders" with routing key "eu"." */
export function deathSummary(deaths: DeathRecord[]): string | null {
  const d = deaths[0];
  if (d === undefined) return null;
  const from = d.queue === null ? 'an unnamed queue' : `queue "${d.queue}"`;
  const times = d.count !== null && d.count > 1 ? ` (${d.count} times)` : '';
  const key = d.routing_keys[0];
  const back =
    d.exchange === null || key === undefined
      ? 'its x-death names no exchange and routing key to send it back to'
      : `sent back, it goes to ${d.exchange === '' ? 'the default exchange' : `exchange "${d.exchange}"`} with routing key "${key}"`;
  return `Dead-lettered from ${from}, ${reasonText(d.reason)}${times}; ${back}.`;
}
