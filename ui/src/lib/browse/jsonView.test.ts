import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import {
  CHILD_LIMIT,
  copyText,
  expandAllPaths,
  nodeAt,
  parseJsonExact,
  searchJson,
  stringifyNode,
  type JsonNode,
} from './jsonView';
import { messageDetail } from '../../test/browseFixtures';
import JsonView from './JsonView.svelte';
import MessageDetailPane from './MessageDetailPane.svelte';

function root(text: string): JsonNode {
  const doc = parseJsonExact(text);
  if (!doc.ok) throw new Error(`not JSON: ${text}`);
  return doc.root;
}

describe('parseJsonExact keeps every number as written', () => {
  it('keeps integers beyond 2^53, trailing zeros and exponents', () => {
    const text = '{"id":12345678901234567890,"neg":-9007199254740993,"price":1.50,"tiny":1e-400,"huge":2.3e+500}';
    const doc = root(text);
    // JSON.parse would say 12345678901234567000, -9007199254740992, 1.5, 0 and Infinity.
    expect(nodeAt(doc, '$.id')).toEqual({ kind: 'number', text: '12345678901234567890' });
    expect(nodeAt(doc, '$.neg')).toEqual({ kind: 'number', text: '-9007199254740993' });
    expect(nodeAt(doc, '$.price')).toEqual({ kind: 'number', text: '1.50' });
    expect(nodeAt(doc, '$.tiny')).toEqual({ kind: 'number', text: '1e-400' });
    expect(nodeAt(doc, '$.huge')).toEqual({ kind: 'number', text: '2.3e+500' });
    // Written back out, the document is the same text.
    expect(stringifyNode(doc, 0)).toBe(text);
  });

  it('shows exact numbers in the rendered tree', () => {
    render(JsonView, { root: root('{"id":12345678901234567890,"list":[18446744073709551615]}') });
    const text = screen.getByTestId('json-view').textContent ?? '';
    expect(text).toContain('12345678901234567890');
    expect(text).toContain('18446744073709551615');
    expect(text).not.toContain('12345678901234567000');
  });

  it('refuses what is not one JSON value', () => {
    expect(parseJsonExact('not json')).toEqual({ ok: false });
    expect(parseJsonExact('')).toEqual({ ok: false });
    expect(parseJsonExact('{"a":1} {"b":2}')).toEqual({ ok: false });
    expect(parseJsonExact(' "just a string" ')).toEqual({ ok: true, root: { kind: 'string', value: 'just a string' } });
  });

  it('keeps the last of repeated keys, as JSON.parse does', () => {
    expect(nodeAt(root('{"a":1,"a":2}'), '$.a')).toEqual({ kind: 'number', text: '2' });
  });
});

describe('paths', () => {
  const doc = root('{"order":{"items":[{"sku":"A-1","unit price":12345678901234567890}]},"we\\"ird":true}');

  it('name object keys, odd keys and array items', () => {
    expect(nodeAt(doc, '$.order.items[0].sku')).toEqual({ kind: 'string', value: 'A-1' });
    expect(nodeAt(doc, '$.order.items[0]["unit price"]')).toEqual({ kind: 'number', text: '12345678901234567890' });
    expect(nodeAt(doc, '$["we\\"ird"]')).toEqual({ kind: 'boolean', value: true });
    expect(nodeAt(doc, '$.order.items[1]')).toBeNull();
  });

  it('copy a value: strings unquoted, numbers exact, containers as JSON', () => {
    expect(copyText({ kind: 'string', value: 'a "b"' })).toBe('a "b"');
    expect(copyText({ kind: 'number', text: '12345678901234567890' })).toBe('12345678901234567890');
    const items = nodeAt(doc, '$.order.items');
    expect(items && copyText(items)).toBe('[\n  {\n    "sku": "A-1",\n    "unit price": 12345678901234567890\n  }\n]');
  });
});

describe('searchJson', () => {
  const doc = root('{"user":{"name":"Ada","email":"ada@example.com"},"ids":[12345678901234567890, 7],"note":null}');

  it('matches keys and values, case-insensitively, in document order, with what hides them', () => {
    const { matches } = searchJson(doc, 'ADA');
    expect(matches.map((m) => m.path)).toEqual(['$.user.name', '$.user.email']);
    expect(matches[0]?.ancestors).toEqual(['$', '$.user']);
    expect(searchJson(doc, 'email').matches.map((m) => m.path)).toEqual(['$.user.email']);
  });

  it('matches numbers by their exact digits', () => {
    expect(searchJson(doc, '4567890123456789').matches.map((m) => m.path)).toEqual(['$.ids[0]']);
    expect(searchJson(doc, 'null').matches.map((m) => m.path)).toEqual(['$.note']);
  });

  it('finds nothing for an empty query and stops at the limit', () => {
    expect(searchJson(doc, '  ').matches).toEqual([]);
    const many = root(JSON.stringify(Array.from({ length: 50 }, () => 'x')));
    expect(searchJson(many, 'x', 10)).toMatchObject({ truncated: true });
    expect(searchJson(many, 'x', 10).matches).toHaveLength(10);
  });

  it('says which containers must show all their children to reveal a far match', () => {
    const long = root(JSON.stringify({ list: [...Array.from({ length: CHILD_LIMIT + 5 }, (_, i) => i), 'needle'] }));
    const [m] = searchJson(long, 'needle').matches;
    expect(m?.path).toBe(`$.list[${CHILD_LIMIT + 5}]`);
    expect(m?.beyondLimit).toEqual(['$.list']);
  });
});

