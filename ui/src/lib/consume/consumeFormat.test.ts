import { describe, expect, it } from 'vitest';

import { settleKey, settleLabel, SETTLE_CHOICES, timeoutLabel, timeoutStatus } from './consumeFormat';

describe('timeoutStatus', () => {
  const t = { ms: 30 * 60_000, source: 'broker_default' as const };

  it('says nothing while nothing is unsettled', () => {
    expect(timeoutStatus(t, null, 0)).toBeNull();
  });

  it('counts down from the oldest unsettled delivery, warning near the end', () => {
    expect(timeoutStatus(t, 0, 10 * 60_000)).toEqual({
      text: 'the oldest unsettled delivery must be settled within 20 min, or the broker closes the channel',
      tone: 'info',
    });
    expect(timeoutStatus(t, 0, 27 * 60_000)?.tone).toBe('warning');
    expect(timeoutStatus(t, 0, 31 * 60_000)?.tone).toBe('critical');
  });

  it('names where the timeout comes from', () => {
    expect(timeoutLabel(t)).toMatch(/^30 min \(the broker's default/);
    expect(timeoutLabel({ ms: 90_000, source: 'queue_argument' })).toBe("1.5 min (the queue's x-consumer-timeout)");
  });
});

describe('settle choices', () => {
  it('label and key every way to settle', () => {
    expect(SETTLE_CHOICES.map(settleLabel)).toEqual(['Ack', 'Nack + requeue', 'Nack', 'Reject + requeue', 'Reject']);
    expect(SETTLE_CHOICES.map(settleKey)).toEqual(['ack', 'nack-requeue', 'nack', 'reject-requeue', 'reject']);
  });
});
