// The composer's form: its state, the checks of what the form itself holds (each error keyed
// by the input it belongs to), the PublishRequest it builds, and a Message loaded back into it.
// Templates and typed values are checked by the core: the debounced preview asks it, and its
// errors name their input by `field` (`inputOfField`).

import type { Message } from '../bindings/Message';
import type { MessageOutcome } from '../bindings/MessageOutcome';
import type { MessageProperties } from '../bindings/MessageProperties';
import type { PublishRequest } from '../bindings/PublishRequest';
import type { TemplateBuiltin } from '../bindings/TemplateBuiltin';
import { PROPERTY_LABELS, PROPERTY_NAMES, type PropName } from '../shared/properties';
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  checkJson,
  hexToBytes,
  normalizeBase64,
  utf8Decode,
  utf8Encode,
  utf8Length,
} from './composeCodec';
import { containsTemplate, headersToRows, rowsToHeaders, type HeaderErrors, type HeaderRow } from './headerEditor';

export type BodyMode = 'text' | 'json' | 'base64' | 'hex' | 'file';

export const BODY_MODES: readonly { mode: BodyMode; label: string }[] = [
  { mode: 'text', label: 'Text' },
  { mode: 'json', label: 'JSON' },
  { mode: 'base64', label: 'Base64' },
  { mode: 'hex', label: 'Hex' },
  { mode: 'file', label: 'File' },
];

/** The content type that goes with a body mode when the person has not chosen one. */
export function defaultContentType(mode: BodyMode): string {
  switch (mode) {
    case 'json':
      return 'application/json';
    case 'text':
      return 'text/plain';
    default:
      return 'application/octet-stream';
  }
}

/** The properties that are AMQP short strings (templates apply to them). */
export const STRING_PROPS = [
  'content_type',
  'content_encoding',
  'correlation_id',
  'reply_to',
  'expiration',
  'message_id',
  'type',
  'user_id',
  'app_id',
] as const satisfies readonly PropName[];

export interface VariableRow {
  id: number;
  name: string;
  value: string;
}

export interface ComposeForm {
  exchange: string;
  routingKey: string;
  bodyMode: BodyMode;
  /** The body as typed in the current mode (text, JSON, base64 or hex). */
  body: string;
  /** The path the backend reads the body from, in file mode. */
  bodyFile: string;
  /** The content type follows the body mode until the person sets one. */
  contentTypeAuto: boolean;
  /** Every property as text; "" is unset. `timestamp` holds epoch seconds, `delivery_mode`
   * "1" or "2". */
  props: Record<PropName, string>;
  headers: HeaderRow[];
  variables: VariableRow[];
  count: string;
  rate: string;
  mandatory: boolean;
}

function emptyProps(): Record<PropName, string> {
  const props = {} as Record<PropName, string>;
  for (const p of PROPERTY_NAMES) props[p] = '';
  return props;
}

export function emptyForm(): ComposeForm {
  return {
    exchange: '',
    routingKey: '',
    bodyMode: 'text',
    body: '',
    bodyFile: '',
    contentTypeAuto: true,
    props: { ...emptyProps(), content_type: defaultContentType('text') },
    headers: [],
    variables: [],
    count: '1',
    rate: '',
    mandatory: true,
  };
}

let nextVariableId = 1;

export function newVariable(name = '', value = ''): VariableRow {
  return { id: nextVariableId++, name, value };
}

/** The form in another body mode: the content type follows when automatic. */
export function withBodyMode(form: ComposeForm, mode: BodyMode): ComposeForm {
  const converted = convertBody(form.body, form.bodyMode, mode);
  return {
    ...form,
    bodyMode: mode,
    body: converted ?? form.body,
    props: form.contentTypeAuto ? { ...form.props, content_type: defaultContentType(mode) } : form.props,
  };
}

function bodyBytes(body: string, mode: BodyMode): Uint8Array | null {
  switch (mode) {
    case 'text':
    case 'json':
      return utf8Encode(body);
    case 'base64': {
      const r = base64ToBytes(body);
      return r.ok ? r.bytes : null;
    }
    case 'hex': {
      const r = hexToBytes(body);
      return r.ok ? r.bytes : null;
    }
    case 'file':
      return null;
  }
}

/**
 * The body rewritten for another mode (the same bytes), or null when it cannot be: an invalid
 * body, bytes that are not UTF-8 for a text mode, or file mode on either side.
 */
