// The Browse tab's form: how many messages, and where a stream peek starts.

import type { StreamOffset } from '../bindings/StreamOffset';

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 100_000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A whole number from 1 to MAX_COUNT. */
export function parseCount(text: string): Parsed<number> {
  const t = text.trim().replace(/[_,]/g, '');
  if (!/^\d+$/.test(t)) return { ok: false, error: 'a whole number of messages' };
  const n = Number(t);
  if (n < 1) return { ok: false, error: 'at least 1' };
  if (n > MAX_COUNT) return { ok: false, error: `at most ${MAX_COUNT.toLocaleString('en-US')}` };
  return { ok: true, value: n };
}

export type OffsetKind = StreamOffset['kind'];

/**
 * The stream offset of the picker: `value` is the offset for "offset", a local date-time
 * (`YYYY-MM-DDTHH:MM[:SS]`, as datetime-local inputs give it) for "timestamp".
 */
export function streamOffset(kind: OffsetKind, value: string): Parsed<StreamOffset> {
  switch (kind) {
    case 'first':
    case 'last':
    case 'next':
      return { ok: true, value: { kind } };
    case 'offset': {
      const t = value.trim();
      if (!/^\d+$/.test(t)) return { ok: false, error: 'an offset is a whole number' };
      return { ok: true, value: { kind: 'offset', value: Number(t) } };
    }
    case 'timestamp': {
      const ms = new Date(value).getTime();
      if (value.trim() === '' || Number.isNaN(ms)) return { ok: false, error: 'choose a date and time' };
      return { ok: true, value: { kind: 'timestamp', value: Math.floor(ms / 1000) } };
    }
  }
}
