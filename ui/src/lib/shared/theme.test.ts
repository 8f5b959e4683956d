import { describe, expect, it, vi } from 'vitest';

import { readChoice, resolveTheme, theme, THEME_KEY } from './theme.svelte';

function memoryStore(initial: Record<string, string> = {}): Pick<Storage, 'getItem' | 'setItem'> & { data: Record<string, string> } {
  const data = { ...initial };
  return {
    data,
    getItem: (k) => data[k] ?? null,
    setItem: (k, v) => {
      data[k] = v;
    },
  };
}

/** A stand-in for the system's `prefers-color-scheme: dark` that can change. */
function systemScheme(dark: boolean): { flip: (d: boolean) => void } {
  const listeners = new Set<(e: { matches: boolean }) => void>();
  const mql = {
    matches: dark,
    addEventListener: (_: string, l: (e: { matches: boolean }) => void) => listeners.add(l),
    removeEventListener: (_: string, l: (e: { matches: boolean }) => void) => listeners.delete(l),
  };
  vi.stubGlobal('matchMedia', (q: string) => {
    expect(q).toBe('(prefers-color-scheme: dark)');
    return mql;
  });
  return {
    flip(d) {
      mql.matches = d;
      for (const l of listeners) l({ matches: d });
    },
  };
}

const shown = () => document.documentElement.dataset['theme'];

describe('theme setting', () => {
  it('reads the kept choice; anything else is "system"', () => {
    expect(readChoice(memoryStore({ [THEME_KEY]: 'light' }))).toBe('light');
    expect(readChoice(memoryStore({ [THEME_KEY]: 'dark' }))).toBe('dark');
    expect(readChoice(memoryStore({ [THEME_KEY]: 'purple' }))).toBe('system');
    expect(readChoice(memoryStore())).toBe('system');
    expect(readChoice(null)).toBe('system');
    const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => {} };
    expect(readChoice(broken)).toBe('system');
  });

  it('resolves a choice against the system', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });

  it('follows the system until a choice is made, then keeps the choice across a restart', () => {
    const system = systemScheme(true);
    const store = memoryStore();
    theme.start(store);
    expect(theme.choice).toBe('system');
    expect(shown()).toBe('dark');
    system.flip(false);
    expect(shown()).toBe('light');

    theme.choose('dark', store);
    expect(store.data[THEME_KEY]).toBe('dark');
    expect(shown()).toBe('dark');
    expect(document.documentElement.style.colorScheme).toBe('dark');
    // The system changing does not override a manual choice.
    system.flip(false);
    expect(shown()).toBe('dark');

    // A restart: the kept choice wins over the system's light.
    theme.start(store);
    expect(theme.choice).toBe('dark');
    expect(shown()).toBe('dark');

    theme.choose('system', store);
    expect(shown()).toBe('light');
    vi.unstubAllGlobals();
  });
});
