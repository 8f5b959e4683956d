// What the cluster workspace's tabs hand to each other.

import type { QueueType } from '../bindings/QueueType';

/** A queue to peek, chosen on the Queues tab or typed on the Browse tab. */
export interface BrowseTarget {
  vhost: string;
  queue: string;
  /** Known when it came from the queue list; streams get an offset picker. */
  type: QueueType | null;
}

/** An exchange to tap, chosen on the Exchanges tab. */
export interface TapTarget {
  vhost: string;
  exchange: string;
  /** The exchange type (topic, fanout, ...): the tap's default binding key follows it. */
  type: string | null;
}

export type WorkspaceTab = 'status' | 'queues' | 'exchanges' | 'connections' | 'browse' | 'publish' | 'collections';
