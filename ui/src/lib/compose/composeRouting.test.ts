import { describe, expect, it } from 'vitest';

import { bindingMatch, describeHeaderArgs, headersMatch, topicMatches } from './composeRouting';
import { binding } from '../../test/composeFixtures';

describe('topic matching', () => {
  it.each([
    ['orders.eu.#', 'orders.eu', true],
    ['orders.eu.#', 'orders.eu.de.berlin', true],
    ['orders.*.created', 'orders.eu.created', true],
    ['orders.*.created', 'orders.created', false],
    ['#', '', true],
    ['#.created', 'a.b.created', true],
    ['*', 'a.b', false],
    ['a.#.b', 'a.b', true],
    ['a', 'a', true],
    ['a', 'b', false],
  ])('%s ~ %s is %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});

describe('header matching', () => {
  it('all and any', () => {
    const all = { 'x-match': 'all', format: 'pdf', type: 'report' };
    expect(headersMatch(all, { format: 'pdf', type: 'report', extra: 1 })).toBe(true);
    expect(headersMatch(all, { format: 'pdf' })).toBe(false);
    const any = { 'x-match': 'any', level: 'error', source: 'billing' };
    expect(headersMatch(any, { source: 'billing' })).toBe(true);
    expect(headersMatch(any, { level: 'info' })).toBe(false);
  });

  it('compares typed numbers by value and ignores x- keys unless asked', () => {
    expect(headersMatch({ n: 3 }, { n: { $type: 'i16', value: 3 } })).toBe(true);
    expect(headersMatch({ n: 3 }, { n: '3' })).toBe(false);
    expect(headersMatch({ 'x-a': 'b' }, {})).toBe(true);
    expect(headersMatch({ 'x-match': 'all-with-x', 'x-a': 'b' }, {})).toBe(false);
    expect(headersMatch({ v: null }, { v: 'anything' })).toBe(true);
  });

  it('applies to each exchange kind', () => {
    expect(bindingMatch('direct', binding('d', 'q', { routing_key: 'k' }), 'k', {})).toBe('match');
    expect(bindingMatch('direct', binding('d', 'q', { routing_key: 'k' }), 'j', {})).toBe('no-match');
    expect(bindingMatch('fanout', binding('f', 'q'), 'x', {})).toBe('match');
    expect(bindingMatch('x-consistent-hash', binding('c', 'q'), 'x', {})).toBe('unknown');
    expect(describeHeaderArgs({ 'x-match': 'any', a: 'b' })).toBe('x-match any, a = b');
  });
});
