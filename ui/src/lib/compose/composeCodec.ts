// Byte and text codecs of the composer: UTF-8, strict base64 (what the backend's decoder
// accepts: the standard alphabet, padding required, no stray bits), hex, and a JSON checker
// that reports line and column itself (WebKit's JSON.parse messages carry no position) and
// that knows the composer's templates (`{{seq}}` may stand where a JSON value goes).

export type Decoded = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX: ReadonlyMap<string, number> = new Map([...B64].map((c, i) => [c, i]));

/** The text's UTF-8 length in bytes (AMQP short strings hold at most 255). */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function utf8Encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The bytes as text, or null when they are not valid UTF-8. */
export function utf8Decode(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64.charAt((n >> 18) & 63) + B64.charAt((n >> 12) & 63);
    out += b === undefined ? '=' : B64.charAt((n >> 6) & 63);
    out += c === undefined ? '=' : B64.charAt(n & 63);
  }
  return out;
}

/** Base64 without the whitespace a pasted value may carry (the backend accepts none). */
export function normalizeBase64(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Strict standard base64 (whitespace ignored), as the backend decodes it. */
export function base64ToBytes(text: string): Decoded {
  const s = normalizeBase64(text);
  if (s.length % 4 !== 0) {
    return {
      ok: false,
      error: `not valid base64: ${s.length} characters, not a multiple of 4 (the "=" padding is required)`,
    };
  }
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const body = s.length - padding;
  const values: number[] = [];
  for (let i = 0; i < body; i++) {
    const ch = s.charAt(i);
    const v = B64_INDEX.get(ch);
    if (v === undefined) {
      return {
        ok: false,
        error:
          ch === '='
            ? `not valid base64: "=" in the middle (character ${i + 1})`
            : `not valid base64: "${ch}" (character ${i + 1}) is not in the base64 alphabet`,
      };
    }
    values.push(v);
  }
  const last = values[values.length - 1] ?? 0;
  if ((padding === 1 && (last & 0x3) !== 0) || (padding === 2 && (last & 0xf) !== 0)) {
    return { ok: false, error: 'not valid base64: the last character has stray bits set' };
  }
  const bytes = new Uint8Array((body * 6) >> 3);
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const v of values) {
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[j++] = (acc >> bits) & 0xff;
    }
  }
  return { ok: true, bytes };
}

