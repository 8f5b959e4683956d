import { describe, expect, it } from 'vitest';

import { bodyBytes, bodyText, bytesToBase64, hexDump, imageDataUrl } from './messageBody';

describe('body bytes and text', () => {
  it('encodes UTF-8 text and decodes base64', () => {
    expect([...bodyBytes({ body: 'é', body_encoding: 'utf8' })]).toEqual([0xc3, 0xa9]);
    expect([...bodyBytes({ body: 'AAEC/w==', body_encoding: 'base64' })]).toEqual([0, 1, 2, 255]);
    expect(bodyBytes({ body: '!!', body_encoding: 'base64' })).toHaveLength(0);
  });

  it('says when a binary body is not exact UTF-8', () => {
    expect(bodyText({ body: 'aGk=', body_encoding: 'base64' })).toEqual({ text: 'hi', exact: true });
    expect(bodyText({ body: '/w==', body_encoding: 'base64' })).toEqual({ text: '\ufffd', exact: false });
  });

  it('round-trips base64', () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 256);
    expect([...bodyBytes({ body: bytesToBase64(bytes), body_encoding: 'base64' })]).toEqual([...bytes]);
  });
});

describe('hexDump', () => {
  it('prints offset, hex with a gap after 8 bytes, and ascii', () => {
    const bytes = new TextEncoder().encode('Hello, world!\n\u0000AB');
    const { lines, truncated } = hexDump(bytes);
    expect(truncated).toBe(false);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      offset: '00000000',
      hex: '48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 41',
      ascii: 'Hello, world!..A',
    });
    expect(lines[1]?.offset).toBe('00000010');
    expect(lines[1]?.hex.startsWith('42 ')).toBe(true);
    expect(lines[1]?.hex).toHaveLength(lines[0]?.hex.length ?? 0);
    expect(lines[1]?.ascii).toBe('B');
  });

  it('stops at the limit and says so', () => {
    const { lines, truncated } = hexDump(new Uint8Array(100), 32);
    expect(lines).toHaveLength(2);
    expect(truncated).toBe(true);
  });
});

describe('imageDataUrl', () => {
  it('only for image types', () => {
    expect(imageDataUrl('image/png; x=1', new Uint8Array([1]))).toBe('data:image/png;base64,AQ==');
    expect(imageDataUrl('application/json', new Uint8Array([1]))).toBeNull();
    expect(imageDataUrl(null, new Uint8Array([1]))).toBeNull();
  });
});
