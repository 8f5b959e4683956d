// A JSON body as the inspector's JSON view shows it: parsed by lossless-json, so every number
// stays exactly as the message has it (`12345678901234567890` is not rounded, `1.50` keeps its
// zero), as the message format promises. Each node has a path (`$.order.items[0]["unit price"]`)
// that names it for expanding, searching, selecting and copying. Keys show in the order a
// JavaScript object keeps them: as written, except that integer-like keys come first.

import { isLosslessNumber, parse } from 'lossless-json';

export type JsonNode =
  | { kind: 'object'; entries: JsonEntry[] }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

export interface JsonEntry {
  key: string;
  node: JsonNode;
}

export type JsonDocument = { ok: true; root: JsonNode } | { ok: false };

/** A container shows at most this many children until asked for the rest. */
export const CHILD_LIMIT = 500;
/** "Expand all" opens containers until about this many rows show. */
export const EXPAND_BUDGET = 5000;
/** A search stops at this many matches. */
export const MATCH_LIMIT = 10_000;

function toNode(v: unknown): JsonNode {
  if (v === null) return { kind: 'null' };
  if (isLosslessNumber(v)) return { kind: 'number', text: v.value };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (typeof v === 'boolean') return { kind: 'boolean', value: v };
  if (Array.isArray(v)) return { kind: 'array', items: v.map(toNode) };
  if (typeof v === 'object') {
    return { kind: 'object', entries: Object.entries(v as Record<string, unknown>).map(([key, x]) => ({ key, node: toNode(x) })) };
  }
  // lossless-json yields nothing else; a number here would already have lost digits.
  throw new TypeError(`unexpected JSON value of type ${typeof v}`);
}

/**
 * The body as a JSON document, numbers exact; not ok for text that is no JSON (or is nested
 * beyond what the parser's stack allows: the text view shows it then).
 */
export function parseJsonExact(text: string): JsonDocument {
  const t = text.trim();
  if (t === '') return { ok: false };
  try {
    // A repeated key keeps its last value, as JSON.parse and most decoders do (the text view
    // shows every one).
    return { ok: true, root: toNode(parse(t, null, { onDuplicateKey: ({ newValue }) => newValue })) };
  } catch {
    return { ok: false };
  }
}

export type Segment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** One step of a path: `.name`, `["odd key"]` or `[3]`. */
export function segmentText(s: Segment): string {
  if (typeof s === 'number') return `[${s}]`;
  return IDENTIFIER.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
}

export const ROOT = '$';

/** The path of a child of `parent`. Paths are canonical, so one node has one path. */
export function childPath(parent: string, s: Segment): string {
  return parent + segmentText(s);
}

export function isContainer(n: JsonNode): n is Extract<JsonNode, { kind: 'object' | 'array' }> {
  return n.kind === 'object' || n.kind === 'array';
}

/** The children of a node with their segments (none for a scalar). */
export function children(n: JsonNode): { segment: Segment; label: string; node: JsonNode }[] {
  if (n.kind === 'array') return n.items.map((node, i) => ({ segment: i, label: String(i), node }));
  if (n.kind === 'object') return n.entries.map((e) => ({ segment: e.key, label: JSON.stringify(e.key), node: e.node }));
  return [];
}

/** A scalar as the tree shows it: strings quoted and escaped, numbers as written. */
export function scalarText(n: JsonNode): string {
  switch (n.kind) {
    case 'string':
      return JSON.stringify(n.value);
    case 'number':
      return n.text;
    case 'boolean':
      return String(n.value);
    case 'null':
      return 'null';
    default:
      return '';
  }
}

/** The node as JSON text, numbers exact; `indent` spaces per level (0: one line). */
export function stringifyNode(n: JsonNode, indent = 2, level = 0): string {
  if (!isContainer(n)) return scalarText(n);
  const kids = children(n);
  const [open, close] = n.kind === 'array' ? ['[', ']'] : ['{', '}'];
  if (kids.length === 0) return open + close;
  const pad = indent > 0 ? '\n' + ' '.repeat(indent * (level + 1)) : '';
  const end = indent > 0 ? '\n' + ' '.repeat(indent * level) : '';
  const sep = indent > 0 ? ': ' : ':';
  const parts = kids.map((k) => (n.kind === 'object' ? `${k.label}${sep}` : '') + stringifyNode(k.node, indent, level + 1));
  return open + pad + parts.join(',' + pad) + end + close;
}

/**
 * What "Copy value" puts on the clipboard: a string's own text (unquoted), a number exactly as
 * written, an object or array as indented JSON.
 */
export function copyText(n: JsonNode): string {
  return n.kind === 'string' ? n.value : stringifyNode(n);
}