/** Hex digits in pairs, 16 bytes a line. */
export function bytesToHex(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push([...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

/** Hex digits; whitespace, ":" and "-" between them and a leading "0x" are ignored. */
export function hexToBytes(text: string): Decoded {
  const trimmed = text.trim().replace(/^0x/i, '');
  const digits: string[] = [];
  for (let i = 0; i < trimmed.length; i++) {
    const ch = trimmed.charAt(i);
    if (/[0-9a-fA-F]/.test(ch)) digits.push(ch);
    else if (!/[\s:-]/.test(ch)) {
      return { ok: false, error: `not valid hex: "${ch}" (character ${i + 1}) is not a hex digit` };
    }
  }
  if (digits.length % 2 !== 0) {
    return { ok: false, error: `not valid hex: ${digits.length} digits, an odd number (two make a byte)` };
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits[2 * i]! + digits[2 * i + 1]!, 16);
  return { ok: true, bytes };
}

// ---------------------------------------------------------------------------------------------
// JSON

export interface JsonProblem {
  message: string;
  /** 0-based offset in UTF-16 code units. */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, in characters (UTF-16 code units) of the line. */
  column: number;
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

type Token = { kind: 'open' | 'close' | 'comma' | 'colon' | 'atom'; text: string };

class JsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function describe(text: string, at: number): string {
  if (at >= text.length) return 'the end of the text';
  const ch = text.charAt(at);
  if (ch === '\n') return 'a line break';
  if (ch === '\t') return 'a tab';
  return `"${ch}"`;
}

/** A recursive-descent JSON parser that keeps each token's text (for pretty-printing). */
class JsonScanner {
  pos = 0;
  readonly tokens: Token[] = [];

  constructor(
    readonly text: string,
    readonly templates: boolean,
  ) {}

  fail(message: string, at = this.pos): never {
    throw new JsonError(message, at);
  }

  ws(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text.charAt(this.pos))) this.pos++;
  }

  document(): void {
    this.ws();
    if (this.pos >= this.text.length) this.fail('empty: JSON mode needs a JSON value');
    this.value();
    this.ws();
    if (this.pos < this.text.length) {
      this.fail(`unexpected ${describe(this.text, this.pos)} after the JSON value`);
    }
  }

  value(): void {
    const t = this.text;
    const ch = t.charAt(this.pos);
    if (this.templates && t.startsWith('{{', this.pos)) return this.template();
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return void this.tokens.push({ kind: 'atom', text: this.string() });
    if (ch === '-' || (ch >= '0' && ch <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (t.startsWith(word, this.pos)) {
        this.pos += word.length;
        return void this.tokens.push({ kind: 'atom', text: word });
      }
    }
    if (this.pos >= t.length) this.fail('unexpected end of the text: a value is missing');
    if (/[A-Za-z]/.test(ch)) {
      const word = /^[A-Za-z_]+/.exec(t.slice(this.pos))?.[0] ?? ch;
      this.fail(`unexpected word "${word}": strings need double quotes`);
    }
    if (ch === "'") this.fail('strings need double quotes, not single quotes');
    this.fail(`unexpected ${describe(t, this.pos)}: a value is expected`);
  }

  template(): void {
    const start = this.pos;
    const end = this.text.indexOf('}}', start + 2);
    if (end < 0) this.fail('unclosed template: "{{" without "}}"', start);
    this.pos = end + 2;
    this.tokens.push({ kind: 'atom', text: this.text.slice(start, this.pos) });
  }

  object(): void {
    this.tokens.push({ kind: 'open', text: '{' });
    this.pos++;
    this.ws();
    if (this.text.charAt(this.pos) === '}') {
      this.pos++;
      this.tokens.push({ kind: 'close', text: '}' });
      return;
    }
    for (;;) {
      this.ws();
      if (this.text.charAt(this.pos) !== '"') {
        if (this.text.charAt(this.pos) === '}') this.fail('a trailing comma before "}"');
        this.fail(`expected a property name in double quotes, found ${describe(this.text, this.pos)}`);
      }
      this.tokens.push({ kind: 'atom', text: this.string() });
      this.ws();
      if (this.text.charAt(this.pos) !== ':') {
        this.fail(`expected ":" after the property name, found ${describe(this.text, this.pos)}`);
      }
      this.pos++;
      this.tokens.push({ kind: 'colon', text: ':' });
      this.ws();
      this.value();
      this.ws();
      const ch = this.text.charAt(this.pos);
      if (ch === ',') {
        this.pos++;
        this.tokens.push({ kind: 'comma', text: ',' });
      } else if (ch === '}') {
        this.pos++;
        this.tokens.push({ kind: 'close', text: '}' });
        return;
      } else {
        this.fail(`expected "," or "}" after a property value, found ${describe(this.text, this.pos)}`);
      }
    }
  }

  array(): void {
    this.tokens.push({ kind: 'open', text: '[' });
    this.pos++;
    this.ws();
    if (this.text.charAt(this.pos) === ']') {
      this.pos++;
      this.tokens.push({ kind: 'close', text: ']' });
      return;
    }
    for (;;) {
      this.ws();
      if (this.text.charAt(this.pos) === ']') this.fail('a trailing comma before "]"');
      this.value();
      this.ws();
      const ch = this.text.charAt(this.pos);
      if (ch === ',') {
        this.pos++;
        this.tokens.push({ kind: 'comma', text: ',' });
      } else if (ch === ']') {
        this.pos++;
        this.tokens.push({ kind: 'close', text: ']' });
        return;
      } else {
        this.fail(`expected "," or "]" after an array element, found ${describe(this.text, this.pos)}`);
      }
    }
  }

  string(): string {
    const start = this.pos;
    this.pos++;
    const t = this.text;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string: the closing double quote is missing', start);
      const c = t.charCodeAt(this.pos);
      if (c === 34) {
        this.pos++;
        return t.slice(start, this.pos);
      }
      if (c < 0x20) this.fail(`${describe(t, this.pos)} inside a string: write it as an escape (\\n, \\t)`);
      if (this.templates && c === 123 && t.startsWith('{{', this.pos)) {
        // A placeholder is replaced before the JSON matters: quotes in its arguments are fine.
        const end = t.indexOf('}}', this.pos + 2);
        if (end < 0) this.fail('unclosed template: "{{" without "}}"');
        this.pos = end + 2;
        continue;
      }
      if (this.templates && c === 92 && t.startsWith('{{', this.pos + 1)) {
        // `\{{` is the template's literal "{{".
        this.pos += 3;
        continue;
      }
      if (c === 92) {
        const e = t.charAt(this.pos + 1);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) {
            this.fail('bad \\u escape: four hex digits must follow');
          }
          this.pos += 6;
        } else if ('"\\/bfnrt'.includes(e) && e !== '') {
          this.pos += 2;
        } else {
          this.fail(`bad escape "\\${e}" in a string`);
        }
      } else {
        this.pos++;
      }
    }
  }

  number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) this.fail(`bad number: ${describe(this.text, this.pos + 1)} after "-"`);
    const next = this.text.charAt(this.pos + m[0].length);
    if (/[0-9.eE]/.test(next) && next !== '') {
      this.fail(`bad number: ${describe(this.text, this.pos + m[0].length)} cannot follow "${m[0]}"`, this.pos + m[0].length);
    }
    this.pos += m[0].length;
    this.tokens.push({ kind: 'atom', text: m[0] });
  }
}

