import { describe, expect, it } from 'vitest';

import type { FieldValue } from '../fieldValue';
import {
  HEADER_TYPES,
  decimalText,
  headersToRows,
  newRow,
  rowFromValue,
  rowsToHeaders,
  scalarValue,
  withType,
  type HeaderRow,
  type HeaderRowType,
} from './headerEditor';
import { EVERY_TYPE_HEADERS } from '../../test/composeFixtures';

function shape(rows: HeaderRow[]): unknown[] {
  return rows.map((r) => ({ name: r.name, type: r.type, value: r.value, children: shape(r.children) }));
}

function encodeOne(type: HeaderRowType, value: string): FieldValue | string {
  const r = scalarValue(newRow({ name: 'h', type, value }));
  return r.ok ? r.value : `error: ${r.error}`;
}

describe('header rows <-> typed JSON', () => {
  it('round-trips every type, in the form the backend writes, to identical JSON', () => {
    const rows = headersToRows(EVERY_TYPE_HEADERS);
    const { headers, errors } = rowsToHeaders(rows);
    expect([...errors.values()]).toEqual([]);
    expect(headers).toEqual(EVERY_TYPE_HEADERS);
    // Key order is kept, so the JSON text is the same too.
    expect(JSON.stringify(headers)).toBe(JSON.stringify(EVERY_TYPE_HEADERS));
  });

  it('shows each header with its real type', () => {
    const byName = new Map(headersToRows(EVERY_TYPE_HEADERS).map((r) => [r.name, r]));
    const types = Object.fromEntries([...byName].map(([k, r]) => [k, r.type]));
    expect(types).toEqual({
      bool: 'bool',
      i8: 'i8',
      u8: 'u8',
      i16: 'i16',
      u16: 'u16',
      i32: 'i32',
      u32: 'u32',
      'i64 small': 'i64',
      'i64 big': 'i64',
      f32: 'f32',
      f64: 'f64',
      'f64 whole': 'f64',
      'f64 nan': 'f64',
      'f64 inf': 'f64',
      decimal: 'decimal',
      string: 'string',
      'binary string': 'binary_string',
      timestamp: 'timestamp',
      bytes: 'bytes',
      void: 'void',
      table: 'table',
      'clashing table': 'table',
      array: 'array',
    });
    expect(byName.get('decimal')?.value).toBe('123.45');
    expect(byName.get('i64 big')?.value).toBe('9223372036854775807');
    expect(shape(byName.get('table')?.children ?? [])).toEqual([{ name: 'inner', type: 'i16', value: '-7', children: [] }]);
    expect(shape(byName.get('array')?.children ?? [])).toEqual([
      { name: '', type: 'i32', value: '1', children: [] },
      { name: '', type: 'u8', value: '2', children: [] },
      { name: '', type: 'void', value: '', children: [] },
    ]);
  });

  it('reads hand-written plain JSON as the natural types', () => {
    const rows = headersToRows({ n: 3, big: 5_000_000_000, x: 1.5, s: 'a', nil: null, list: [1, 'b'], t: { a: true } });
    expect(rows.map((r) => [r.name, r.type])).toEqual([
      ['n', 'i32'],
      ['big', 'i64'],
      ['x', 'f64'],
      ['s', 'string'],
      ['nil', 'void'],
      ['list', 'array'],
      ['t', 'table'],
    ]);
    // The same meaning in the canonical form (i64 explicit, void typed).
    expect(rowsToHeaders(rows).headers).toEqual({
      n: 3,
      big: { $type: 'i64', value: 5_000_000_000 },
      x: 1.5,
      s: 'a',
      nil: { $type: 'void' },
      list: [1, 'b'],
      t: { a: true },
    });
  });

  it('reads the typed form with values as strings, and the explicit forms of plain types', () => {
    const rows = headersToRows({
      a: { $type: 'i64', value: '-9223372036854775808' },
      b: { $type: 'i32', value: 7 },
      c: { $type: 'string', value: 'x' },
      d: { $type: 'array', value: [true] },
      e: { $type: 'f32', value: 'Infinity' },
    });
    expect(shape(rows).map((r) => (r as { type: string }).type)).toEqual(['i64', 'i32', 'string', 'array', 'f32']);
    expect(rowsToHeaders(rows).headers).toEqual({
      a: { $type: 'i64', value: '-9223372036854775808' },
      b: 7,
      c: 'x',
      d: [true],
      e: { $type: 'f32', value: 'Infinity' },
    });
  });
});

