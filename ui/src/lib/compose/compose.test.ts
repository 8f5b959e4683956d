import { describe, expect, it } from 'vitest';

import {
  compile,
  convertBody,
  emptyForm,
  epochToLocalInput,
  formatElapsed,
  formFromMessage,
  inputOfField,
  localInputToEpoch,
  newVariable,
  outcomeDetail,
  withBodyMode,
  type ComposeForm,
} from './compose';
import type { Message } from '../bindings/Message';
import { headerRowAt } from './composer.svelte';
import { newRow } from './headerEditor';
import { EVERY_TYPE_HEADERS, message } from '../../test/composeFixtures';

function form(over: Partial<ComposeForm> = {}): ComposeForm {
  return { ...emptyForm(), ...over };
}

function props(over: Partial<ComposeForm['props']>): ComposeForm['props'] {
  return { ...emptyForm().props, ...over };
}

describe('compile: the request', () => {
  it('builds the smallest request: text body, content type from the mode, mandatory, one message', () => {
    const c = compile(form({ exchange: 'demo.direct', routingKey: 'orders', body: 'hi' }));
    expect(c.errors).toEqual({});
    expect(c.request).toEqual({
      message: {
        exchange: 'demo.direct',
        routing_key: 'orders',
        properties: { content_type: 'text/plain' },
        body: 'hi',
        body_encoding: 'utf8',
      },
      count: 1,
      rate: null,
      mandatory: true,
      variables: {},
      body_file: null,
    });
  });

  it('sets every property', () => {
    const c = compile(
      form({
        props: props({
          content_type: 'application/json',
          content_encoding: 'gzip',
          delivery_mode: '2',
          priority: '9',
          correlation_id: 'c-1',
          reply_to: 'replies',
          expiration: '60000',
          message_id: 'm-1',
          timestamp: '1700000000',
          type: 'order.created',
          user_id: 'guest',
          app_id: 'warren',
        }),
        count: '5',
        rate: '2.5',
        mandatory: false,
      }),
    );
    expect(c.request?.message.properties).toEqual({
      content_type: 'application/json',
      content_encoding: 'gzip',
      delivery_mode: 2,
      priority: 9,
      correlation_id: 'c-1',
      reply_to: 'replies',
      expiration: '60000',
      message_id: 'm-1',
      timestamp: 1700000000,
      type: 'order.created',
      user_id: 'guest',
      app_id: 'warren',
    });
    expect(c.request?.count).toBe(5);
    expect(c.request?.rate).toBe(2.5);
    expect(c.request?.mandatory).toBe(false);
  });

  it('leaves unset properties out, the content type too when cleared', () => {
    const c = compile(form({ contentTypeAuto: false, props: props({ content_type: '' }) }));
    expect(c.request?.message.properties).toEqual({});
  });

  it('encodes binary bodies as base64 and names the body file', () => {
    expect(compile(form({ bodyMode: 'hex', body: 'de ad be ef' })).request?.message).toMatchObject({
      body: '3q2+7w==',
      body_encoding: 'base64',
    });
    expect(compile(form({ bodyMode: 'base64', body: '3q2+\n7w==' })).request?.message).toMatchObject({
      body: '3q2+7w==',
      body_encoding: 'base64',
    });
    const file = compile(form({ bodyMode: 'file', bodyFile: ' /tmp/body.bin ', body: 'ignored' })).request;
    expect(file?.body_file).toBe('/tmp/body.bin');
    expect(file?.message.body).toBe('');
  });

  it('passes variables and headers', () => {
    const c = compile(
      form({
        body: '{{tenant}}-{{seq}}',
        variables: [newVariable('tenant', 'acme')],
        headers: [newRow({ name: 'x-retry', type: 'i16', value: '3' }), newRow({ name: 'who', value: '{{tenant}}' })],
      }),
    );
    expect(c.errors).toEqual({});
    expect(c.request?.variables).toEqual({ tenant: 'acme' });
    expect(c.request?.message.properties.headers).toEqual({ 'x-retry': { $type: 'i16', value: 3 }, who: '{{tenant}}' });
  });
});

