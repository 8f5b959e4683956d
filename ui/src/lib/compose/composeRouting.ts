// Where a message would go: the bindings of the chosen exchange, each with whether it matches
// the routing key or the headers being composed. An indication for the person composing; the
// broker decides, and mandatory publishing reports what it could not route.

import type { BindingRow } from '../bindings/BindingRow';
import type { FieldValue } from '../fieldValue';

/** AMQP topic matching: "*" is exactly one word, "#" zero or more. */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const id = `${i},${j}`;
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    let r: boolean;
    if (i === p.length) r = j === k.length;
    else if (p[i] === '#') r = go(i + 1, j) || (j < k.length && go(i, j + 1));
    else r = j < k.length && (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
    memo.set(id, r);
    return r;
  };
  return go(0, 0);
}

/** A typed-form value reduced to what a headers exchange compares (numbers by value). */
function comparable(v: unknown): string | number | boolean | null | undefined {
  if (v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const tag = o['$type'];
    if (tag === 'void') return null;
    if (typeof tag === 'string' && (typeof o['value'] === 'number' || typeof o['value'] === 'boolean')) return o['value'];
    if (typeof tag === 'string' && typeof o['value'] === 'string') {
      return /^(i8|u8|i16|u16|i32|u32|i64|timestamp|f32|f64)$/.test(tag) ? Number(o['value']) : o['value'];
    }
  }
  return undefined;
}

/**
 * Whether headers would match a headers-exchange binding's arguments: `x-match` all (the
 * default) or any, and their `-with-x` forms that also compare "x-" keys. A void binding
 * value matches on presence alone.
 */
export function headersMatch(args: Record<string, unknown>, headers: Record<string, FieldValue>): boolean {
  const mode = typeof args['x-match'] === 'string' ? args['x-match'] : 'all';
  const withX = mode.endsWith('-with-x');
  const any = mode.startsWith('any');
  const keys = Object.keys(args).filter((k) => k !== 'x-match' && (withX || !k.startsWith('x-')));
  const one = (k: string): boolean => {
    if (!Object.prototype.hasOwnProperty.call(headers, k)) return false;
    const want = comparable(args[k]);
    if (want === null) return true;
    const have = comparable(headers[k]);
    return have !== undefined && want !== undefined && have === want;
  };
  if (keys.length === 0) return !any;
  return any ? keys.some(one) : keys.every(one);
}

export type RouteMatch = 'match' | 'no-match' | 'unknown';

/** Whether `binding` would take a message with this routing key and these headers. */
export function bindingMatch(
  kind: string,
  binding: BindingRow,
  routingKey: string,
  headers: Record<string, FieldValue>,
): RouteMatch {
  switch (kind) {
    case 'fanout':
      return 'match';
    case 'direct':
      return binding.routing_key === routingKey ? 'match' : 'no-match';
    case 'topic':
      return topicMatches(binding.routing_key, routingKey) ? 'match' : 'no-match';
    case 'headers':
      return headersMatch(binding.arguments, headers) ? 'match' : 'no-match';
    default:
      return 'unknown';
  }
}

/** A header-match binding's arguments as "x-match=all, format=pdf, type=report". */
export function describeHeaderArgs(args: Record<string, unknown>): string {
  const entries = Object.entries(args);
  if (entries.length === 0) return '(no arguments: matches every message)';
  const mode = args['x-match'];
  const rest = entries.filter(([k]) => k !== 'x-match').map(([k, v]) => `${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [`x-match ${typeof mode === 'string' ? mode : 'all (default)'}`, ...rest].join(', ');
}