/** Tokens when valid; neither tokens nor a problem for a valid document nested too deeply to
 * scan here (JSON.parse was the judge). */
function scan(text: string, templates: boolean): { tokens: Token[] | null; problem: JsonProblem | null } {
  const s = new JsonScanner(text, templates);
  try {
    s.document();
    return { tokens: s.tokens, problem: null };
  } catch (e) {
    if (e instanceof RangeError) {
      // The call stack ran out on a deeply nested document; JSON.parse is the judge then.
      try {
        JSON.parse(text);
        return { tokens: null, problem: null };
      } catch (inner) {
        const message = inner instanceof Error ? inner.message : String(inner);
        return { tokens: null, problem: { message, offset: 0, line: 1, column: 1 } };
      }
    }
    if (!(e instanceof JsonError)) throw e;
    return { tokens: null, problem: { message: e.message, offset: e.offset, ...lineColumn(text, e.offset) } };
  }
}

/**
 * Null when `text` is one JSON value; otherwise what is wrong and where. With `templates`, a
 * `{{...}}` may stand where a value goes (it is rendered before anything is sent).
 */
export function checkJson(text: string, templates = true): JsonProblem | null {
  return scan(text, templates).problem;
}

/** `text` re-indented (numbers, strings and templates kept as written), or null when invalid. */
export function prettyJson(text: string, indent = 2): string | null {
  const { tokens } = scan(text, true);
  if (!tokens) return null;
  const pad = (depth: number) => '\n' + ' '.repeat(indent * depth);
  let out = '';
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    switch (tok.kind) {
      case 'open':
        if (tokens[i + 1]?.kind === 'close') {
          out += tok.text + tokens[i + 1]!.text;
          i++;
        } else {
          depth++;
          out += tok.text + pad(depth);
        }
        break;
      case 'close':
        depth--;
        out += pad(depth) + tok.text;
        break;
      case 'comma':
        out += ',' + pad(depth);
        break;
      case 'colon':
        out += ': ';
        break;
      case 'atom':
        out += tok.text;
        break;
    }
  }
  return out;
}