/** The node at `path`, or null. */
export function nodeAt(root: JsonNode, path: string): JsonNode | null {
  if (path === ROOT) return root;
  let found: JsonNode | null = null;
  walk(root, (node, p) => {
    if (p === path) {
      found = node;
      return 'stop';
    }
    // Only descend where the path continues.
    return path.startsWith(p) ? 'continue' : 'skip';
  });
  return found;
}

type Visit = 'continue' | 'skip' | 'stop';

/** Depth-first in document order; `visit` may skip a node's children or stop the walk. */
function walk(
  root: JsonNode,
  visit: (node: JsonNode, path: string, key: string | null, ancestors: readonly string[], index: number) => Visit,
): void {
  const stack: { node: JsonNode; path: string; key: string | null; ancestors: readonly string[]; index: number }[] = [
    { node: root, path: ROOT, key: null, ancestors: [], index: 0 },
  ];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (!cur) break;
    const v = visit(cur.node, cur.path, cur.key, cur.ancestors, cur.index);
    if (v === 'stop') return;
    if (v === 'skip' || !isContainer(cur.node)) continue;
    const kids = children(cur.node);
    const ancestors = [...cur.ancestors, cur.path];
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i];
      if (!k) continue;
      stack.push({
        node: k.node,
        path: childPath(cur.path, k.segment),
        key: typeof k.segment === 'string' ? k.segment : null,
        ancestors,
        index: i,
      });
    }
  }
}

export interface JsonMatch {
  path: string;
  /** The containers to open to show it, outermost first. */
  ancestors: string[];
  /** Those of its ancestors that must show all their children (it sits past CHILD_LIMIT). */
  beyondLimit: string[];
}

/**
 * Every node whose key or scalar value contains `query` (case-insensitive; numbers as written,
 * strings unescaped), in document order, at most `limit`.
 */
export function searchJson(root: JsonNode, query: string, limit = MATCH_LIMIT): { matches: JsonMatch[]; truncated: boolean } {
  const q = query.trim().toLowerCase();
  const matches: JsonMatch[] = [];
  let truncated = false;
  if (q === '') return { matches, truncated };
  // Which ancestors list more than CHILD_LIMIT children before the one on the way down.
  const beyond = new Set<string>();
  walk(root, (node, path, key, ancestors, index) => {
    const parent = ancestors[ancestors.length - 1];
    if (parent !== undefined && index >= CHILD_LIMIT) beyond.add(path);
    const value = node.kind === 'string' ? node.value : isContainer(node) ? null : scalarText(node);
    const hit = (key !== null && key.toLowerCase().includes(q)) || (value !== null && value.toLowerCase().includes(q));
    if (hit) {
      if (matches.length >= limit) {
        truncated = true;
        return 'stop';
      }
      const chain = [...ancestors, path];
      const beyondLimit: string[] = [];
      for (let i = 1; i < chain.length; i++) {
        const step = chain[i];
        const up = chain[i - 1];
        if (step !== undefined && up !== undefined && beyond.has(step)) beyondLimit.push(up);
      }
      matches.push({ path, ancestors: [...ancestors], beyondLimit });
    }
    return 'continue';
  });
  return { matches, truncated };
}

/**
 * The containers "Expand all" opens: breadth first, so the outer levels open before the inner
 * ones, until about `budget` rows would show. `complete` is false when some stay closed.
 */
export function expandAllPaths(root: JsonNode, budget = EXPAND_BUDGET): { paths: string[]; complete: boolean } {
  const paths: string[] = [];
  let rows = 1;
  const queue: { node: JsonNode; path: string }[] = [{ node: root, path: ROOT }];
  for (let i = 0; i < queue.length; i++) {
    const cur = queue[i];
    if (!cur || !isContainer(cur.node)) continue;
    const kids = children(cur.node);
    const shown = Math.min(kids.length, CHILD_LIMIT);
    if (rows + shown > budget && paths.length > 0) return { paths, complete: false };
    rows += shown + 1;
    paths.push(cur.path);
    for (const k of kids.slice(0, CHILD_LIMIT)) {
      if (isContainer(k.node)) queue.push({ node: k.node, path: childPath(cur.path, k.segment) });
    }
  }
  return { paths, complete: true };
}

/** The containers open at first: the root and its children (two levels, as before). */
export function initiallyOpen(root: JsonNode): string[] {
  const out: string[] = [];
  if (!isContainer(root)) return out;
  out.push(ROOT);
  for (const k of children(root).slice(0, CHILD_LIMIT)) {
    if (isContainer(k.node)) out.push(childPath(ROOT, k.segment));
  }
  return out;
}
