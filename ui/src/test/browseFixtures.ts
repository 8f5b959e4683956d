// Backend answers for the browse screens (queues, exchanges, peek, inspector), typed by the
// generated bindings so that a change of the Rust types breaks them at compile time.

import type { BindingRow } from '../lib/bindings/BindingRow';
import type { ExchangeRow } from '../lib/bindings/ExchangeRow';
import type { InspectionSummary } from '../lib/bindings/InspectionSummary';
import type { MessageDetail } from '../lib/bindings/MessageDetail';
import type { MessageRow } from '../lib/bindings/MessageRow';
import type { PeekPlan } from '../lib/bindings/PeekPlan';
import type { QueueDetail } from '../lib/bindings/QueueDetail';
import type { QueuePage } from '../lib/bindings/QueuePage';
import type { QueueRow } from '../lib/bindings/QueueRow';
import type { Topology } from '../lib/bindings/Topology';

export function queueRow(name: string, over: Partial<QueueRow> = {}): QueueRow {
  return {
    vhost: '/',
    name,
    type: 'quorum',
    state: 'running',
    messages_ready: 12,
    messages_unacknowledged: 3,
    messages: 15,
    publish_rate: 1.5,
    deliver_rate: 0,
    consumers: 2,
    node: 'rabbit@node-1',
    replication: { kind: 'members', total: 3, healthy: 3 },
    policy: null,
    ...over,
  };
}

export function queuePage(items: QueueRow[], over: Partial<QueuePage> = {}): QueuePage {
  return { items, total_count: items.length, filtered_count: items.length, page: 1, page_count: 1, ...over };
}

export function queueDetail(name: string, over: Partial<QueueDetail> = {}): QueueDetail {
  return {
    row: queueRow(name, { replication: { kind: 'members', total: 3, healthy: 2 } }),
    durable: true,
    exclusive: false,
    auto_delete: false,
    arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': 'dlx' },
    policy: 'limits',
    operator_policy: null,
    effective_policy_definition: { 'max-length': 10000 },
    features: [
      { key: 'dead_letter_exchange', label: 'Dead-letter exchange', value: 'dlx', source: 'argument' },
      { key: 'max_length', label: 'Max length', value: 10000, source: 'policy' },
      { key: 'delivery_limit', label: 'Delivery limit', value: 20, source: 'default' },
    ],
    consumers: [
      {
        consumer_tag: 'amq.ctag-1',
        connection: '10.0.0.5:51234 -> 10.0.0.1:5672',
        peer: '10.0.0.5:51234',
        user: 'app',
        ack_required: true,
        prefetch_count: 50,
        exclusive: false,
        active: true,
      },
    ],
    message_bytes: 4096,
    memory: 120_000,
    replicas: ['rabbit@node-1', 'rabbit@node-2', 'rabbit@node-3'],
    replicas_healthy: ['rabbit@node-1', 'rabbit@node-2'],
    broker_version: '4.1.0',
    ...over,
  };
}

export function exchangeRow(name: string, over: Partial<ExchangeRow> = {}): ExchangeRow {
  return {
    vhost: '/',
    name,
    kind: 'topic',
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
    policy: null,
    publish_in_rate: 2,
    publish_out_rate: 2,
    ...over,
  };
}

export function bindingRow(source: string, destination: string, over: Partial<BindingRow> = {}): BindingRow {
  return {
    vhost: '/',
    source,
    destination,
    destination_type: 'queue',
    routing_key: `${destination}.#`,
    arguments: {},
    ...over,
  };
}

export function topologyAroundQueue(queue = 'orders'): Topology {
  return {
    focus: `q:${queue}`,
    truncated: false,
    nodes: [
      { id: 'e:ingress', kind: 'exchange', name: 'ingress', exchange_type: 'fanout', depth: -2 },
      { id: 'e:amq.headers', kind: 'exchange', name: 'amq.headers', exchange_type: 'headers', depth: -1 },
      { id: 'e:orders', kind: 'exchange', name: 'orders', exchange_type: 'topic', depth: -1 },
      { id: `q:${queue}`, kind: 'queue', name: queue, exchange_type: null, depth: 0 },
    ],
    edges: [
      { from: 'e:ingress', to: 'e:orders', routing_key: '', arguments: {} },
      { from: 'e:orders', to: `q:${queue}`, routing_key: 'order.#', arguments: {} },
      { from: 'e:amq.headers', to: `q:${queue}`, routing_key: '', arguments: { 'x-match': 'any', region: 'eu' } },
    ],
  };
}