export function convertBody(body: string, from: BodyMode, to: BodyMode): string | null {
  if (from === to) return body;
  if ((from === 'text' || from === 'json') && (to === 'text' || to === 'json')) return body;
  if (to === 'file' || from === 'file') return null;
  if (body === '') return '';
  const bytes = bodyBytes(body, from);
  if (!bytes) return null;
  switch (to) {
    case 'text':
    case 'json':
      return utf8Decode(bytes);
    case 'base64':
      return bytesToBase64(bytes);
    case 'hex':
      return bytesToHex(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Templates

/** What each template built-in gives (the core implements them: crates/warren-core/src/message/template.rs). */
export const TEMPLATE_BUILTINS = {
  seq: '1-based number of the message in this publish',
  uuid: 'a random UUID (v4)',
  now: 'the time of sending, RFC 3339',
  now_epoch: 'the time of sending, seconds since the epoch',
  now_ms: 'the time of sending, milliseconds since the epoch',
  random_int: '{{random_int A B}}: a random integer from A to B',
  random_choice: '{{random_choice a b c}}: one of the words, at random',
} as const satisfies Record<TemplateBuiltin, string>;

// ---------------------------------------------------------------------------------------------
// Checks and the request

/** Errors by input key: "exchange", "routing_key", "body", "body_file", "prop-<name>",
 * "count", "rate", "variable-<id>"; header errors are keyed by row. */
export type FieldErrors = Record<string, string>;

export interface Compiled {
  request: PublishRequest | null;
  errors: FieldErrors;
  headerErrors: HeaderErrors;
  /** A body error's line and column, in JSON mode. */
  bodyPosition: { line: number; column: number } | null;
}

function checkShort(errors: FieldErrors, key: string, label: string, value: string): void {
  const n = utf8Length(value);
  if (n > 255) errors[key] = `${label} is ${n} bytes long; AMQP allows at most 255`;
}

function isNonNegativeInteger(s: string): boolean {
  return /^\d+$/.test(s);
}

/** Checks the form and builds the request; `request` is null while there are errors. */
export function compile(form: ComposeForm): Compiled {
  const errors: FieldErrors = {};
  let bodyPosition: Compiled['bodyPosition'] = null;

  // Variables: what a name means is the core's to say; the form can only hold each name once.
  const variables: Record<string, string> = {};
  for (const v of form.variables) {
    const key = `variable-${v.id}`;
    const name = v.name.trim();
    if (name === '') errors[key] = 'a variable needs a name';
    else if (Object.prototype.hasOwnProperty.call(variables, name)) errors[key] = `"${name}" is defined twice`;
    else variables[name] = v.value;
  }

  checkShort(errors, 'routing_key', 'The routing key', form.routingKey);

  // Body.
  let body = '';
  let encoding: Message['body_encoding'] = 'utf8';
  let bodyFile: string | null = null;
  switch (form.bodyMode) {
    case 'text':
      body = form.body;
      break;
    case 'json': {
      const p = checkJson(form.body);
      if (p) {
        errors['body'] = `Invalid JSON at line ${p.line}, column ${p.column} (${p.line}:${p.column}): ${p.message}`;
        bodyPosition = { line: p.line, column: p.column };
      }
      body = form.body;
      break;
    }
    case 'base64': {
      const r = base64ToBytes(form.body);
      if (!r.ok) errors['body'] = `Body: ${r.error}`;
      body = normalizeBase64(form.body);
      encoding = 'base64';
      break;
    }
    case 'hex': {
      const r = hexToBytes(form.body);
      if (!r.ok) errors['body'] = `Body: ${r.error}`;
      else body = bytesToBase64(r.bytes);
      encoding = 'base64';
      break;
    }
    case 'file':
      if (form.bodyFile.trim() === '') errors['body_file'] = 'File: a path is required';
      bodyFile = form.bodyFile.trim();
      break;
  }

  // Properties.
  const properties: MessageProperties = {};
  for (const p of STRING_PROPS) {
    const value = form.props[p];
    if (value === '') continue;
    const key = `prop-${p}`;
    checkShort(errors, key, PROPERTY_LABELS[p], value);
    properties[p] = value;
  }
  const expiration = form.props.expiration.trim();
  if (expiration !== '' && !containsTemplate(expiration) && !isNonNegativeInteger(expiration)) {
    errors['prop-expiration'] = `Expiration: "${expiration}" is not a whole number of milliseconds (0 or more)`;
  }
  const mode = form.props.delivery_mode.trim();
  if (mode !== '') {
    if (mode === '1' || mode === '2') properties.delivery_mode = Number(mode);
    else errors['prop-delivery_mode'] = `Delivery mode: "${mode}" is neither 1 (transient) nor 2 (persistent)`;
  }
  const priority = form.props.priority.trim();
  if (priority !== '') {
    if (isNonNegativeInteger(priority) && Number(priority) <= 255) properties.priority = Number(priority);
    else errors['prop-priority'] = `Priority: "${priority}" is not an integer from 0 to 255`;
  }
  const timestamp = form.props.timestamp.trim();
  if (timestamp !== '') {
    if (isNonNegativeInteger(timestamp) && Number.isSafeInteger(Number(timestamp))) {
      properties.timestamp = Number(timestamp);
    } else errors['prop-timestamp'] = `Timestamp: "${timestamp}" is not a time (seconds since the epoch)`;
  }

  // Headers.
  const { headers, errors: headerErrors } = rowsToHeaders(form.headers);
  if (form.headers.length > 0) properties.headers = headers;

  // Sending.
  const count = form.count.trim();
  if (!isNonNegativeInteger(count) || Number(count) < 1 || !Number.isSafeInteger(Number(count))) {
    errors['count'] = `Count: "${count}" is not a whole number of 1 or more`;
  }
  const rate = form.rate.trim();
  let rateValue: number | null = null;
  if (rate !== '') {
    const n = Number(rate);
    if (!/^\d*\.?\d+$|^\d+\.$/.test(rate) || !Number.isFinite(n) || n <= 0) {
      errors['rate'] = `Rate: "${rate}" is not a positive number of messages per second (empty: as fast as confirmed)`;
    } else rateValue = n;
  }

  const valid = Object.keys(errors).length === 0 && headerErrors.size === 0;
  const request: PublishRequest | null = valid
    ? {
        message: {
          exchange: form.exchange,
          routing_key: form.routingKey,
          properties,
          body: bodyFile === null ? body : '',
          body_encoding: bodyFile === null ? encoding : 'utf8',
        },
        count: Number(count),
        rate: rateValue,
        mandatory: form.mandatory,
        variables,
        body_file: bodyFile,
      }
    : null;
  return { request, errors, headerErrors, bodyPosition };
}

// ---------------------------------------------------------------------------------------------
// Loading a message

function looksLikeJson(contentType: string | null | undefined): boolean {
  if (!contentType) return false;
  const t = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return t === 'application/json' || t.endsWith('+json');
}

/**
 * A message in the form, every header with its type. The sending options (count, rate,
 * mandatory) and the variables are kept from `base`.
 */
export function formFromMessage(m: Message, base: ComposeForm = emptyForm()): ComposeForm {
  const p = m.properties;
  const props = emptyProps();
  for (const name of STRING_PROPS) props[name] = p[name] ?? '';
  props.delivery_mode = p.delivery_mode == null ? '' : String(p.delivery_mode);
  props.priority = p.priority == null ? '' : String(p.priority);
  props.timestamp = p.timestamp == null ? '' : String(p.timestamp);

  let bodyMode: BodyMode;
  let body = m.body;
  if (m.body_encoding === 'base64') {
    bodyMode = 'base64';
    // A base64 body that is UTF-8 after all (a hand-written file) reads better as text.
    const r = base64ToBytes(m.body);
    const text = r.ok ? utf8Decode(r.bytes) : null;
    if (text !== null && r.ok && r.bytes.length > 0 && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) {
      bodyMode = 'text';
      body = text;
    }
  } else {
    bodyMode = looksLikeJson(p.content_type) && checkJson(m.body, false) === null ? 'json' : 'text';
  }
  return {
    ...base,
    exchange: m.exchange,
    routingKey: m.routing_key,
    bodyMode,
    body,
    bodyFile: '',
    contentTypeAuto: false,
    props,
    headers: headersToRows(p.headers),
  };
}

// ---------------------------------------------------------------------------------------------
// Backend errors and outcomes

/** The input of the form a backend error is about. */
export type FormInput =
  | { kind: 'field'; key: string }
  | { kind: 'header'; path: string }
  | { kind: 'variable'; name: string };

const FORM_FIELDS = ['exchange', 'routing_key', 'body', 'body_file', 'count', 'rate'];

/**
 * The input a backend error's `field` names ("routing_key", "properties.expiration",
 * "properties.headers.t.inner", "variables.tenant", ...), or null when the form has none.
 * Header paths are the editor's row paths ("headers.t.inner", "headers.list[2]").
 */
export function inputOfField(field: string): FormInput | null {
  const path = field.replace(/^message\./, '').replace(/^properties\./, '');
  if (FORM_FIELDS.includes(path)) return { kind: 'field', key: path };
  if (path === 'headers' || path.startsWith('headers.') || path.startsWith('headers[')) return { kind: 'header', path };
  if (path.startsWith('variables.')) return { kind: 'variable', name: path.slice('variables.'.length) };
  const prop = PROPERTY_NAMES.find((p) => p === path);
  return prop ? { kind: 'field', key: `prop-${prop}` } : null;
}

export function outcomeLabel(o: MessageOutcome['outcome']): string {
  switch (o.kind) {
    case 'confirmed':
      return 'confirmed';
    case 'returned':
      return 'returned (unroutable)';
    case 'nacked':
      return 'nacked by the broker';
    case 'failed':
      return 'failed';
    case 'maybe_sent':
      return 'maybe sent (node lost)';
  }
}

export function outcomeDetail(o: MessageOutcome['outcome']): string {
  switch (o.kind) {
    case 'confirmed':
      return '';
    case 'returned':
      return `${o.reply_code} ${o.reply_text}`;
    case 'nacked':
      return 'the broker could not take responsibility for it';
    case 'failed':
      return o.reason;
    case 'maybe_sent':
      return o.reason;
  }
}

/** "850 ms", "12.3 s", "2 min 05 s". */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '—';
  return `${perSecond >= 100 ? Math.round(perSecond) : perSecond.toFixed(1)} msg/s`;
}

/** Epoch seconds as the value of an `<input type="datetime-local" step="1">` (local time). */
export function epochToLocalInput(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The value of a datetime-local input (local time) as epoch seconds, or null. */
export function localInputToEpoch(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0'));
  const t = d.getTime();
  return Number.isFinite(t) && t >= 0 ? Math.floor(t / 1000) : null;
}