describe('range checks per width', () => {
  const cases: [HeaderRowType, string, string][] = [
    ['i8', '-129', '-129 does not fit i8 (-128 to 127)'],
    ['i8', '128', 'does not fit i8'],
    ['u8', '-1', '-1 does not fit u8 (0 to 255)'],
    ['u8', '256', 'does not fit u8'],
    ['i16', '40000', '40000 does not fit i16 (-32768 to 32767)'],
    ['u16', '65536', 'does not fit u16'],
    ['i32', '2147483648', 'does not fit i32'],
    ['u32', '4294967296', 'does not fit u32'],
    ['i64', '9223372036854775808', 'does not fit i64'],
    ['timestamp', '-1', 'does not fit timestamp'],
    ['i32', '1.5', '"1.5" is not an integer'],
    ['i32', '', 'a value is required (i32)'],
    ['bool', 'yes', 'a bool is true or false'],
    ['f32', '1e39', 'does not fit f32'],
    ['f64', '1e999', 'does not fit f64'],
    ['f64', 'abc', 'is not a number'],
    ['bytes', '!!', 'not valid base64'],
    ['bytes', 'AAE', 'multiple of 4'],
    ['binary_string', 'QR==', 'stray bits'],
  ];
  it.each(cases)('%s %j is refused', (type, value, message) => {
    expect(encodeOne(type, value)).toContain(message);
  });

  const fits: [HeaderRowType, string, FieldValue][] = [
    ['i8', '-128', { $type: 'i8', value: -128 }],
    ['u8', '255', { $type: 'u8', value: 255 }],
    ['i16', ' 32767 ', { $type: 'i16', value: 32767 }],
    ['u16', '0', { $type: 'u16', value: 0 }],
    ['i32', '-2147483648', -2147483648],
    ['u32', '4294967295', { $type: 'u32', value: 4294967295 }],
    ['i64', '9007199254740993', { $type: 'i64', value: '9007199254740993' }],
    ['i64', '+12', { $type: 'i64', value: 12 }],
    ['timestamp', '1700000000', { $type: 'timestamp', value: 1700000000 }],
    ['f64', '0.5', 0.5],
    ['f64', '3', { $type: 'f64', value: 3 }],
    ['f64', '-Infinity', { $type: 'f64', value: '-Infinity' }],
    ['f32', '0.25', { $type: 'f32', value: 0.25 }],
    ['f32', 'NaN', { $type: 'f32', value: 'NaN' }],
    // A decimal goes as written: the core reads it (and refuses "-1.5" or "1,5" through the preview).
    ['decimal', ' 0.005 ', { $type: 'decimal', value: '0.005' }],
    ['decimal', '1,5', { $type: 'decimal', value: '1,5' }],
    ['bool', 'false', false],
    ['string', '{{uuid}}', '{{uuid}}'],
    ['bytes', ' AAEC\n/w== ', { $type: 'bytes', value: 'AAEC/w==' }],
    ['binary_string', '/wD+', { $type: 'string', base64: '/wD+' }],
    ['void', 'ignored', { $type: 'void' }],
  ];
  it.each(fits)('%s %j is %j', (type, value, json) => {
    expect(encodeOne(type, value)).toEqual(json);
  });

  it('shows a decimal as written, and sends a loaded one back as it was until it is edited', () => {
    expect(decimalText({ scale: 2, value: 12345 })).toBe('123.45');
    expect(decimalText({ scale: 3, value: 5 })).toBe('0.005');
    expect(decimalText({ scale: 0, value: 5 })).toBe('5');
    expect(decimalText({ scale: 2, value: 100 })).toBe('1.00');

    const loaded = rowFromValue('price', { $type: 'decimal', value: { scale: 2, value: 1250 } });
    expect(loaded.value).toBe('12.50');
    expect(scalarValue(loaded)).toEqual({ ok: true, value: { $type: 'decimal', value: { scale: 2, value: 1250 } } });
    expect(scalarValue({ ...loaded, value: '12.5' })).toEqual({ ok: true, value: { $type: 'decimal', value: '12.5' } });
  });
});