export function peekPlan(over: Partial<PeekPlan> = {}): PeekPlan {
  return {
    vhost: '/',
    queue: 'orders',
    queue_type: 'classic',
    broker_version: '3.13.7',
    method: 'nack_requeue',
    order: 'publication',
    effects: [
      {
        kind: 'redelivered_flag',
        description: 'peeked messages come back marked redelivered',
        needs_consent: false,
      },
    ],
    harmless: true,
    delivery_limit: null,
    over_limit: null,
    messages_ready: 100_000,
    consumers: 0,
    count: 100,
    ...over,
  };
}

/** A quorum queue before 4.3: closing the channel counts as a delivery. */
export function harmfulPlan(): PeekPlan {
  return peekPlan({
    queue_type: 'quorum',
    broker_version: '4.1.0',
    method: 'close_channel',
    order: 'high_then_normal_two_to_one',
    harmless: false,
    delivery_limit: 20,
    over_limit: 'dead-lettered to dlx',
    effects: [
      { kind: 'delivery_count', description: 'the delivery count of every peeked message grows by one', needs_consent: true },
      {
        kind: 'limit_exceeded',
        description: 'a message over the delivery limit (20) is dead-lettered to dlx',
        needs_consent: true,
      },
    ],
  });
}

export function inspectionSummary(total: number, over: Partial<InspectionSummary> = {}): InspectionSummary {
  return {
    id: 7,
    vhost: '/',
    queue: 'orders',
    total,
    bytes: total * 120,
    header_names: ['tenant', 'x-death'],
    report: {
      plan: peekPlan({ count: total }),
      received: total,
      end: 'count_reached',
      endpoint: '127.0.0.1:5672',
      elapsed_ms: 850,
      held_bytes: total * 120,
      budget_bytes: 256 * 1024 * 1024,
      returned_by_broker: null,
    },
    ...over,
  };
}

export function messageRow(index: number, over: Partial<MessageRow> = {}): MessageRow {
  return {
    index,
    position: index + 1,
    exchange: 'orders',
    routing_key: `order.${index}`,
    message_id: `m-${index}`,
    correlation_id: null,
    timestamp: 1_700_000_000 + index,
    content_type: 'application/json',
    size: 120,
    redelivered: false,
    offset: null,
    delivery_count: null,
    headers: [],
    body_preview: `{"n":${index}}`,
    body_is_text: true,
    ...over,
  };
}

/** inspectionRows over a view of `total` rows. */
export function rowsOf(total: number): (id: number, start: number, count: number) => Promise<MessageRow[]> {
  return (_id, start, count) =>
    Promise.resolve(
      Array.from({ length: Math.max(0, Math.min(count, total - start)) }, (_, i) => messageRow(start + i)),
    );
}

export function messageDetail(index: number, over: Partial<MessageDetail> = {}): MessageDetail {
  return {
    index,
    position: index + 1,
    message: {
      exchange: 'orders',
      routing_key: `order.${index}`,
      properties: {
        content_type: 'application/json',
        message_id: `m-${index}`,
        timestamp: 1_700_000_000,
        delivery_mode: 2,
        headers: {
          tenant: 'acme',
          retries: 3,
          big: 5_000_000_000,
          small: { $type: 'i16', value: 7 },
          nested: { a: [1, 'x'] },
        },
      },
      body: `{"n":${index},"items":[1,2]}`,
      body_encoding: 'utf8',
    },
    redelivered: false,
    offset: null,
    delivery_count: null,
    size: 24,
    body_shown: 24,
    x_death: [],
    ...over,
  };
}
