import { describe, expect, it } from 'vitest';

import { formatEpochSeconds, formatRate, jsonText, replicationBadge } from './browseFormat';

describe('formatEpochSeconds', () => {
  it('formats UTC with a Z, and local time without', () => {
    expect(formatEpochSeconds(1_700_000_000, true)).toBe('2023-11-14 22:13:20Z');
    expect(formatEpochSeconds(1_700_000_000)).toMatch(/^2023-11-1[45] \d\d:\d\d:20$/);
    expect(formatEpochSeconds(Number.NaN)).toBe('NaN');
  });
});

describe('replicationBadge', () => {
  it('says synced for mirrors and online for members, coloured when degraded', () => {
    expect(replicationBadge({ kind: 'mirrors', total: 2, healthy: 2 })).toMatchObject({ text: '2/2 synced', tone: 'ok' });
    expect(replicationBadge({ kind: 'members', total: 3, healthy: 3 })).toMatchObject({ text: '3/3 online', tone: 'ok' });
    expect(replicationBadge({ kind: 'members', total: 3, healthy: 2 })).toMatchObject({ text: '2/3 online', tone: 'warning' });
    expect(replicationBadge({ kind: 'mirrors', total: 2, healthy: 0 })?.tone).toBe('critical');
    expect(replicationBadge(null)).toBeNull();
  });
});

describe('formatRate', () => {
  it('keeps one decimal below 10', () => {
    expect(formatRate(0)).toBe('0');
    expect(formatRate(0.42)).toBe('0.4/s');
    expect(formatRate(1250.4)).toBe('1,250/s');
    expect(formatRate(null)).toBeNull();
  });
});

describe('jsonText', () => {
  it('shows strings bare and the rest as JSON', () => {
    expect(jsonText('dlx')).toBe('dlx');
    expect(jsonText(5)).toBe('5');
    expect(jsonText({ a: [1] })).toBe('{"a":[1]}');
  });
});
