// Formatting for display. A value the backend did not report (null) is never shown as zero:
// formatters return null for it, and the UI renders UNKNOWN with UNKNOWN_TITLE as a tooltip.

import type { ErrorKind } from '../bindings/ErrorKind';
import type { HealthLevel } from '../bindings/HealthLevel';
import type { LinkState } from '../bindings/LinkState';
import type { NodeStatus } from '../bindings/NodeStatus';
import type { ReplicatedQueue } from '../bindings/ReplicatedQueue';

export const UNKNOWN = '—';
export const UNKNOWN_TITLE = 'unknown (the node did not report it)';

/** A colour family, mapped to CSS classes `tone-<tone>`. */
export type Tone = 'ok' | 'warning' | 'critical' | 'unknown' | 'info';

export function known<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

/** The text, or UNKNOWN for a value that was not reported. */
export function orUnknown(text: string | null | undefined): string {
  return known(text) ? text : UNKNOWN;
}

const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 -> "1,234,567". */
export function formatCount(n: number | null | undefined): string | null {
  return known(n) && Number.isFinite(n) ? countFormat.format(n) : null;
}

/** Short counts for narrow columns: exact below 100,000, then "944K", "1.05M", "12.3M". */
export function formatCompactCount(n: number | null | undefined): string | null {
  if (!known(n) || !Number.isFinite(n)) return null;
  const abs = Math.abs(n);
  if (abs < 100_000) return formatCount(n);
  if (abs < 999_500) return `${Math.round(n / 1000)}K`;
  if (abs < 999_500_000) return `${Number((n / 1e6).toPrecision(3))}M`;
  return `${Number((n / 1e9).toPrecision(3))}G`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Binary units, two significant figures below 10: 1536 -> "1.5 KiB", 3e9 -> "2.8 GiB". */
export function formatBytes(bytes: number | null | undefined): string | null {
  if (!known(bytes) || !Number.isFinite(bytes)) return null;
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  // 1023.96 KiB would print as "1024 KiB": carry it to the next unit.
  if (value >= 1023.5 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value).toString();
  return `${sign}${text} ${BYTE_UNITS[unit]}`;
}

/** A span of time, two units at most: "45s", "12m 5s", "5h 12m", "3d 4h". */
export function formatDuration(ms: number | null | undefined): string | null {
  if (!known(ms) || !Number.isFinite(ms)) return null;
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

/** How long ago `thenMs` was at `nowMs`: "0s ago", "42s ago", "3m ago", "2h ago", "5d ago". */
export function formatAgo(thenMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Local wall-clock time "HH:MM:SS" (24 h) of an epoch-milliseconds instant. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => n.toString().padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** used / total, or null when either is unknown or the total is not positive. */
export function ratio(used: number | null | undefined, total: number | null | undefined): number | null {
  if (!known(used) || !known(total) || !(total > 0)) return null;
  return used / total;
}

/** 0.423 -> "42%"; a small non-zero share shows as "<1%" rather than "0%". */
export function formatPercent(r: number | null | undefined): string | null {
  if (!known(r) || !Number.isFinite(r)) return null;
  const pct = r * 100;
  if (pct > 0 && pct < 1) return '<1%';
  return `${Math.round(pct)}%`;
}

/**
 * "120 / 1,024", each side UNKNOWN when not reported; null when neither is known.
 * `compact` shortens large numbers ("380 / 944K").
 */
export function formatUsedOfTotal(
  used: number | null | undefined,
  total: number | null | undefined,
  compact = false,
): string | null {
  if (!known(used) && !known(total)) return null;
  const fmt = compact ? formatCompactCount : formatCount;
  return `${orUnknown(fmt(used))} / ${orUnknown(fmt(total))}`;
}

/** Round-trip time: "<1 ms", "3 ms", "1,250 ms". */
export function formatLatency(ms: number | null | undefined): string | null {
  if (!known(ms) || !Number.isFinite(ms)) return null;
  if (ms < 1) return '<1 ms';
  return `${formatCount(Math.round(ms))} ms`;
}

/** Tone of a resource in use: critical on an alarm, warning from 90 % of the limit. */
export function usageTone(r: number | null, alarm: boolean | null = null): Tone {
  if (alarm === true) return 'critical';
  if (r === null) return alarm === false ? 'ok' : 'unknown';
  if (r >= 0.9) return 'warning';
  return 'ok';
}

/** The four health levels are four of the tones, by the same names. */
export function healthTone(level: HealthLevel): Tone {
  return level;
}

const HEALTH_LABELS: Record<HealthLevel, string> = {
  ok: 'Healthy',
  warning: 'Warning',
  critical: 'Critical',
  unknown: 'Unknown',
};

export function healthLabel(level: HealthLevel): string {
  return HEALTH_LABELS[level];
}

const LINK_STATE_TONES: Record<LinkState, Tone> = {
  connected: 'ok',
  connecting: 'warning',
  down: 'critical',
  closed: 'unknown',
};

export function linkStateTone(state: LinkState): Tone {
  return LINK_STATE_TONES[state];
}

/** Nodes running out of nodes listed: the "N/M nodes up" of the cards. */
export function nodesUp(nodes: readonly Pick<NodeStatus, 'running'>[]): { up: number; total: number } {
  return { up: nodes.filter((n) => n.running).length, total: nodes.length };
}

/**
 * How close a quorum queue or stream is to losing its majority:
 * critical when it has lost it, or when one more loss would lose it while members are already
 * offline; warning when it has no spare member at all (e.g. a single member) or is
 * under-replicated; ok otherwise.
 */
export function spareTone(q: Pick<ReplicatedQueue, 'spare_members' | 'offline'>): Tone {
  if (q.spare_members < 0) return 'critical';
  if (q.spare_members === 0) return q.offline.length > 0 ? 'critical' : 'warning';
  return q.offline.length > 0 ? 'warning' : 'ok';
}

export function spareLabel(spare: number): string {
  if (spare < 0) return `${spare} — quorum lost`;
  if (spare === 0) return '0 — one more loss loses quorum';
  return spare.toString();
}

const ERROR_KIND_LABELS: Record<ErrorKind, string> = {
  invalid_input: 'Invalid input',
  not_found: 'Not found',
  already_exists: 'Already exists',
  config: 'Configuration error',
  password_missing: 'Password missing',
  keychain: 'Keychain error',
  auth: 'Authentication failed',
  access_refused: 'Access refused',
  unreachable: 'Unreachable',
  timeout: 'Timed out',
  http: 'HTTP error',
  protocol: 'Protocol error',
  unavailable: 'Unavailable',
  tls: 'TLS error',
  needs_consent: 'Needs your consent',
  conflict: 'The queue changed',
  file: 'File error',
  cancelled: 'Cancelled',
};

export function errorKindLabel(kind: ErrorKind): string {
  return ERROR_KIND_LABELS[kind];
}

/** What the person can do about an error, when there is something specific. */
export function errorHint(kind: ErrorKind): string | null {
  switch (kind) {
    case 'password_missing':
      return 'Edit the profile and enter the password; it is kept in the OS keychain.';
    case 'auth':
      return 'Check the user name and password of the profile.';
    case 'access_refused':
      return "The user lacks a permission: check its tags (monitoring at least) and the vhost's permissions.";
    case 'unreachable':
      return 'Check that the nodes are running and reachable from this machine (address, port, firewall).';
    case 'timeout':
      return 'The nodes did not answer in time: they may be overloaded, or a firewall drops the traffic.';
    case 'tls':
      return 'Check the TLS settings of the profile: CA file, client certificate and key, amqps:// and https:// ports.';
    case 'keychain':
      return 'The OS keychain could not be used: check that a secret service (e.g. GNOME Keyring) is running and unlocked.';
    case 'config':
      return 'The profiles file could not be read or written.';
    case 'conflict':
      return 'Nothing was changed. Peek again, select the messages anew and retry.';
    default:
      return null;
  }
}

/** CSS classes that colour text by tone, only for the tones that call for attention. */
export function alertTextClass(tone: Tone): string {
  return tone === 'warning' || tone === 'critical' ? `text-tone tone-${tone}` : '';
}