describe('compile: errors name their field', () => {
  const cases: [string, Partial<ComposeForm>, string, string][] = [
    ['invalid JSON', { bodyMode: 'json', body: '{\n "a": 1,\n}' }, 'body', 'Invalid JSON at line 3, column 1 (3:1)'],
    ['bad base64', { bodyMode: 'base64', body: 'abc' }, 'body', 'Body: not valid base64'],
    ['bad hex', { bodyMode: 'hex', body: 'xyz' }, 'body', 'Body: not valid hex'],
    ['no body file', { bodyMode: 'file' }, 'body_file', 'File: a path is required'],
    ['negative expiration', { props: props({ expiration: '-5' }) }, 'prop-expiration', 'Expiration: "-5" is not a whole number'],
    ['non-numeric expiration', { props: props({ expiration: '10s' }) }, 'prop-expiration', 'Expiration'],
    ['priority 256', { props: props({ priority: '256' }) }, 'prop-priority', 'Priority: "256" is not an integer from 0 to 255'],
    ['priority -1', { props: props({ priority: '-1' }) }, 'prop-priority', 'Priority'],
    ['delivery mode 3', { props: props({ delivery_mode: '3' }) }, 'prop-delivery_mode', 'Delivery mode: "3" is neither 1'],
    ['bad timestamp', { props: props({ timestamp: 'soon' }) }, 'prop-timestamp', 'Timestamp'],
    ['long message id', { props: props({ message_id: 'm'.repeat(256) }) }, 'prop-message_id', 'Message ID is 256 bytes long'],
    ['long routing key', { routingKey: 'k'.repeat(256) }, 'routing_key', 'routing key is 256 bytes long'],
    ['count 0', { count: '0' }, 'count', 'Count: "0"'],
    ['count text', { count: 'many' }, 'count', 'Count'],
    ['rate 0', { rate: '0' }, 'rate', 'Rate: "0"'],
    ['rate text', { rate: 'fast' }, 'rate', 'Rate'],
  ];
  it.each(cases)('%s', (_, over, key, message) => {
    const c = compile(form(over));
    expect(c.request).toBeNull();
    expect(c.errors[key]).toContain(message);
  });

  it('gives the JSON error position', () => {
    expect(compile(form({ bodyMode: 'json', body: '{"a" 1}' })).bodyPosition).toEqual({ line: 1, column: 6 });
  });

  it('checks header values against their type', () => {
    const bad = newRow({ name: 'n', type: 'i16', value: '40000' });
    const c = compile(form({ headers: [bad] }));
    expect(c.request).toBeNull();
    expect(c.headerErrors.get(bad.id)).toEqual({ path: 'headers.n', message: '40000 does not fit i16 (-32768 to 32767)', field: 'value' });
  });

  it('passes templates as written: the core checks them (through the preview)', () => {
    const seq = newRow({ name: 'n', type: 'i16', value: '{{seq}}' });
    const at = newRow({ name: 'at', type: 'timestamp', value: '{{now_epoch}}' });
    const who = newRow({ name: 's', value: '{{who}}' });
    const c = compile(form({ body: 'hi {{nope}}', routingKey: '{{tenant}}.x', props: props({ message_id: '{{id}}' }), headers: [seq, at, who] }));
    expect(c.errors).toEqual({});
    expect(c.headerErrors.size).toBe(0);
    expect(c.request?.message).toMatchObject({ body: 'hi {{nope}}', routing_key: '{{tenant}}.x' });
    expect(c.request?.message.properties.message_id).toBe('{{id}}');
    expect(c.request?.message.properties.headers).toEqual({
      n: { $type: 'i16', value: '{{seq}}' },
      at: { $type: 'timestamp', value: '{{now_epoch}}' },
      s: '{{who}}',
    });
  });

  it('checks that each variable has a name, once; what a name may be is the core’s to say', () => {
    const empty = newVariable('', 'x');
    const builtin = newVariable('seq', 'x');
    const a = newVariable('a', '1');
    const dup = newVariable('a', '2');
    const c = compile(form({ variables: [empty, builtin, a, dup] }));
    expect(c.errors[`variable-${empty.id}`]).toBe('a variable needs a name');
    expect(c.errors[`variable-${builtin.id}`]).toBeUndefined();
    expect(c.errors[`variable-${a.id}`]).toBeUndefined();
    expect(c.errors[`variable-${dup.id}`]).toContain('twice');
  });
});

describe('body modes', () => {
  it('converts the same bytes between modes', () => {
    expect(convertBody('hé', 'text', 'base64')).toBe('aMOp');
    expect(convertBody('aMOp', 'base64', 'hex')).toBe('68 c3 a9');
    expect(convertBody('68 c3 a9', 'hex', 'text')).toBe('hé');
    expect(convertBody('ff', 'hex', 'text')).toBeNull();
    expect(convertBody('!!', 'base64', 'hex')).toBeNull();
    expect(convertBody('{"a":1}', 'text', 'json')).toBe('{"a":1}');
    expect(convertBody('x', 'text', 'file')).toBeNull();
  });

  it('moves the automatic content type with the mode, not a chosen one', () => {
    let f = withBodyMode(emptyForm(), 'json');
    expect(f.props.content_type).toBe('application/json');
    f = withBodyMode(f, 'hex');
    expect(f.props.content_type).toBe('application/octet-stream');
    f = withBodyMode(f, 'text');
    expect(f.props.content_type).toBe('text/plain');
    const chosen = { ...f, contentTypeAuto: false, props: { ...f.props, content_type: 'text/csv' } };
    expect(withBodyMode(chosen, 'json').props.content_type).toBe('text/csv');
  });
});

