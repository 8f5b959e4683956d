// The basic properties of a message in the message format, as the UI names and shows them.
// Keyed by the generated PropertyName, so a property added in Rust breaks the type check here.

import type { MessageProperties } from '../bindings/MessageProperties';
import type { PropertyName } from '../bindings/PropertyName';

/** The basic properties a message of the format carries, in the order the form shows them. */
export const PROPERTY_NAMES = [
  'content_type',
  'content_encoding',
  'delivery_mode',
  'priority',
  'correlation_id',
  'reply_to',
  'expiration',
  'message_id',
  'timestamp',
  'type',
  'user_id',
  'app_id',
] as const satisfies readonly (PropertyName & keyof MessageProperties)[];

export type PropName = (typeof PROPERTY_NAMES)[number];

/** How the UI labels each property. */
export const PROPERTY_LABELS = {
  content_type: 'Content type',
  content_encoding: 'Content encoding',
  delivery_mode: 'Delivery mode',
  priority: 'Priority',
  correlation_id: 'Correlation ID',
  reply_to: 'Reply to',
  expiration: 'Expiration (ms)',
  message_id: 'Message ID',
  timestamp: 'Timestamp',
  type: 'Type',
  user_id: 'User ID',
  app_id: 'App ID',
  cluster_id: 'Cluster ID',
} as const satisfies Record<PropertyName, string>;
