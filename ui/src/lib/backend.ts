// The one door to the Rust side. No other module imports `@tauri-apps/*` (a test checks it):
// components call these typed functions, and every rejection arrives as a `BackendError`.
//
// Argument names are camelCase, as Tauri 2 expects; it maps them to the commands' snake_case
// parameters (`storedAs` -> `stored_as`). Passwords only ever travel from here to the backend.

import { invoke } from '@tauri-apps/api/core';

import type { AppInfo } from './bindings/AppInfo';
import type { ClusterStatus } from './bindings/ClusterStatus';
import type { EndpointStatus } from './bindings/EndpointStatus';
import type { ErrorKind } from './bindings/ErrorKind';
import type { ErrorReport } from './bindings/ErrorReport';
import type { Profile } from './bindings/Profile';
import type { ProfileEntry } from './bindings/ProfileEntry';

/** Every ErrorKind, checked against the generated union in both directions. */
const ERROR_KINDS = {
  invalid_input: true,
  not_found: true,
  already_exists: true,
  config: true,
  password_missing: true,
  keychain: true,
  auth: true,
  access_refused: true,
  unreachable: true,
  timeout: true,
  http: true,
  protocol: true,
  unavailable: true,
  tls: true,
  cancelled: true,
} as const satisfies Record<ErrorKind, true>;

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_KINDS, value);
}

/** A failed backend call: the Rust side's `{kind, message}`, or an IPC failure mapped to one. */
export class BackendError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = 'BackendError';
    this.kind = kind;
  }

  toReport(): ErrorReport {
    return { kind: this.kind, message: this.message };
  }
}

function isErrorReport(value: unknown): value is ErrorReport {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorKind(v['kind']) && typeof v['message'] === 'string';
}

/** Turns whatever `invoke` rejected with into a BackendError. */
export function toBackendError(reason: unknown): BackendError {
  if (reason instanceof BackendError) return reason;
  if (isErrorReport(reason)) return new BackendError(reason.kind, reason.message);
  if (typeof reason === 'string') {
    // Tauri itself rejects with a bare string (unknown command, bad arguments, ...).
    return new BackendError('protocol', `the app's backend refused the call: ${reason}`);
  }
  if (reason instanceof TypeError && !hasTauri()) {
    return new BackendError(
      'unavailable',
      'the Warren backend is not available: this page must run inside the Warren app',
    );
  }
  const message = reason instanceof Error ? reason.message : String(reason);
  return new BackendError('protocol', `unexpected failure of a backend call: ${message}`);
}

function hasTauri(): boolean {
  return typeof globalThis === 'object' && '__TAURI_INTERNALS__' in globalThis;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw toBackendError(reason);
  }
}

export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>('app_info');
}

export function listProfiles(): Promise<ProfileEntry[]> {
  return call<ProfileEntry[]>('list_profiles');
}

/**
 * Saves a profile. `replacing` is the profile's current name when editing (a rename moves the
 * stored password), null when adding. A null or empty `password` keeps the stored one.
 */
export function saveProfile(
  profile: Profile,
  password: string | null,
  replacing: string | null,
): Promise<ProfileEntry> {
  return call<ProfileEntry>('save_profile', { profile, password, replacing });
}

export function deleteProfile(name: string): Promise<void> {
  return call<void>('delete_profile', { name });
}

/**
 * Tries every node of a profile, saved or not. Without a password, the one stored for
 * `storedAs` (the saved name of the profile being edited) is used.
 */
export function testProfile(
  profile: Profile,
  password: string | null,
  storedAs: string | null,
): Promise<EndpointStatus[]> {
  return call<EndpointStatus[]>('test_profile', { profile, password, storedAs });
}

/** The cluster's status; the first call opens its AMQP links, which stay open. */
export function clusterStatus(name: string): Promise<ClusterStatus> {
  return call<ClusterStatus>('cluster_status', { name });
}

/** Closes the cluster's AMQP links; the next `clusterStatus` opens them anew. */
export function closeCluster(name: string): Promise<void> {
  return call<void>('close_cluster', { name });
}
