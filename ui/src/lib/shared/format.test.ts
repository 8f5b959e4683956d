import { describe, expect, it } from 'vitest';

import {
  alertTextClass,
  errorHint,
  errorKindLabel,
  formatAgo,
  formatBytes,
  formatClock,
  formatCompactCount,
  formatCount,
  formatDuration,
  formatLatency,
  formatPercent,
  formatUsedOfTotal,
  healthLabel,
  healthTone,
  linkStateTone,
  nodesUp,
  orUnknown,
  ratio,
  spareLabel,
  spareTone,
  UNKNOWN,
  usageTone,
} from './format';

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1024)).toBe('1 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(50 * 1024 ** 2)).toBe('50 MiB');
    expect(formatBytes(3_000_000_000)).toBe('2.8 GiB');
    expect(formatBytes(1.5 * 1024 ** 4)).toBe('1.5 TiB');
  });

  it('carries a value that would round to 1024 into the next unit', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MiB');
  });

  it('keeps unknown distinct from zero', () => {
    expect(formatBytes(null)).toBeNull();
    expect(formatBytes(undefined)).toBeNull();
    expect(formatBytes(Number.NaN)).toBeNull();
    expect(formatBytes(0)).not.toBeNull();
  });
});

describe('formatDuration', () => {
  it('shows the two largest units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(12 * 60_000 + 5_000)).toBe('12m 5s');
    expect(formatDuration(5 * 3600_000 + 12 * 60_000 + 59_000)).toBe('5h 12m');
    expect(formatDuration(3 * 86400_000 + 4 * 3600_000 + 1)).toBe('3d 4h');
  });

  it('returns null for unknown', () => {
    expect(formatDuration(null)).toBeNull();
  });
});

describe('formatAgo', () => {
  const now = 1_700_000_100_000;
  it('counts seconds, then minutes, hours, days', () => {
    expect(formatAgo(now, now)).toBe('0s ago');
    expect(formatAgo(now - 42_000, now)).toBe('42s ago');
    expect(formatAgo(now - 59_999, now)).toBe('59s ago');
    expect(formatAgo(now - 3 * 60_000, now)).toBe('3m ago');
    expect(formatAgo(now - 2 * 3600_000, now)).toBe('2h ago');
    expect(formatAgo(now - 5 * 86400_000, now)).toBe('5d ago');
  });

  it('never goes negative when the clock is behind', () => {
    expect(formatAgo(now + 5_000, now)).toBe('0s ago');
  });
});

describe('formatClock', () => {
  it('prints local HH:MM:SS with leading zeros', () => {
    const t = new Date(2025, 2, 4, 7, 5, 9).getTime();
    expect(formatClock(t)).toBe('07:05:09');
    expect(formatClock(new Date(2025, 2, 4, 23, 59, 0).getTime())).toBe('23:59:00');
  });
});

describe('ratio and percentages', () => {
  it('needs both values and a positive total', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(null, 4)).toBeNull();
    expect(ratio(1, null)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
  });

  it('rounds, and shows a small share as <1%', () => {
    expect(formatPercent(0.423)).toBe('42%');
    expect(formatPercent(1.2)).toBe('120%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.001)).toBe('<1%');
    expect(formatPercent(null)).toBeNull();
  });
});

describe('counts', () => {
  it('groups thousands', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(null)).toBeNull();
  });

  it('shortens large counts for narrow columns', () => {
    expect(formatCompactCount(99_999)).toBe('99,999');
    expect(formatCompactCount(943_626)).toBe('944K');
    expect(formatCompactCount(999_999)).toBe('1M');
    expect(formatCompactCount(1_048_576)).toBe('1.05M');
    expect(formatCompactCount(12_345_678)).toBe('12.3M');
    expect(formatCompactCount(null)).toBeNull();
    expect(formatUsedOfTotal(380, 943_626, true)).toBe('380 / 944K');
  });

  it('shows used / total with each unknown side marked', () => {
    expect(formatUsedOfTotal(120, 1024)).toBe('120 / 1,024');
    expect(formatUsedOfTotal(120, null)).toBe(`120 / ${UNKNOWN}`);
    expect(formatUsedOfTotal(null, null)).toBeNull();
  });

  it('orUnknown replaces only missing text', () => {
    expect(orUnknown(null)).toBe(UNKNOWN);
    expect(orUnknown('')).toBe('');
    expect(orUnknown('0')).toBe('0');
  });
});

describe('formatLatency', () => {
  it('rounds to milliseconds', () => {
    expect(formatLatency(0.4)).toBe('<1 ms');
    expect(formatLatency(3)).toBe('3 ms');
    expect(formatLatency(12.6)).toBe('13 ms');
    expect(formatLatency(1250)).toBe('1,250 ms');
    expect(formatLatency(null)).toBeNull();
  });
});

describe('tones', () => {
  it('colours usage by alarm first, then by share', () => {
    expect(usageTone(0.5, true)).toBe('critical');
    expect(usageTone(0.95, false)).toBe('warning');
    expect(usageTone(0.89)).toBe('ok');
    expect(usageTone(null)).toBe('unknown');
    expect(usageTone(null, false)).toBe('ok');
  });

  it('maps health and link states', () => {
    expect(healthTone('ok')).toBe('ok');
    expect(healthTone('critical')).toBe('critical');
    expect(healthTone('unknown')).toBe('unknown');
    expect(healthLabel('warning')).toBe('Warning');
    expect(linkStateTone('connected')).toBe('ok');
    expect(linkStateTone('connecting')).toBe('warning');
    expect(linkStateTone('down')).toBe('critical');
    expect(linkStateTone('closed')).toBe('unknown');
  });

  it('only colours text that calls for attention', () => {
    expect(alertTextClass('ok')).toBe('');
    expect(alertTextClass('unknown')).toBe('');
    expect(alertTextClass('warning')).toBe('text-tone tone-warning');
    expect(alertTextClass('critical')).toBe('text-tone tone-critical');
  });
});

describe('nodesUp', () => {
  it('counts running nodes', () => {
    expect(nodesUp([{ running: true }, { running: false }, { running: true }])).toEqual({ up: 2, total: 3 });
    expect(nodesUp([])).toEqual({ up: 0, total: 0 });
  });
});

describe('spare members', () => {
  it('is critical when quorum is lost or one more loss would lose it', () => {
    expect(spareTone({ spare_members: -1, offline: ['a', 'b'] })).toBe('critical');
    expect(spareTone({ spare_members: 0, offline: ['c'] })).toBe('critical');
  });

  it('is a warning without any spare member, or while under-replicated', () => {
    expect(spareTone({ spare_members: 0, offline: [] })).toBe('warning');
    expect(spareTone({ spare_members: 1, offline: ['e'] })).toBe('warning');
  });

  it('is ok with all members online and a spare', () => {
    expect(spareTone({ spare_members: 1, offline: [] })).toBe('ok');
  });

  it('labels 0 and negative values', () => {
    expect(spareLabel(0)).toBe('0 — one more loss loses quorum');
    expect(spareLabel(-1)).toBe('-1 — quorum lost');
    expect(spareLabel(2)).toBe('2');
  });
});

describe('errors', () => {
  it('labels every kind and hints where it can', () => {
    expect(errorKindLabel('unreachable')).toBe('Unreachable');
    expect(errorKindLabel('password_missing')).toBe('Password missing');
    expect(errorHint('password_missing')).toMatch(/keychain/);
    expect(errorHint('auth')).toMatch(/user name and password/);
    expect(errorHint('not_found')).toBeNull();
  });
});
