import { describe, expect, it } from 'vitest';

import { decimalText, describeField, describeHeaders } from './fieldTree';

describe('describeField', () => {
  it('labels plain JSON by the typed form rules', () => {
    expect(describeField('hi')).toEqual({ type: 'string', text: 'hi', children: null });
    expect(describeField(7).type).toBe('i32');
    expect(describeField(-(2 ** 31)).type).toBe('i32');
    expect(describeField(2 ** 31).type).toBe('i64');
    expect(describeField(1.5)).toEqual({ type: 'f64', text: '1.5', children: null });
    expect(describeField(true)).toEqual({ type: 'bool', text: 'true', children: null });
    expect(describeField(null).type).toBe('void');
  });

  it('labels explicit types with their own name', () => {
    expect(describeField({ $type: 'i16', value: -7 })).toEqual({ type: 'i16', text: '-7', children: null });
    expect(describeField({ $type: 'i64', value: '9007199254740993' }).text).toBe('9007199254740993');
    expect(describeField({ $type: 'bytes', value: 'AAEC/w==' })).toMatchObject({ type: 'bytes', text: 'base64:AAEC/w==' });
    expect(describeField({ $type: 'void' }).type).toBe('void');
    expect(describeField({ $type: 'f64', value: 'NaN' }).text).toBe('NaN');
    expect(describeField({ $type: 'string', base64: '/wD+' }).text).toBe('base64:/wD+');
    expect(describeField({ $type: 'decimal', value: { scale: 2, value: 12345 } }).text).toBe('123.45');
    expect(describeField({ $type: 'timestamp', value: 0 }).text).toBe('0 (1970-01-01 00:00:00Z)');
  });

  it('nests tables and arrays, a table of one "$type" key included', () => {
    const t = describeField({ inner: { $type: 'i16', value: -7 }, list: [1, 'a'] });
    expect(t.type).toBe('table');
    expect(t.text).toBe('{2 entries}');
    expect(t.children?.map((c) => [c.key, c.node.type])).toEqual([
      ['inner', 'i16'],
      ['list', 'array'],
    ]);
    expect(t.children?.[1]?.node.children?.map((c) => c.node.type)).toEqual(['i32', 'string']);
    const explicit = describeField({ $type: 'table', value: { $type: 'i8', value: 1 } });
    expect(explicit.type).toBe('table');
    expect(explicit.children?.map((c) => c.key)).toEqual(['$type', 'value']);
    expect(describeField({ $type: 'array', value: [true] }).children?.[0]?.node.type).toBe('bool');
  });
});

describe('describeHeaders', () => {
  it('sorts by name and handles no headers', () => {
    expect(describeHeaders({ b: 1, a: 'x' }).map((e) => e.key)).toEqual(['a', 'b']);
    expect(describeHeaders(null)).toEqual([]);
  });
});

describe('decimalText', () => {
  it('places the point', () => {
    expect(decimalText(5, 3)).toBe('0.005');
    expect(decimalText(-12345, 2)).toBe('-123.45');
    expect(decimalText(42, 0)).toBe('42');
  });
});
