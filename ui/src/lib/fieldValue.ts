// The typed form of AMQP field values (header values) in the message format; see
// docs/message-format.md and crates/warren-core/src/message/format.rs, which decodes and encodes it.
//
// Plain JSON stands for: string -> long string (S), boolean -> bool (t), integer -> i32 (I)
// (or i64 when it does not fit), fractional number -> f64 (d), object -> table (F),
// array -> array (A), null -> void (V). Every other type is an object with "$type".

import type { HeaderType } from './bindings/HeaderType';

/** The names of the typed form, with the AMQP letter each one stands for. */
export const FIELD_TYPES = {
  bool: 't',
  i8: 'b',
  u8: 'B',
  i16: 's',
  u16: 'u',
  i32: 'I',
  u32: 'i',
  i64: 'l',
  f32: 'f',
  f64: 'd',
  decimal: 'D',
  string: 'S',
  timestamp: 'T',
  bytes: 'x',
  void: 'V',
  table: 'F',
  array: 'A',
} as const satisfies Record<HeaderType, string>;

export type FieldTypeName = keyof typeof FIELD_TYPES;

export type TypedFieldValue =
  | { $type: 'bool'; value: boolean }
  | { $type: 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'timestamp'; value: number | string }
  | { $type: 'f32' | 'f64'; value: number | 'NaN' | 'Infinity' | '-Infinity' }
  | { $type: 'decimal'; value: { scale: number; value: number } }
  // A decimal as written ("12.34"), for the core to read: the composer sends this form.
  | { $type: 'decimal'; value: string }
  | { $type: 'string'; value: string }
  | { $type: 'string'; base64: string }
  | { $type: 'bytes'; value: string }
  | { $type: 'void' }
  | { $type: 'table'; value: { [key: string]: FieldValue } }
  | { $type: 'array'; value: FieldValue[] };

export type FieldValue =
  | string
  | number
  | boolean
  | null
  | FieldValue[]
  | { [key: string]: FieldValue }
  | TypedFieldValue;
