// Hand-written backend answers for the tests, typed by the generated bindings so that a change
// of the Rust types breaks them at compile time (npm run check).

import type { ClusterStatus } from '../lib/bindings/ClusterStatus';
import type { EndpointStatus } from '../lib/bindings/EndpointStatus';
import type { CheckOutcome } from '../lib/bindings/CheckOutcome';
import type { HealthCheckKind } from '../lib/bindings/HealthCheckKind';
import type { LinkStatus } from '../lib/bindings/LinkStatus';
import type { NodeHealthChecks } from '../lib/bindings/NodeHealthChecks';
import type { NodeStatus } from '../lib/bindings/NodeStatus';
import type { ProfileEntry } from '../lib/bindings/ProfileEntry';
import type { ReplicatedQueue } from '../lib/bindings/ReplicatedQueue';

export const GiB = 1024 ** 3;

export function link(over: Partial<LinkStatus> = {}): LinkStatus {
  return {
    endpoint: '127.0.0.1:5672',
    state: 'connected',
    latency_ms: 2,
    since_ms: 1_700_000_000_000,
    last_error: null,
    failed_attempts: 0,
    blocked: false,
    active: false,
    ...over,
  };
}

export function runningNode(name: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    name,
    running: true,
    node_type: 'disc',
    rabbitmq_version: '3.13.7',
    erlang_version: '26.2.5',
    uptime_ms: 3 * 3600_000 + 5 * 60_000,
    mem_used: 1 * GiB,
    mem_limit: 4 * GiB,
    mem_alarm: false,
    disk_free: 50 * GiB,
    disk_free_limit: 50 * 1024 ** 2,
    disk_free_alarm: false,
    fd_used: 120,
    fd_total: 1024,
    sockets_used: 10,
    sockets_total: 829,
    proc_used: 500,
    proc_total: 1_048_576,
    partitions: [],
    amqp: link(),
    ...over,
  };
}

/** A node as the management API reports a stopped one: a name and almost nothing else. */
export function downNode(name: string): NodeStatus {
  return {
    name,
    running: false,
    node_type: null,
    rabbitmq_version: null,
    erlang_version: null,
    uptime_ms: null,
    mem_used: null,
    mem_limit: null,
    mem_alarm: null,
    disk_free: null,
    disk_free_limit: null,
    disk_free_alarm: null,
    fd_used: null,
    fd_total: null,
    sockets_used: null,
    sockets_total: null,
    proc_used: null,
    proc_total: null,
    partitions: [],
    amqp: link({
      endpoint: '127.0.0.1:5674',
      state: 'down',
      latency_ms: null,
      failed_attempts: 3,
      last_error: { kind: 'unreachable', message: 'connection refused (127.0.0.1:5674)' },
    }),
  };
}

export function quorumQueue(name: string, members: string[], offline: string[] = []): ReplicatedQueue {
  const online = members.filter((m) => !offline.includes(m));
  const quorum = Math.floor(members.length / 2) + 1;
  return {
    vhost: '/',
    name,
    leader: online[0] ?? null,
    members,
    online,
    offline,
    quorum,
    spare_members: online.length - quorum,
    state: 'running',
    messages: 0,
  };
}

export function endpoint(label: string, over: Partial<EndpointStatus> = {}): EndpointStatus {
  return {
    label,
    management_url: `http://${label.replace(/:56/, ':156')}`,
    node_name: null,
    rabbitmq_version: '3.13.7',
    erlang_version: '26.2.5',
    amqp: link({ endpoint: label }),
    management_reachable: true,
    management_error: null,
    ok: true,
    ...over,
  };
}

export function clusterStatus(over: Partial<ClusterStatus> = {}): ClusterStatus {
  const nodes = [runningNode('rabbit@node-1'), runningNode('rabbit@node-2'), downNode('rabbit@node-3')];
  return {
    cluster_name: 'rabbit@node-1.cluster',
    rabbitmq_version: '3.13.7',
    erlang_version: '26.2.5',
    mirroring_supported: true,
    health: { level: 'critical', reasons: ['node rabbit@node-3 is down', '1 queue(s) at critical risk'] },
    nodes,
    endpoints: [
      endpoint('127.0.0.1:5672', { node_name: 'rabbit@node-1', amqp: link({ active: true }) }),
      endpoint('127.0.0.1:5673', { node_name: 'rabbit@node-2', amqp: link({ endpoint: '127.0.0.1:5673' }) }),
      endpoint('127.0.0.1:5674', {
        amqp: downNode('x').amqp,
        management_reachable: false,
        management_error: { kind: 'unreachable', message: 'connection refused' },
        ok: false,
      }),
    ],
    queue_counts: { total: 3, classic: 1, mirrored: 1, quorum: 1, stream: 1 },
    mirrored_queues: [
      {
        vhost: '/',
        name: 'orders.mirrored',
        policy: 'ha-all',
        master: 'rabbit@node-1',
        mirrors: ['rabbit@node-2', 'rabbit@node-3'],
        synchronised: ['rabbit@node-2'],
        unsynchronised: ['rabbit@node-3'],
        state: 'running',
        messages: 4,
      },
    ],
    quorum_queues: [quorumQueue('payments', ['rabbit@node-1', 'rabbit@node-2', 'rabbit@node-3'], ['rabbit@node-3'])],
    streams: [quorumQueue('events', ['rabbit@node-1', 'rabbit@node-2', 'rabbit@node-3'], ['rabbit@node-3'])],
    at_risk: [
      {
        vhost: '/',
        name: 'payments',
        type: 'quorum',
        severity: 'critical',
        reason: '2 of 3 members online (rabbit@node-3 offline): one more node loss loses quorum',
      },
    ],
    dead_policies: [],
    health_checks: [],
    api_endpoint: 'http://127.0.0.1:15672/',
    fetched_at_ms: Date.UTC(2025, 0, 1, 12, 0, 0),
    ...over,
  };
}

const CHECK_KINDS: Record<string, HealthCheckKind> = {
  alarms: 'alarms',
  'node-is-quorum-critical': 'node_is_quorum_critical',
  'node-is-mirror-sync-critical': 'node_is_mirror_sync_critical',
  'is-in-service': 'is_in_service',
};

/**
 * One node's health checks: alarms, node-is-quorum-critical and is-in-service pass and
 * node-is-mirror-sync-critical is not available (a 4.3 node), unless `over` says otherwise.
 */
export function nodeChecks(node: string, over: Record<string, CheckOutcome>): NodeHealthChecks {
  const outcomes: Record<string, CheckOutcome> = {
    alarms: 'passed',
    'node-is-quorum-critical': 'passed',
    'node-is-mirror-sync-critical': 'not_available',
    'is-in-service': 'passed',
    ...over,
  };
  return {
    node_name: node,
    endpoint: `http://${node}:15672`,
    checks: Object.entries(outcomes).map(([name, outcome]) => ({
      kind: CHECK_KINDS[name] ?? 'alarms',
      name,
      outcome,
      reason: outcome === 'failed' ? `${name} failed on ${node}` : null,
    })),
  };
}

export function profileEntry(name: string, hasPassword = true): ProfileEntry {
  return {
    profile: {
      name,
      nodes: [
        { amqp: 'amqp://127.0.0.1:5672', management: 'http://127.0.0.1:15672' },
        { amqp: 'amqp://127.0.0.1:5673', management: 'http://127.0.0.1:15673' },
      ],
      vhost: '/',
      username: 'monitor',
      tls: { ca_file: null, client_cert_file: null, client_key_file: null, verify_peer: true },
    },
    has_password: hasPassword,
  };
}
