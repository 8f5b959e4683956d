// The header editor's model: one row per header with an explicit AMQP type, converted to and
// from the typed JSON form of the message format (see fieldValue.ts and
// crates/warren-core/src/message/format.rs). The output is what the backend's encoder writes: plain
// JSON for string, bool, i32, finite non-whole f64, table and array; `{"$type": ..., "value":
// ...}` for the rest. Integers and floats are range-checked per width before anything is
// sent; a decimal goes as written ("12.34") and the core reads it (and says what is wrong with
// it, through the preview).

import { base64ToBytes, normalizeBase64, utf8Length } from './composeCodec';
import type { HeaderType } from '../bindings/HeaderType';
import type { FieldValue, TypedFieldValue } from '../fieldValue';

/** The header types of the message format, plus a long string that is not UTF-8 (written as
 * base64). */
export type HeaderRowType = HeaderType | 'binary_string';

export interface HeaderRow {
  id: number;
  name: string;
  type: HeaderRowType;
  /** The value as typed: digits, "true"/"false", base64, "12.34" for a decimal; unused by
   * void, table and array. */
  value: string;
  /** The entries of a table or the elements of an array (whose names are unused). */
  children: HeaderRow[];
  /** The decimal a loaded row held: sent back as it was while `value` still reads the same. */
  decimal?: { scale: number; value: number };
}

export interface HeaderTypeInfo {
  type: HeaderRowType;
  label: string;
  hint: string;
}

/** Every type the editor offers, in the order of its select: each type of the format. */
const TYPE_INFO = {
  string: { label: 'string', hint: 'text (long string); templates apply' },
  i32: { label: 'i32', hint: 'integer, -2147483648 to 2147483647' },
  i64: { label: 'i64', hint: 'integer, -9223372036854775808 to 9223372036854775807' },
  bool: { label: 'bool', hint: 'true or false' },
  f64: { label: 'f64', hint: 'double: a number, NaN, Infinity or -Infinity' },
  i8: { label: 'i8', hint: 'integer, -128 to 127' },
  u8: { label: 'u8', hint: 'integer, 0 to 255' },
  i16: { label: 'i16', hint: 'integer, -32768 to 32767' },
  u16: { label: 'u16', hint: 'integer, 0 to 65535' },
  u32: { label: 'u32', hint: 'integer, 0 to 4294967295' },
  f32: { label: 'f32', hint: 'float: a number, NaN, Infinity or -Infinity' },
  decimal: { label: 'decimal', hint: 'e.g. 12.34: up to 4294967295 without the point, 255 decimals' },
  timestamp: { label: 'timestamp', hint: 'seconds since the Unix epoch' },
  bytes: { label: 'bytes (base64)', hint: 'a byte array, written in base64' },
  binary_string: { label: 'string (base64)', hint: 'a long string of raw bytes, written in base64' },
  void: { label: 'void', hint: 'no value' },
  table: { label: 'table', hint: 'nested headers' },
  array: { label: 'array', hint: 'a list of values' },
} as const satisfies Record<HeaderRowType, { label: string; hint: string }>;

export const HEADER_TYPES: readonly HeaderTypeInfo[] = Object.entries(TYPE_INFO).map(([type, info]) => ({
  type: type as HeaderRowType,
  ...info,
}));

export function typeLabel(type: HeaderRowType): string {
  return TYPE_INFO[type].label;
}

export function isContainer(type: HeaderRowType): type is 'table' | 'array' {
  return type === 'table' || type === 'array';
}

let nextId = 1;

export function newRow(over: Partial<Omit<HeaderRow, 'id'>> = {}): HeaderRow {
  return { id: nextId++, name: '', type: 'string', value: '', children: [], ...over };
}

// ---------------------------------------------------------------------------------------------
// Integers

type IntType = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'timestamp';

