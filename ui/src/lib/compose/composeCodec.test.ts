import { describe, expect, it } from 'vitest';

import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  checkJson,
  hexToBytes,
  lineColumn,
  prettyJson,
  utf8Decode,
  utf8Encode,
  utf8Length,
} from './composeCodec';

function b64(text: string): number[] | string {
  const r = base64ToBytes(text);
  return r.ok ? [...r.bytes] : r.error;
}

describe('base64', () => {
  it('encodes like the standard alphabet with padding', () => {
    expect(bytesToBase64(new Uint8Array([]))).toBe('');
    expect(bytesToBase64(new Uint8Array([0, 1, 2, 255]))).toBe('AAEC/w==');
    expect(bytesToBase64(new Uint8Array([0xff, 0x00, 0xfe]))).toBe('/wD+');
    expect(bytesToBase64(utf8Encode('héllo'))).toBe(Buffer.from('héllo').toString('base64'));
  });

  it('decodes strictly, whitespace aside', () => {
    expect(b64('AAEC/w==')).toEqual([0, 1, 2, 255]);
    expect(b64(' AAEC\n/w==\n')).toEqual([0, 1, 2, 255]);
    expect(b64('')).toEqual([]);
    expect(b64('AAE')).toContain('multiple of 4');
    expect(b64('AA!C')).toContain('"!" (character 3)');
    expect(b64('A=AA')).toContain('"=" in the middle');
    expect(b64('QR==')).toContain('stray bits');
    expect(b64('QUJ=')).toContain('stray bits');
    expect(b64('QUI=')).toEqual([65, 66]);
  });

  it('round-trips random bytes', () => {
    for (let len = 0; len < 40; len++) {
      const bytes = new Uint8Array(len).map((_, i) => (i * 37 + len * 11) & 0xff);
      const text = bytesToBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(b64(text)).toEqual([...bytes]);
    }
  });
});

describe('hex', () => {
  it('writes pairs, 16 a line, and reads them back with separators ignored', () => {
    const bytes = new Uint8Array(20).map((_, i) => i * 13);
    const text = bytesToHex(bytes);
    expect(text.split('\n')).toHaveLength(2);
    expect(text.startsWith('00 0d 1a')).toBe(true);
    const r = hexToBytes(text);
    expect(r.ok && [...r.bytes]).toEqual([...bytes]);
    const s = hexToBytes('0xDE:AD-be ef');
    expect(s.ok && [...s.bytes]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  it('names the bad digit and an odd count', () => {
    expect(hexToBytes('ab zz')).toEqual({ ok: false, error: 'not valid hex: "z" (character 4) is not a hex digit' });
    expect(hexToBytes('abc')).toEqual({ ok: false, error: 'not valid hex: 3 digits, an odd number (two make a byte)' });
  });
});

describe('utf8', () => {
  it('counts bytes and refuses invalid sequences', () => {
    expect(utf8Length('é')).toBe(2);
    expect(utf8Decode(new Uint8Array([0xff]))).toBeNull();
    expect(utf8Decode(utf8Encode('ok ✓'))).toBe('ok ✓');
  });
});

describe('JSON check', () => {
  it('accepts JSON and templates where a value goes', () => {
    expect(checkJson('{"a": [1, -2.5e3, true, null, "x\\u00e9\\n"], "b": {}}')).toBeNull();
    expect(checkJson('{"id": {{seq}}, "at": "{{now}}"}')).toBeNull();
    expect(checkJson('[{{random_int 1 5}}]')).toBeNull();
    // Inside a string a placeholder may quote its arguments; \\{{ is the literal "{{".
    expect(checkJson('{"who": "{{random_choice "a b" c}}", "lit": "\\{{x}}"}')).toBeNull();
    expect(checkJson('{"lit": "\\{{x}}"}', false)).not.toBeNull();
    expect(checkJson('{{seq}}', false)).not.toBeNull();
  });

  const bad: [string, number, number, string][] = [
    ['{"a": 1,}', 1, 9, 'trailing comma'],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected "," or "}" after a property value'],
    ['[1, 2', 1, 6, 'expected "," or "]"'],
    ["{'a': 1}", 1, 2, 'expected a property name in double quotes'],
    ['{"a": tru}', 1, 7, 'unexpected word "tru"'],
    ['{"a": "x\ny"}', 1, 9, 'a line break inside a string'],
    ['{"a": 01}', 1, 8, 'bad number'],
    ['{"a": "\\q"}', 1, 8, 'bad escape'],
    ['{"a": "open', 1, 7, 'unterminated string'],
    ['{} x', 1, 4, 'after the JSON value'],
    ['', 1, 1, 'empty'],
    ['  \n', 2, 1, 'empty'],
    ['{"a": {{seq}', 1, 7, 'unclosed template'],
    ['{"a": ', 1, 7, 'unexpected end'],
  ];
  it.each(bad)('%j fails at %i:%i', (text, line, column, message) => {
    const p = checkJson(text);
    expect(p).not.toBeNull();
    expect({ line: p?.line, column: p?.column }).toEqual({ line, column });
    expect(p?.message).toContain(message);
  });

  it('agrees with JSON.parse on what is valid', () => {
    const samples = ['1', '"a"', '[]', '{"a":{"b":[1,{"c":null}]}}', '-0', '1e5', '1.', '.5', '+1', '[1,]', 'nul', '"\\ud83d"'];
    for (const s of samples) {
      let valid = true;
      try {
        JSON.parse(s);
      } catch {
        valid = false;
      }
      expect(checkJson(s, false) === null, s).toBe(valid);
    }
  });

  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('pretty JSON', () => {
  it('indents, keeping numbers, strings and templates as written', () => {
    const text = '{"a":[1,2.50,{"b":{}}],"n":12345678901234567890,"s":"x\\"y","id":{{seq}},"e":[]}';
    expect(prettyJson(text)).toBe(
      [
        '{',
        '  "a": [',
        '    1,',
        '    2.50,',
        '    {',
        '      "b": {}',
        '    }',
        '  ],',
        '  "n": 12345678901234567890,',
        '  "s": "x\\"y",',
        '  "id": {{seq}},',
        '  "e": []',
        '}',
      ].join('\n'),
    );
    expect(prettyJson('{"a":')).toBeNull();
  });
});

describe('deep nesting', () => {
  it('does not crash: valid deep JSON passes, invalid fails, neither is pretty-printed', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(checkJson(deep)).toBeNull();
    expect(checkJson(deep + ']')).not.toBeNull();
    expect(prettyJson(deep)).toBeNull();
  });
});
