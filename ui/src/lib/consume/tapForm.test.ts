import { describe, expect, it } from 'vitest';

import { defaultTapKey, parseTapArguments } from './tapForm';

describe('the tap form', () => {
  it('starts with everything where the exchange type allows it', () => {
    expect(defaultTapKey('demo.topic', 'topic')).toBe('#');
    expect(defaultTapKey('amq.rabbitmq.trace', null)).toBe('#');
    expect(defaultTapKey('demo.fanout', 'fanout')).toBe('');
    expect(defaultTapKey('demo.direct', 'direct')).toBe('');
  });

  it('takes binding arguments as a JSON object', () => {
    expect(parseTapArguments('')).toEqual({ ok: true, value: null });
    expect(parseTapArguments('{"x-match":"all","kind":"job"}')).toEqual({ ok: true, value: { 'x-match': 'all', kind: 'job' } });
    expect(parseTapArguments('[1]').ok).toBe(false);
    expect(parseTapArguments('{').ok).toBe(false);
  });
});
