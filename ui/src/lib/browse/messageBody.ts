// A message body as the detail pane shows it: bytes from the message format's body (UTF-8 text
// or base64), and the views over them (text, hex dump, base64, image; JSON is jsonView.ts).

import type { Message } from '../bindings/Message';

/** The hex view shows at most this many bytes. */
export const HEX_LIMIT = 64 * 1024;

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(bin);
}

/** The body's bytes. An undecodable base64 body gives no bytes rather than throwing. */
export function bodyBytes(m: Pick<Message, 'body' | 'body_encoding'>): Uint8Array {
  if (m.body_encoding === 'utf8') return new TextEncoder().encode(m.body);
  try {
    return base64ToBytes(m.body);
  } catch {
    return new Uint8Array();
  }
}

/** The body as text: exact when it is UTF-8, else lossy (U+FFFD) and `exact` false. */
export function bodyText(m: Pick<Message, 'body' | 'body_encoding'>): { text: string; exact: boolean } {
  if (m.body_encoding === 'utf8') return { text: m.body, exact: true };
  const bytes = bodyBytes(m);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), exact: true };
  } catch {
    return { text: new TextDecoder('utf-8').decode(bytes), exact: false };
  }
}

export interface HexLine {
  /** "00000000" */
  offset: string;
  /** "48 65 6c 6c 6f 20 77 6f  72 6c 64" (16 bytes, a gap after 8). */
  hex: string;
  /** Printable ASCII, "." for the rest. */
  ascii: string;
}

/** A classic hex dump of the first `limit` bytes, 16 per line. */
export function hexDump(bytes: Uint8Array, limit = HEX_LIMIT): { lines: HexLine[]; truncated: boolean } {
  const n = Math.min(bytes.length, limit);
  const lines: HexLine[] = [];
  for (let start = 0; start < n; start += 16) {
    const end = Math.min(start + 16, n);
    let hex = '';
    let ascii = '';
    for (let i = start; i < start + 16; i++) {
      if (i > start) hex += i - start === 8 ? '  ' : ' ';
      if (i < end) {
        const b = bytes[i] ?? 0;
        hex += b.toString(16).padStart(2, '0');
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += '  ';
      }
    }
    lines.push({ offset: start.toString(16).padStart(8, '0'), hex, ascii });
  }
  return { lines, truncated: bytes.length > limit };
}

/** A data: URL for the image views, when the content type is an image type. */
export function imageDataUrl(contentType: string | null | undefined, bytes: Uint8Array): string | null {
  if (!contentType) return null;
  const ct = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!/^image\/[a-z0-9.+-]+$/.test(ct)) return null;
  return `data:${ct};base64,${bytesToBase64(bytes)}`;
}
