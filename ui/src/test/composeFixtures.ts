// Backend answers for the composer's tests, typed by the generated bindings.

import type { BindingRow } from '../lib/bindings/BindingRow';
import type { ExchangeRow } from '../lib/bindings/ExchangeRow';
import type { Message } from '../lib/bindings/Message';
import type { PublishProgress } from '../lib/bindings/PublishProgress';
import type { PublishSummary } from '../lib/bindings/PublishSummary';
import type { FieldValue } from '../lib/fieldValue';

/**
 * Every field type as crates/warren-core/src/message/format.rs encodes it (its `every_type` test
 * table), except that the big i64 is written as a string: a JSON number that large cannot be
 * held exactly by JavaScript.
 */
export const EVERY_TYPE_HEADERS: { [key: string]: FieldValue } = {
  bool: true,
  i8: { $type: 'i8', value: -128 },
  u8: { $type: 'u8', value: 255 },
  i16: { $type: 'i16', value: -32768 },
  u16: { $type: 'u16', value: 65535 },
  i32: -2147483648,
  u32: { $type: 'u32', value: 4294967295 },
  'i64 small': { $type: 'i64', value: 5 },
  'i64 big': { $type: 'i64', value: '9223372036854775807' },
  f32: { $type: 'f32', value: 0.10000000149011612 },
  f64: 0.1,
  'f64 whole': { $type: 'f64', value: 3 },
  'f64 nan': { $type: 'f64', value: 'NaN' },
  'f64 inf': { $type: 'f64', value: '-Infinity' },
  decimal: { $type: 'decimal', value: { scale: 2, value: 12345 } },
  string: 'héllo',
  'binary string': { $type: 'string', base64: '/wD+' },
  timestamp: { $type: 'timestamp', value: 1700000000 },
  bytes: { $type: 'bytes', value: 'AAEC/w==' },
  void: { $type: 'void' },
  table: { inner: { $type: 'i16', value: -7 } },
  'clashing table': { $type: 'table', value: { $type: 'i8', value: 1 } },
  array: [1, { $type: 'u8', value: 2 }, { $type: 'void' }],
};

export function message(over: Partial<Message> = {}): Message {
  return {
    exchange: 'demo.direct',
    routing_key: 'orders',
    properties: {},
    body: 'hello',
    body_encoding: 'utf8',
    ...over,
  };
}

export function exchange(name: string, kind: string, over: Partial<ExchangeRow> = {}): ExchangeRow {
  return {
    vhost: '/',
    name,
    kind,
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
    policy: null,
    publish_in_rate: null,
    publish_out_rate: null,
    ...over,
  };
}

export const EXCHANGES: ExchangeRow[] = [
  exchange('', 'direct'),
  exchange('amq.direct', 'direct'),
  exchange('demo.direct', 'direct'),
  exchange('demo.headers', 'headers'),
  exchange('demo.topic', 'topic'),
  exchange('amq.rabbitmq.trace', 'topic', { internal: true }),
  exchange('other.direct', 'direct', { vhost: 'other' }),
];

export function binding(source: string, destination: string, over: Partial<BindingRow> = {}): BindingRow {
  return {
    vhost: '/',
    source,
    destination,
    destination_type: 'queue',
    routing_key: '',
    arguments: {},
    ...over,
  };
}

export const BINDINGS: BindingRow[] = [
  binding('demo.direct', 'orders', { routing_key: 'orders' }),
  binding('demo.headers', 'pdf-reports', { arguments: { 'x-match': 'all', format: 'pdf', type: 'report' } }),
  binding('demo.headers', 'any-log', { arguments: { 'x-match': 'any', level: 'error', source: 'billing' } }),
  binding('demo.topic', 'eu-orders', { routing_key: 'orders.eu.#' }),
];

export function progress(over: Partial<PublishProgress> = {}): PublishProgress {
  return {
    published: 0,
    confirmed: 0,
    returned: 0,
    nacked: 0,
    failed: 0,
    maybe_sent: 0,
    total: 10,
    elapsed_ms: 0,
    blocked: false,
    blocked_reason: null,
    ...over,
  };
}

export function summary(over: Partial<PublishSummary> = {}): PublishSummary {
  return {
    published: 10,
    confirmed: 10,
    returned: 0,
    nacked: 0,
    failed: 0,
    maybe_sent: 0,
    not_sent: 0,
    elapsed_ms: 1250,
    rate: 8,
    cancelled: false,
    problems: [],
    endpoint: '127.0.0.1:5672',
    failovers: 0,
    max_late_ms: null,
    ...over,
  };
}