describe('tables, arrays and names', () => {
  it('nests and reports errors by row with the header path', () => {
    const bad = newRow({ name: 'n', type: 'i16', value: '40000' });
    const elem = newRow({ type: 'u8', value: '300' });
    const rows = [
      newRow({ name: 'outer', type: 'table', children: [bad, newRow({ name: 'list', type: 'array', children: [newRow({ type: 'i32', value: '1' }), elem] })] }),
    ];
    const { headers, errors } = rowsToHeaders(rows);
    expect(errors.get(bad.id)).toEqual({ path: 'headers.outer.n', message: '40000 does not fit i16 (-32768 to 32767)', field: 'value' });
    expect(errors.get(elem.id)).toEqual({ path: 'headers.outer.list[1]', message: '300 does not fit u8 (0 to 255)', field: 'value' });
    expect(headers).toEqual({ outer: { list: [1] } });
  });

  it('refuses empty, duplicate and over-long names', () => {
    const empty = newRow({ name: '', value: 'a' });
    const first = newRow({ name: 'x', value: 'a' });
    const dup = newRow({ name: 'x', value: 'b' });
    const long = newRow({ name: 'k'.repeat(256), value: 'c' });
    const { errors } = rowsToHeaders([empty, first, dup, long]);
    expect(errors.get(empty.id)?.message).toBe('a name is required');
    expect(errors.has(first.id)).toBe(false);
    expect(errors.get(dup.id)?.message).toBe('"x" appears twice');
    expect(errors.get(long.id)?.message).toContain('256 bytes');
  });

  it('writes a table holding "$type" in the typed form', () => {
    const rows = [newRow({ name: 't', type: 'table', children: [newRow({ name: '$type', value: 'i8' })] })];
    expect(rowsToHeaders(rows).headers).toEqual({ t: { $type: 'table', value: { $type: 'i8' } } });
  });

  it('element names of arrays are ignored', () => {
    const rows = [newRow({ name: 'a', type: 'array', children: [newRow({ name: 'ignored', value: 'x' })] })];
    expect(rowsToHeaders(rows).headers).toEqual({ a: ['x'] });
  });

  it('changing the type keeps what still makes sense', () => {
    const r = newRow({ name: 'h', type: 'string', value: '42' });
    expect(withType(r, 'i16').value).toBe('42');
    expect(withType(r, 'bool').value).toBe('true');
    expect(withType(withType(r, 'bool'), 'i32').value).toBe('');
    const t = newRow({ name: 't', type: 'table', children: [newRow({ name: 'a' })] });
    expect(withType(t, 'array').children).toHaveLength(1);
    expect(withType(t, 'string').children).toHaveLength(0);
  });

  it('offers every type of the format, each once', () => {
    const offered = HEADER_TYPES.map((t) => t.type).sort();
    expect(offered).toEqual(
      ['array', 'binary_string', 'bool', 'bytes', 'decimal', 'f32', 'f64', 'i16', 'i32', 'i64', 'i8', 'string', 'table', 'timestamp', 'u16', 'u32', 'u8', 'void'].sort(),
    );
  });

  it('an unknown $type stays visible', () => {
    const row = rowFromValue('odd', { $type: 'nope', value: 1 } as unknown as FieldValue);
    expect(row.type).toBe('table');
  });
});
