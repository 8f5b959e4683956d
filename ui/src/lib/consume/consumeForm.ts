// The consumer form's numbers: prefetch, consumer priority, the budget of held deliveries.

import type { Parsed } from '../browse/peekForm';

/** Small, so a consumer that is only looked at holds few messages away from others. */
export const DEFAULT_PREFETCH = 20;

function whole(text: string): number | null {
  const t = text.trim().replace(/[_,]/g, '');
  return /^-?\d+$/.test(t) ? Number(t) : null;
}

/** 1 to 65,535 (AMQP's prefetch is 16-bit; 0 would mean no limit at all). */
export function parsePrefetch(text: string): Parsed<number> {
  const n = whole(text);
  if (n === null) return { ok: false, error: 'a whole number' };
  if (n < 1 || n > 65_535) return { ok: false, error: 'from 1 to 65,535' };
  return { ok: true, value: n };
}

/** Empty for none, else a 32-bit signed integer (`x-priority`). */
export function parsePriority(text: string): Parsed<number | null> {
  if (text.trim() === '') return { ok: true, value: null };
  const n = whole(text);
  if (n === null || n < -2_147_483_648 || n > 2_147_483_647) return { ok: false, error: 'a whole number (32-bit)' };
  return { ok: true, value: n };
}

/** Empty for the backend's default, else megabytes (more than 0) as bytes. */
export function parseBudgetMb(text: string): Parsed<number | null> {
  if (text.trim() === '') return { ok: true, value: null };
  const mb = Number(text.trim());
  if (!Number.isFinite(mb) || mb <= 0) return { ok: false, error: 'megabytes, more than 0' };
  return { ok: true, value: Math.round(mb * 1024 * 1024) };
}
