// The tap form: the binding key a tap starts with, and a headers exchange's binding arguments.

import type { Parsed } from '../browse/peekForm';

/**
 * Everything by default where a key can say so: `#` on a topic exchange (and on the trace
 * exchange, which is one), none on fanout and headers exchanges (they ignore it); a direct
 * exchange needs the key of the traffic to watch.
 */
export function defaultTapKey(exchange: string, type: string | null): string {
  if (type === 'topic' || exchange === 'amq.rabbitmq.trace') return '#';
  return '';
}

export function tapKeyHint(type: string | null): string {
  switch (type) {
    case 'fanout':
    case 'headers':
      return 'not used: every message';
    case 'direct':
      return 'the routing key to watch';
    default:
      return '# for everything';
  }
}

/** Empty for none, else a JSON object of header values. */
export function parseTapArguments(text: string): Parsed<Record<string, unknown> | null> {
  if (text.trim() === '') return { ok: true, value: null };
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: 'a JSON object' };
    return { ok: true, value: v as Record<string, unknown> };
  } catch {
    return { ok: false, error: 'not valid JSON' };
  }
}
