// Header values in the typed form (fieldValue.ts) as the inspector shows them: each value with
// its AMQP type name and a short text, tables and arrays with their children.
//
// The rules mirror crates/warren-core/src/message/format.rs: plain string -> string, integer -> i32
// (i64 when it does not fit), fractional -> f64, boolean -> bool, object -> table,
// array -> array, null -> void, and an object with "$type" is that type.

import { formatEpochSeconds } from './browseFormat';
import { FIELD_TYPES, type FieldTypeName, type FieldValue } from '../fieldValue';

export interface FieldNode {
  /** The AMQP type name of the typed form (i32, table, ...). */
  type: FieldTypeName;
  /** The value as one line of text; for tables and arrays, a count of entries. */
  text: string;
  /** Entries of a table (by key) or an array (by index). */
  children: FieldEntry[] | null;
}

export interface FieldEntry {
  key: string;
  node: FieldNode;
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

function isTypeName(value: unknown): value is FieldTypeName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(FIELD_TYPES, value);
}

function entries(children: FieldEntry[], open: string, close: string): FieldNode['text'] {
  const n = children.length;
  return `${open}${n} ${n === 1 ? 'entry' : 'entries'}${close}`;
}

function table(obj: Record<string, unknown>): FieldNode {
  const children = Object.keys(obj)
    .sort()
    .map((key) => ({ key, node: describeField(obj[key] as FieldValue) }));
  return { type: 'table', text: entries(children, '{', '}'), children };
}

function array(items: readonly unknown[]): FieldNode {
  const children = items.map((v, i) => ({ key: String(i), node: describeField(v as FieldValue) }));
  return { type: 'array', text: entries(children, '[', ']'), children };
}

function leaf(type: FieldTypeName, text: string): FieldNode {
  return { type, text, children: null };
}

function numberText(v: unknown): string {
  return typeof v === 'number' || typeof v === 'string' ? String(v) : JSON.stringify(v) ?? '';
}

/** The typed form of one value, labelled with its AMQP type. */
export function describeField(value: FieldValue | undefined): FieldNode {
  if (value === null || value === undefined) return leaf('void', 'void');
  if (typeof value === 'string') return leaf('string', value);
  if (typeof value === 'boolean') return leaf('bool', String(value));
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return leaf(value >= I32_MIN && value <= I32_MAX ? 'i32' : 'i64', String(value));
    return leaf('f64', String(value));
  }
  if (Array.isArray(value)) return array(value);
  const obj = value as Record<string, unknown>;
  const tag = obj['$type'];
  if (!isTypeName(tag)) return table(obj);
  const inner = obj['value'];
  switch (tag) {
    case 'void':
      return leaf('void', 'void');
    case 'table':
      return { ...table(typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : {}), type: 'table' };
    case 'array':
      return array(Array.isArray(inner) ? inner : []);
    case 'string':
      if (typeof obj['base64'] === 'string') return leaf('string', `base64:${obj['base64']}`);
      return leaf('string', typeof inner === 'string' ? inner : '');
    case 'bytes':
      return leaf('bytes', typeof inner === 'string' ? `base64:${inner}` : '');
    case 'decimal': {
      const d = inner as { scale?: unknown; value?: unknown } | undefined;
      if (d && typeof d.scale === 'number' && typeof d.value === 'number') return leaf('decimal', decimalText(d.value, d.scale));
      return leaf('decimal', numberText(inner));
    }
    case 'timestamp': {
      const secs = typeof inner === 'number' ? inner : Number(inner);
      const when = Number.isFinite(secs) ? ` (${formatEpochSeconds(secs, true)})` : '';
      return leaf('timestamp', `${numberText(inner)}${when}`);
    }
    case 'bool':
      return leaf('bool', String(inner === true));
    default:
      return leaf(tag, numberText(inner));
  }
}

/** value × 10^-scale as exact decimal text: (12345, 2) -> "123.45". */
export function decimalText(value: number, scale: number): string {
  if (scale <= 0) return String(value);
  const neg = value < 0;
  const digits = Math.abs(value).toString().padStart(scale + 1, '0');
  const text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${text}` : text;
}

/** Headers sorted by name, each described. */
export function describeHeaders(headers: Record<string, FieldValue> | null | undefined): FieldEntry[] {
  if (!headers) return [];
  return Object.keys(headers)
    .sort()
    .map((key) => ({ key, node: describeField(headers[key]) }));
}