export const INT_RANGES: Readonly<Record<IntType, readonly [bigint, bigint]>> = {
  i8: [-128n, 127n],
  u8: [0n, 255n],
  i16: [-32768n, 32767n],
  u16: [0n, 65535n],
  i32: [-2147483648n, 2147483647n],
  u32: [0n, 4294967295n],
  i64: [-9223372036854775808n, 9223372036854775807n],
  timestamp: [0n, 18446744073709551615n],
};

function isIntType(t: HeaderRowType): t is IntType {
  return Object.prototype.hasOwnProperty.call(INT_RANGES, t);
}

/** The integer in `text` if it fits `type`, else the reason it does not. */
export function parseInt64(text: string, type: IntType): { ok: true; value: bigint } | { ok: false; error: string } {
  const s = text.trim();
  if (s === '') return { ok: false, error: `a value is required (${type})` };
  if (!/^[+-]?\d+$/.test(s)) return { ok: false, error: `"${s}" is not an integer` };
  const n = BigInt(s);
  const [lo, hi] = INT_RANGES[type];
  if (n < lo || n > hi) return { ok: false, error: `${n} does not fit ${type} (${lo} to ${hi})` };
  return { ok: true, value: n };
}

/** A JSON number while it is exact, a string of digits beyond 2^53 (the backend takes both). */
function intJson(n: bigint): number | string {
  const asNumber = Number(n);
  return Number.isSafeInteger(asNumber) ? asNumber : n.toString();
}

// ---------------------------------------------------------------------------------------------
// Floats and decimals

const SPECIAL_FLOATS = ['NaN', 'Infinity', '-Infinity'] as const;
type SpecialFloat = (typeof SPECIAL_FLOATS)[number];

function isSpecialFloat(s: string): s is SpecialFloat {
  return (SPECIAL_FLOATS as readonly string[]).includes(s);
}

export function parseFloatText(
  text: string,
  type: 'f32' | 'f64',
): { ok: true; value: number | SpecialFloat } | { ok: false; error: string } {
  const s = text.trim();
  if (s === '') return { ok: false, error: `a value is required (${type})` };
  if (isSpecialFloat(s)) return { ok: true, value: s };
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    return { ok: false, error: `"${s}" is not a number (NaN, Infinity and -Infinity are allowed)` };
  }
  const n = Number(s);
  if (!Number.isFinite(n)) return { ok: false, error: `${s} does not fit ${type}` };
  if (type === 'f32' && !Number.isFinite(Math.fround(n))) {
    return { ok: false, error: `${s} does not fit f32 (at most about ±3.4e38)` };
  }
  return { ok: true, value: n };
}

function floatText(v: number | string): string {
  return typeof v === 'number' ? String(v) : v;
}

/** A decimal of the typed form ({scale: 2, value: 1234}) as written: "12.34". */
export function decimalText(d: { scale: number; value: number }): string {
  const digits = String(d.value);
  if (d.scale <= 0) return digits;
  const padded = digits.padStart(d.scale + 1, '0');
  return `${padded.slice(0, padded.length - d.scale)}.${padded.slice(padded.length - d.scale)}`;
}

// ---------------------------------------------------------------------------------------------
// Rows -> typed JSON

/** Errors by row id: the reason (shown next to the row) and the header path (in summaries). */
export type HeaderErrors = Map<number, { path: string; message: string; field: 'name' | 'value' }>;

function typed(type: 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'timestamp', value: number | string): TypedFieldValue {
  return { $type: type, value };
}

