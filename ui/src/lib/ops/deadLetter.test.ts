import { describe, expect, it } from 'vitest';

import type { DeathRecord } from '../bindings/DeathRecord';
import { deathSummary } from './deadLetter';

const death = (over: Partial<DeathRecord>): DeathRecord => ({
  queue: 'work',
  reason: 'rejected',
  count: 1,
  exchange: 'orders',
  routing_keys: ['eu.new'],
  time: 1_700_000_000,
  original_expiration: null,
  ...over,
});

describe('deathSummary', () => {
  it('says where the latest death came from, why, and where sending back goes', () => {
    expect(deathSummary([death({}), death({ queue: 'older' })])).toBe(
      'Dead-lettered from queue "work", rejected by a consumer; sent back, it goes to exchange "orders" with routing key "eu.new".',
    );
    expect(deathSummary([death({ exchange: '', reason: 'expired', count: 3 })])).toBe(
      'Dead-lettered from queue "work", expired (its TTL ran out) (3 times); sent back, it goes to the default exchange with routing key "eu.new".',
    );
    expect(deathSummary([death({ routing_keys: [] })])).toContain('names no exchange and routing key');
    expect(deathSummary([])).toBeNull();
  });
});