describe('expandAllPaths', () => {
  it('opens every container of a small document', () => {
    const doc = root('{"a":{"b":[1,{"c":2}]},"d":[]}');
    expect(expandAllPaths(doc)).toEqual({ paths: ['$', '$.a', '$.d', '$.a.b', '$.a.b[1]'], complete: true });
  });

  it('stops before too many rows would show', () => {
    const doc = root(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i, tags: ['x', 'y', 'z'] }))));
    const { paths, complete } = expandAllPaths(doc, 150);
    expect(complete).toBe(false);
    expect(paths[0]).toBe('$');
    expect(paths.length).toBeLessThan(101);
  });
});

describe('JsonView', () => {
  const text = '{"order":{"id":12345678901234567890,"items":[{"sku":"A-1"},{"sku":"B-2"}]}}';

  function clipboard(): ReturnType<typeof vi.fn> {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    return writeText;
  }

  const paths = () => screen.getAllByTestId('json-node').map((n) => n.dataset['path']);

  it('copies the selected node path and its exact value', async () => {
    const writeText = clipboard();
    render(JsonView, { root: root(text) });
    const id = screen.getAllByTestId('json-node').find((n) => n.dataset['path'] === '$.order.id');
    if (!id) throw new Error('no $.order.id row');
    await fireEvent.click(id);
    expect(screen.getByTestId('json-selected-path').textContent).toBe('$.order.id');
    await fireEvent.click(screen.getByTestId('json-copy-path'));
    expect(writeText).toHaveBeenLastCalledWith('$.order.id');
    await fireEvent.click(screen.getByTestId('json-copy-value'));
    expect(writeText).toHaveBeenLastCalledWith('12345678901234567890');
  });

  it('searches: counts matches, opens and selects the current one, steps with Enter', async () => {
    const writeText = clipboard();
    render(JsonView, { root: root(text) });
    await fireEvent.click(screen.getByTestId('json-collapse-all'));
    expect(paths()).toEqual(['$']);
    const search = screen.getByTestId('json-search');
    await fireEvent.input(search, { target: { value: 'sku' } });
    expect(screen.getByTestId('json-match-count').dataset['count']).toBe('2');
    expect(screen.getByTestId('json-selected-path').textContent).toBe('$.order.items[0].sku');
    // Every match is in sight, not only the current one.
    expect(paths()).toEqual(expect.arrayContaining(['$.order.items[0].sku', '$.order.items[1].sku']));
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(screen.getByTestId('json-selected-path').textContent).toBe('$.order.items[1].sku');
    await fireEvent.click(screen.getByTestId('json-copy-path'));
    expect(writeText).toHaveBeenLastCalledWith('$.order.items[1].sku');
    await fireEvent.input(search, { target: { value: 'nothing like it' } });
    expect(screen.getByTestId('json-match-count').textContent).toContain('no match');
  });

  it('expands and collapses all', async () => {
    render(JsonView, { root: root(text) });
    // At first: the root and its children open, deeper ones closed.
    expect(paths()).not.toContain('$.order.items[0].sku');
    await fireEvent.click(screen.getByTestId('json-expand-all'));
    expect(paths()).toContain('$.order.items[1].sku');
    await fireEvent.click(screen.getByTestId('json-collapse-all'));
    expect(paths()).toEqual(['$']);
  });
});

describe('the detail pane', () => {
  const props = { checked: false, onToggleCheck: () => {}, onEditResend: () => {} };
  const body = '{"id":12345678901234567890,"tags":["a","b"]}';
  const detail = () => messageDetail(0, { message: { ...messageDetail(0).message, body } });

  it('shows a JSON body exactly, and keeps the search when the same message is read again', async () => {
    const view = render(MessageDetailPane, { ...props, detail: detail() });
    expect(screen.getByTestId('message-body').dataset['view']).toBe('json');
    expect(screen.getByTestId('json-view').textContent).toContain('12345678901234567890');
    await fireEvent.input(screen.getByTestId('json-search'), { target: { value: 'b' } });
    expect(screen.getByTestId('json-selected-path').textContent).toBe('$.tags[1]');
    // A consumer tab reads its open delivery again whenever states change: a new object, same body.
    await view.rerender({ ...props, detail: detail() });
    expect((screen.getByTestId('json-search') as HTMLInputElement).value).toBe('b');
    expect(screen.getByTestId('json-selected-path').textContent).toBe('$.tags[1]');
  });
});