/** One scalar row's value in the typed form, or the reason it does not fit its type. */
/** True when `text` holds a template placeholder (`{{...}}`, not the escaped `\\{{`). */
export function containsTemplate(text: string): boolean {
  return /(^|[^\\])\{\{/.test(text);
}

export function scalarValue(row: HeaderRow): { ok: true; value: FieldValue } | { ok: false; error: string } {
  const t = row.type;
  if ((isIntType(t) || t === 'f32' || t === 'f64') && containsTemplate(row.value)) {
    // The backend renders the placeholder, then checks the number against the type.
    return { ok: true, value: { $type: t, value: row.value } as TypedFieldValue };
  }
  if (isIntType(t)) {
    const r = parseInt64(row.value, t);
    if (!r.ok) return r;
    return { ok: true, value: t === 'i32' ? Number(r.value) : typed(t, intJson(r.value)) };
  }
  switch (t) {
    case 'string':
      return { ok: true, value: row.value };
    case 'bool': {
      const s = row.value.trim();
      if (s !== 'true' && s !== 'false') return { ok: false, error: 'a bool is true or false' };
      return { ok: true, value: s === 'true' };
    }
    case 'f32':
    case 'f64': {
      const r = parseFloatText(row.value, t);
      if (!r.ok) return r;
      const v = r.value;
      // A whole or non-finite double would read back as an integer or not at all: typed.
      if (t === 'f64' && typeof v === 'number' && !Number.isInteger(v)) return { ok: true, value: v };
      return { ok: true, value: { $type: t, value: v } };
    }
    case 'decimal': {
      const text = row.value.trim();
      if (row.decimal && decimalText(row.decimal) === text) return { ok: true, value: { $type: 'decimal', value: row.decimal } };
      // As written: the core reads it, and says through the preview when it is no decimal.
      return { ok: true, value: { $type: 'decimal', value: text } };
    }
    case 'bytes':
    case 'binary_string': {
      const r = base64ToBytes(row.value);
      if (!r.ok) return r;
      const b64 = normalizeBase64(row.value);
      return { ok: true, value: t === 'bytes' ? { $type: 'bytes', value: b64 } : { $type: 'string', base64: b64 } };
    }
    case 'void':
      return { ok: true, value: { $type: 'void' } };
    case 'table':
    case 'array':
      return { ok: false, error: `a ${t} has child rows, not a value` };
  }
}

function encodeRow(row: HeaderRow, path: string, errors: HeaderErrors): FieldValue | undefined {
  if (row.type === 'table') {
    const table = encodeTable(row.children, path, errors);
    return Object.prototype.hasOwnProperty.call(table, '$type') ? { $type: 'table', value: table } : table;
  }
  if (row.type === 'array') {
    const items: FieldValue[] = [];
    row.children.forEach((child, i) => {
      const v = encodeRow(child, `${path}[${i}]`, errors);
      if (v !== undefined) items.push(v);
    });
    return items;
  }
  const r = scalarValue(row);
  if (!r.ok) {
    errors.set(row.id, { path, message: r.error, field: 'value' });
    return undefined;
  }
  return r.value;
}

function encodeTable(rows: readonly HeaderRow[], path: string, errors: HeaderErrors): { [key: string]: FieldValue } {
  const out: { [key: string]: FieldValue } = {};
  const seen = new Set<string>();
  for (const row of rows) {
    const rowPath = `${path}.${row.name}`;
    let nameError: string | null = null;
    if (row.name === '') nameError = 'a name is required';
    else if (seen.has(row.name)) nameError = `"${row.name}" appears twice`;
    else if (utf8Length(row.name) > 255) nameError = `the name is ${utf8Length(row.name)} bytes long; AMQP allows 255`;
    seen.add(row.name);
    const value = encodeRow(row, rowPath, errors);
    if (nameError) {
      // A name problem wins the row's one message slot only when its value is fine.
      if (!errors.has(row.id)) errors.set(row.id, { path: rowPath, message: nameError, field: 'name' });
      continue;
    }
    if (value !== undefined) out[row.name] = value;
  }
  return out;
}

/** The rows as `properties.headers`, with every row that does not fit its type in `errors`. */
export function rowsToHeaders(rows: readonly HeaderRow[]): { headers: { [key: string]: FieldValue }; errors: HeaderErrors } {
  const errors: HeaderErrors = new Map();
  const headers = encodeTable(rows, 'headers', errors);
  return { headers, errors };
}

// ---------------------------------------------------------------------------------------------
// Typed JSON -> rows

function isPlainObject(v: FieldValue): v is { [key: string]: FieldValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tableRows(obj: { [key: string]: FieldValue }): HeaderRow[] {
  return Object.entries(obj).map(([k, v]) => rowFromValue(k, v));
}

function arrayRows(items: readonly FieldValue[]): HeaderRow[] {
  return items.map((v) => rowFromValue('', v));
}

/** One header (or element, with name "") as a row of its real type. */
export function rowFromValue(name: string, v: FieldValue): HeaderRow {
  if (v === null) return newRow({ name, type: 'void' });
  if (typeof v === 'boolean') return newRow({ name, type: 'bool', value: String(v) });
  if (typeof v === 'string') return newRow({ name, type: 'string', value: v });
  if (typeof v === 'number') {
    if (Number.isInteger(v)) {
      const type = v >= -2147483648 && v <= 2147483647 ? 'i32' : 'i64';
      return newRow({ name, type, value: BigInt(v).toString() });
    }
    return newRow({ name, type: 'f64', value: String(v) });
  }
  if (Array.isArray(v)) return newRow({ name, type: 'array', children: arrayRows(v) });
  const obj = v as { readonly [key: string]: FieldValue | undefined };
  const tag = obj['$type'];
  if (typeof tag !== 'string') return newRow({ name, type: 'table', children: tableRows(v as { [key: string]: FieldValue }) });
  const inner = obj['value'];
  switch (tag) {
    case 'bool':
      return newRow({ name, type: 'bool', value: String(inner === true) });
    case 'i8':
    case 'u8':
    case 'i16':
    case 'u16':
    case 'i32':
    case 'u32':
    case 'i64':
    case 'timestamp':
      return newRow({
        name,
        type: tag,
        value: typeof inner === 'number' && Number.isInteger(inner) ? BigInt(inner).toString() : String(inner ?? ''),
      });
    case 'f32':
    case 'f64':
      return newRow({ name, type: tag, value: typeof inner === 'number' || typeof inner === 'string' ? floatText(inner) : '' });
    case 'decimal': {
      const d = inner !== undefined && isPlainObject(inner) ? (inner as { readonly [key: string]: FieldValue | undefined }) : {};
      const scale = d['scale'];
      const digits = d['value'];
      if (typeof scale === 'number' && typeof digits === 'number') {
        const decimal = { scale, value: digits };
        return newRow({ name, type: 'decimal', value: decimalText(decimal), decimal });
      }
      return newRow({ name, type: 'decimal', value: '' });
    }
    case 'string': {
      const b64 = obj['base64'];
      if (typeof b64 === 'string') return newRow({ name, type: 'binary_string', value: b64 });
      return newRow({ name, type: 'string', value: typeof inner === 'string' ? inner : '' });
    }
    case 'bytes':
      return newRow({ name, type: 'bytes', value: typeof inner === 'string' ? inner : '' });
    case 'void':
      return newRow({ name, type: 'void' });
    case 'table':
      return newRow({ name, type: 'table', children: inner !== undefined && isPlainObject(inner) ? tableRows(inner) : [] });
    case 'array':
      return newRow({ name, type: 'array', children: Array.isArray(inner) ? arrayRows(inner) : [] });
    default:
      // Not a type of the format (the backend would refuse it): keep it visible as a table.
      return newRow({ name, type: 'table', children: tableRows(v as { [key: string]: FieldValue }) });
  }
}

export function headersToRows(headers: { [key: string]: FieldValue } | null | undefined): HeaderRow[] {
  return headers ? tableRows(headers) : [];
}

/** A row switched to another type, keeping what still makes sense. */
export function withType(row: HeaderRow, type: HeaderRowType): HeaderRow {
  let value = row.value;
  if (type === 'bool') value = row.value.trim() === 'false' ? 'false' : 'true';
  else if (type === 'void' || isContainer(type)) value = '';
  else if (row.type === 'bool' || row.type === 'void' || isContainer(row.type)) value = '';
  return { ...row, type, value, children: isContainer(type) ? row.children : [] };
}

/** Every row, depth first. */
export function* walkRows(rows: readonly HeaderRow[]): Generator<HeaderRow> {
  for (const r of rows) {
    yield r;
    yield* walkRows(r.children);
  }
}
