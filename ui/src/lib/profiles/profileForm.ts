// The profile editor's form model: what the inputs hold, how it becomes a `Profile`, the checks
// done before calling the backend, and which input a backend `invalid_input` error is about.
// Field keys are the inputs' `name` attributes: name, username, vhost, password, amqp-0,
// management-0, ..., tls-ca, tls-cert, tls-key.

import type { NodeEndpoints } from '../bindings/NodeEndpoints';
import type { Profile } from '../bindings/Profile';

export interface NodeDraft {
  amqp: string;
  management: string;
}

export interface ProfileDraft {
  name: string;
  nodes: NodeDraft[];
  vhost: string;
  username: string;
  /** Typed by the person; empty keeps the stored password. Never filled from the backend. */
  password: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  verifyPeer: boolean;
  /** Log in over AMQP with the client certificate (SASL EXTERNAL) rather than the password. */
  external: boolean;
}

/** Field key -> what is wrong with it. */
export type FieldErrors = Record<string, string>;

export const AMQP_PORT = 5672;
export const AMQPS_PORT = 5671;
export const MANAGEMENT_PORT = 15672;
export const MANAGEMENT_TLS_PORT = 15671;
export const DEFAULT_HOST = '127.0.0.1';

export function emptyDraft(): ProfileDraft {
  return {
    name: '',
    nodes: [{ amqp: '', management: '' }],
    vhost: '/',
    username: '',
    password: '',
    caFile: '',
    clientCertFile: '',
    clientKeyFile: '',
    verifyPeer: true,
    external: false,
  };
}

export function draftFromProfile(p: Profile): ProfileDraft {
  return {
    name: p.name,
    nodes: p.nodes.length > 0 ? p.nodes.map((n) => ({ amqp: n.amqp, management: n.management })) : [{ amqp: '', management: '' }],
    vhost: p.vhost,
    username: p.username,
    password: '',
    caFile: p.tls.ca_file ?? '',
    clientCertFile: p.tls.client_cert_file ?? '',
    clientKeyFile: p.tls.client_key_file ?? '',
    verifyPeer: p.tls.verify_peer,
    external: p.auth === 'external',
  };
}

function optionalPath(s: string): string | null {
  const t = s.trim();
  return t === '' ? null : t;
}

export function profileFromDraft(d: ProfileDraft): Profile {
  const nodes: NodeEndpoints[] = d.nodes.map((n) => ({
    amqp: n.amqp.trim(),
    management: n.management.trim(),
  }));
  return {
    name: d.name.trim(),
    nodes,
    vhost: d.vhost,
    username: d.username.trim(),
    tls: {
      ca_file: optionalPath(d.caFile),
      client_cert_file: optionalPath(d.clientCertFile),
      client_key_file: optionalPath(d.clientKeyFile),
      verify_peer: d.verifyPeer,
    },
    ...(d.external ? { auth: 'external' as const } : {}),
  };
}

/** The password to send: null (keep the stored one) when nothing was typed. */
export function passwordToSend(d: ProfileDraft): string | null {
  return d.password === '' ? null : d.password;
}

const URL_PARTS = /^\s*([a-z][a-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#\s]*)(?::(\d+))?/i;

function nextUrl(
  previous: string | undefined,
  plain: string,
  secure: string,
  plainPort: number,
  securePort: number,
  index: number,
): string {
  const m = previous === undefined ? null : URL_PARTS.exec(previous);
  const scheme = m?.[1]?.toLowerCase();
  const host = m?.[2];
  if (m && host && (scheme === plain || scheme === secure)) {
    const defaultPort = scheme === secure ? securePort : plainPort;
    const port = m[3] !== undefined ? Number(m[3]) : defaultPort;
    return `${scheme}://${host}:${port + 1}`;
  }
  return `${plain}://${DEFAULT_HOST}:${plainPort + index}`;
}

/**
 * The row that "+ node" adds: the last row's host with the next ports (a local test cluster
 * runs its nodes on consecutive ports), or the default ports after as many rows.
 */
export function nextNode(nodes: readonly NodeDraft[]): NodeDraft {
  const last = nodes[nodes.length - 1];
  const index = nodes.length;
  return {
    amqp: nextUrl(last?.amqp, 'amqp', 'amqps', AMQP_PORT, AMQPS_PORT, index),
    management: nextUrl(last?.management, 'http', 'https', MANAGEMENT_PORT, MANAGEMENT_TLS_PORT, index),
  };
}

/** Placeholders of row `index`, matching what "+ node" would fill in on an empty form. */
export function nodePlaceholder(index: number): NodeDraft {
  return {
    amqp: `amqp://${DEFAULT_HOST}:${AMQP_PORT + index}`,
    management: `http://${DEFAULT_HOST}:${MANAGEMENT_PORT + index}`,
  };
}

/**
 * The obvious mistakes, caught before calling the backend (which checks everything again).
 * `passwordRequired`: no password is stored for this profile, so one must be typed.
 */
export function validateDraft(d: ProfileDraft, passwordRequired: boolean): FieldErrors {
  const errors: FieldErrors = {};
  if (d.name.trim() === '') errors['name'] = 'Enter a name for this cluster.';
  if (d.nodes.length === 0) errors['amqp-0'] = 'Add at least one node.';
  d.nodes.forEach((n, i) => {
    const amqp = n.amqp.trim();
    const api = n.management.trim();
    if (amqp === '') errors[`amqp-${i}`] = 'Enter the AMQP URI, e.g. amqp://host:5672.';
    else if (!/^amqps?:\/\//i.test(amqp)) errors[`amqp-${i}`] = 'Must start with amqp:// or amqps://.';
    if (api === '') errors[`management-${i}`] = 'Enter the management URL, e.g. http://host:15672.';
    else if (!/^https?:\/\//i.test(api)) errors[`management-${i}`] = 'Must start with http:// or https://.';
  });
  if (d.vhost === '') errors['vhost'] = 'Enter the vhost; "/" is the default one.';
  if (d.username.trim() === '') errors['username'] = 'Enter the user name.';
  if (passwordRequired && !d.external && d.password === '') errors['password'] = 'Enter the password.';
  const cert = d.clientCertFile.trim() !== '';
  const key = d.clientKeyFile.trim() !== '';
  if (d.external && !cert) errors['tls-cert'] = 'Logging in with the certificate needs a client certificate.';
  if (cert && !key) errors['tls-key'] = 'A client certificate needs its private key.';
  if (key && !cert) errors['tls-cert'] = 'A private key needs its client certificate.';
  return errors;
}

/**
 * The input a backend error's `field` is about, or null. The core names the fields of a
 * profile "name", "vhost", "username", "password", "tls", "nodes", "node 2" and
 * "node 2 AMQP URI" / "node 2 management URL" (1-based).
 */
export function inputOfField(field: string): string | null {
  switch (field) {
    case 'name':
    case 'vhost':
    case 'username':
    case 'password':
      return field;
    case 'tls':
    case 'auth':
      return 'tls-cert';
    case 'nodes':
      return 'amqp-0';
  }
  const node = /^node (\d+)(?: (AMQP URI|management URL))?$/.exec(field);
  if (node?.[1] !== undefined) {
    const index = Number(node[1]) - 1;
    return node[2] === 'management URL' ? `management-${index}` : `amqp-${index}`;
  }
  return null;
}

/** The reason of an error about `field`, without the "invalid <field>: " the core puts first. */
export function reasonFor(field: string, message: string): string {
  const prefix = `invalid ${field}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}
