import { describe, expect, it } from 'vitest';

import { parseBudgetMb, parsePrefetch, parsePriority } from './consumeForm';

describe('the consumer form', () => {
  it('takes a prefetch of 1 to 65,535', () => {
    expect(parsePrefetch('20')).toEqual({ ok: true, value: 20 });
    expect(parsePrefetch('65_535')).toEqual({ ok: true, value: 65_535 });
    expect(parsePrefetch('0').ok).toBe(false);
    expect(parsePrefetch('65536').ok).toBe(false);
    expect(parsePrefetch('ten').ok).toBe(false);
  });

  it('takes no priority or a 32-bit one', () => {
    expect(parsePriority(' ')).toEqual({ ok: true, value: null });
    expect(parsePriority('-5')).toEqual({ ok: true, value: -5 });
    expect(parsePriority('2147483648').ok).toBe(false);
  });

  it('takes the budget in megabytes', () => {
    expect(parseBudgetMb('')).toEqual({ ok: true, value: null });
    expect(parseBudgetMb('1.5')).toEqual({ ok: true, value: 1_572_864 });
    expect(parseBudgetMb('0').ok).toBe(false);
  });
});
