import { describe, expect, it } from 'vitest';

import { parseCount, streamOffset } from './peekForm';

describe('parseCount', () => {
  it('accepts 1 to 100,000', () => {
    expect(parseCount('100')).toEqual({ ok: true, value: 100 });
    expect(parseCount(' 100,000 ')).toEqual({ ok: true, value: 100_000 });
    expect(parseCount('100001').ok).toBe(false);
    expect(parseCount('0').ok).toBe(false);
    expect(parseCount('1.5').ok).toBe(false);
    expect(parseCount('').ok).toBe(false);
  });
});

describe('streamOffset', () => {
  it('builds each kind', () => {
    expect(streamOffset('first', '')).toEqual({ ok: true, value: { kind: 'first' } });
    expect(streamOffset('next', 'x')).toEqual({ ok: true, value: { kind: 'next' } });
    expect(streamOffset('offset', '42')).toEqual({ ok: true, value: { kind: 'offset', value: 42 } });
    expect(streamOffset('offset', '-1').ok).toBe(false);
    const local = new Date(2025, 0, 2, 3, 4, 5);
    expect(streamOffset('timestamp', '2025-01-02T03:04:05')).toEqual({
      ok: true,
      value: { kind: 'timestamp', value: local.getTime() / 1000 },
    });
    expect(streamOffset('timestamp', '').ok).toBe(false);
  });
});