describe('loading a message', () => {
  const full: Message = message({
    properties: {
      content_type: 'application/json',
      content_encoding: 'gzip',
      headers: EVERY_TYPE_HEADERS,
      delivery_mode: 2,
      priority: 9,
      correlation_id: 'c-1',
      reply_to: 'replies',
      expiration: '60000',
      message_id: 'm-1',
      timestamp: 1700000000,
      type: 'order.created',
      user_id: 'guest',
      app_id: 'warren',
    },
    body: '{"id": 1}',
  });

  it('round-trips a full message to the same request message', () => {
    const f = formFromMessage(full);
    expect(f.bodyMode).toBe('json');
    expect(f.contentTypeAuto).toBe(false);
    const c = compile(f);
    expect(c.errors).toEqual({});
    expect(c.request?.message).toEqual(full);
    expect(JSON.stringify(c.request?.message.properties.headers)).toBe(JSON.stringify(EVERY_TYPE_HEADERS));
  });

  it('keeps a message without content type without one', () => {
    const c = compile(formFromMessage(message({ body: 'x' })));
    expect(c.request?.message).toEqual(message({ body: 'x' }));
  });

  it('shows a binary body as base64 and a hand-written base64 text body as text', () => {
    const bin = formFromMessage(message({ body: '/wD+', body_encoding: 'base64' }));
    expect(bin.bodyMode).toBe('base64');
    expect(compile(bin).request?.message).toMatchObject({ body: '/wD+', body_encoding: 'base64' });
    const text = formFromMessage(message({ body: 'aGk=', body_encoding: 'base64' }));
    expect(text).toMatchObject({ bodyMode: 'text', body: 'hi' });
  });

  it('keeps the sending options and variables of the form it replaces', () => {
    const base = { ...emptyForm(), count: '7', mandatory: false, variables: [newVariable('a', 'b')] };
    expect(formFromMessage(message(), base)).toMatchObject({ count: '7', mandatory: false, variables: base.variables });
  });
});

describe('backend errors and formatting', () => {
  it('finds the input a backend error names by its field', () => {
    expect(inputOfField('body')).toEqual({ kind: 'field', key: 'body' });
    expect(inputOfField('routing_key')).toEqual({ kind: 'field', key: 'routing_key' });
    expect(inputOfField('count')).toEqual({ kind: 'field', key: 'count' });
    expect(inputOfField('properties.message_id')).toEqual({ kind: 'field', key: 'prop-message_id' });
    expect(inputOfField('properties.type')).toEqual({ kind: 'field', key: 'prop-type' });
    expect(inputOfField('message.properties.expiration')).toEqual({ kind: 'field', key: 'prop-expiration' });
    expect(inputOfField('properties.headers.t.inner')).toEqual({ kind: 'header', path: 'headers.t.inner' });
    expect(inputOfField('headers.list[2]')).toEqual({ kind: 'header', path: 'headers.list[2]' });
    expect(inputOfField('variables.tenant')).toEqual({ kind: 'variable', name: 'tenant' });
    expect(inputOfField('properties.cluster_id')).toBeNull();
    expect(inputOfField('queue')).toBeNull();
  });

  it('describes outcomes and times', () => {
    expect(outcomeDetail({ kind: 'returned', reply_code: 312, reply_text: 'NO_ROUTE' })).toBe('312 NO_ROUTE');
    expect(outcomeDetail({ kind: 'failed', reason: 'connection lost' })).toBe('connection lost');
    expect(formatElapsed(850)).toBe('850 ms');
    expect(formatElapsed(12_340)).toBe('12.3 s');
    expect(formatElapsed(125_000)).toBe('2 min 05 s');
  });

  it('converts the timestamp picker value both ways', () => {
    const local = epochToLocalInput(1700000000);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(localInputToEpoch(local)).toBe(1700000000);
    expect(localInputToEpoch('')).toBeNull();
  });
});

describe('the header row a backend field names', () => {
  it('follows tables by name and arrays by index, as the core writes the path', () => {
    const inner = newRow({ name: 'inner', type: 'i16', value: '1' });
    const second = newRow({ type: 'u8', value: '2' });
    const rows = [
      newRow({ name: 'a', value: 'x' }),
      newRow({ name: 't', type: 'table', children: [inner] }),
      newRow({ name: 'list', type: 'array', children: [newRow({ type: 'i32', value: '1' }), second] }),
    ];
    expect(headerRowAt(rows, 'headers.a')).toBe(rows[0]!.id);
    expect(headerRowAt(rows, 'headers.t.inner')).toBe(inner.id);
    expect(headerRowAt(rows, 'headers.list[1]')).toBe(second.id);
    expect(headerRowAt(rows, 'headers.list[2]')).toBeNull();
    expect(headerRowAt(rows, 'headers.nope')).toBeNull();
  });
});
