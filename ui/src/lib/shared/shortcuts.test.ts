import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  comboLabel,
  detectPlatform,
  handleShortcutKey,
  matchShortcut,
  runShortcut,
  SHORTCUT_GROUPS,
  SHORTCUTS,
  shortcuts,
  type KeyPress,
} from './shortcuts';
import ShortcutSheet from './ShortcutSheet.svelte';

function press(key: string, mods: Partial<Omit<KeyPress, 'key'>> = {}): KeyPress {
  return { key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods };
}

describe('the keymap', () => {
  it('defines each key once per place it works', () => {
    // Peek and Publish share Mod+Enter: each works in its own tab. No other key means two things.
    const seen = new Map<string, string>();
    for (const s of SHORTCUTS) {
      for (const k of s.keys) {
        const id = JSON.stringify([k.key, !!k.mod, !!k.ctrl, !!k.shift, !!k.alt]);
        const other = seen.get(id);
        if (other && !(['peek', 'publish'].includes(other) && ['peek', 'publish'].includes(s.id))) {
          throw new Error(`${s.id} and ${other} share ${id}`);
        }
        seen.set(id, s.id);
      }
      expect(SHORTCUT_GROUPS).toContain(s.group);
    }
  });

  it('uses the platform modifier: Ctrl on Linux and Windows, ⌘ on macOS', () => {
    expect(detectPlatform({ platform: 'MacIntel', userAgent: '' })).toBe('mac');
    expect(detectPlatform({ platform: 'Linux x86_64', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' })).toBe('other');
    expect(matchShortcut(press('f', { ctrlKey: true }), 'other', false)?.ids).toEqual(['search']);
    expect(matchShortcut(press('f', { metaKey: true }), 'other', false)).toBeNull();
    expect(matchShortcut(press('f', { metaKey: true }), 'mac', false)?.ids).toEqual(['search']);
    expect(matchShortcut(press('f', { ctrlKey: true }), 'mac', false)).toBeNull();
    // Ctrl+Tab is Ctrl everywhere.
    expect(matchShortcut(press('Tab', { ctrlKey: true }), 'mac', false)?.ids).toEqual(['tab-next']);
    expect(matchShortcut(press('Tab', { ctrlKey: true, shiftKey: true }), 'other', false)?.ids).toEqual(['tab-prev']);
    // WebKitGTK's Shift+Tab: no key name, the Tab key's code.
    expect(matchShortcut(press('Unidentified', { ctrlKey: true, shiftKey: true, code: 'Tab' }), 'other', false)?.ids).toEqual(['tab-prev']);
    expect(comboLabel({ key: 'f', mod: true }, 'other')).toEqual(['Ctrl', 'F']);
    expect(comboLabel({ key: 'f', mod: true }, 'mac')).toEqual(['⌘', 'F']);
  });

  it('tells Shift apart on letters, and takes "?" however it is typed', () => {
    expect(matchShortcut(press('n'), 'other', false)?.ids).toEqual(['nack-requeue']);
    expect(matchShortcut(press('N', { shiftKey: true }), 'other', false)?.ids).toEqual(['nack']);
    expect(matchShortcut(press('R', { shiftKey: true }), 'other', false)?.ids).toEqual(['reject']);
    expect(matchShortcut(press('?', { shiftKey: true }), 'other', false)?.ids).toEqual(['help']);
    expect(matchShortcut(press('?'), 'other', false)?.ids).toEqual(['help']);
    expect(matchShortcut(press('3', { ctrlKey: true }), 'other', false)).toEqual({ ids: ['tab-number'], key: '3' });
    expect(matchShortcut(press('0', { ctrlKey: true }), 'other', false)).toBeNull();
  });

  it('leaves plain keys to a text field being typed in, but not modified ones', () => {
    expect(matchShortcut(press('a'), 'other', true)).toBeNull();
    expect(matchShortcut(press('?'), 'other', true)).toBeNull();
    expect(matchShortcut(press('Enter', { ctrlKey: true }), 'other', true)?.ids).toEqual(['peek', 'publish']);
    expect(matchShortcut(press('F5'), 'other', true)?.ids).toEqual(['refresh']);
  });
});

describe('dispatch', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  function key(key: string, mods: Partial<KeyboardEventInit> = {}, target: EventTarget = document.body): KeyboardEvent {
    const e = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...mods });
    Object.defineProperty(e, 'target', { value: target });
    return e;
  }

  it('clicks the visible button marked for the shortcut, never one in a hidden tab', () => {
    document.body.innerHTML = `
      <div hidden><button data-shortcut="ack" id="hidden-ack">Ack</button></div>
      <div><button data-shortcut="ack" id="shown-ack">Ack</button><button data-shortcut="nack" disabled>Nack</button></div>`;
    const hidden = vi.fn();
    const shown = vi.fn();
    document.getElementById('hidden-ack')?.addEventListener('click', hidden);
    document.getElementById('shown-ack')?.addEventListener('click', shown);
    const e = key('a');
    expect(handleShortcutKey(e, () => {}, 'other')).toBe(true);
    expect(e.defaultPrevented).toBe(true);
    expect(shown).toHaveBeenCalledOnce();
    expect(hidden).not.toHaveBeenCalled();
    // A disabled target does nothing, and the key goes on as usual.
    const n = key('N', { shiftKey: true });
    expect(handleShortcutKey(n, () => {}, 'other')).toBe(false);
    expect(n.defaultPrevented).toBe(false);
  });

  it('sends Ctrl+Enter to the tab on screen: Peek in Browse, Publish in Publish', () => {
    document.body.innerHTML = `
      <div id="browse"><form><input id="queue" /><button type="submit" data-shortcut="peek" id="peek">Peek</button></form></div>
      <div id="publish" hidden><button data-shortcut="publish" id="send">Publish</button></div>`;
    const peek = vi.fn((e: Event) => e.preventDefault());
    const send = vi.fn();
    document.querySelector('form')?.addEventListener('submit', peek);
    document.getElementById('send')?.addEventListener('click', send);
    const queue = document.getElementById('queue') as HTMLInputElement;
    handleShortcutKey(key('Enter', { ctrlKey: true }, queue), () => {}, 'other');
    expect(peek).toHaveBeenCalledOnce();
    expect(send).not.toHaveBeenCalled();
    // The other tab shown instead.
    document.getElementById('browse')?.setAttribute('hidden', '');
    document.getElementById('publish')?.removeAttribute('hidden');
    handleShortcutKey(key('Enter', { ctrlKey: true }), () => {}, 'other');
    expect(send).toHaveBeenCalledOnce();
    expect(peek).toHaveBeenCalledOnce();
  });

  it('focuses the search field of the view, the one nearest the focus first', () => {
    document.body.innerHTML = `
      <section id="list"><input type="search" data-shortcut="search" id="filter" /></section>
      <section id="detail"><input type="search" data-shortcut="search" id="json" /><button id="in-detail">x</button></section>`;
    expect(runShortcut('search', 'f')).toBe(true);
    expect(document.activeElement?.id).toBe('filter');
    document.getElementById('in-detail')?.focus();
    expect(runShortcut('search', 'f')).toBe(true);
    expect(document.activeElement?.id).toBe('json');
  });

  it('hands keys to the innermost visible handler, and opens the sheet on "?"', () => {
    document.body.innerHTML = '<div id="outer"><div id="inner"></div></div><div id="gone" hidden></div>';
    const el = (id: string) => document.getElementById(id) as HTMLElement;
    const outer = vi.fn();
    const inner = vi.fn();
    const gone = vi.fn();
    const a = shortcuts(el('outer'), { 'message-next': outer, 'tab-number': outer });
    const b = shortcuts(el('inner'), { 'message-next': inner });
    const c = shortcuts(el('gone'), { 'message-next': gone });
    handleShortcutKey(key('j'), () => {}, 'other');
    expect(inner).toHaveBeenCalledOnce();
    expect(outer).not.toHaveBeenCalled();
    expect(gone).not.toHaveBeenCalled();
    handleShortcutKey(key('4', { ctrlKey: true }), () => {}, 'other');
    expect(outer).toHaveBeenCalledWith('4');
    // Typing "j" in a field is typing.
    const input = document.createElement('input');
    document.body.append(input);
    handleShortcutKey(key('j', {}, input), () => {}, 'other');
    expect(inner).toHaveBeenCalledOnce();
    const help = vi.fn();
    handleShortcutKey(key('?', { shiftKey: true }), help, 'other');
    expect(help).toHaveBeenCalledOnce();
    // Gone with their views.
    a.destroy();
    b.destroy();
    c.destroy();
    expect(runShortcut('message-next', 'j')).toBe(false);
  });

  it('never lets the web view reload the app on Ctrl+R, even with nothing to refresh', () => {
    const e = key('r', { ctrlKey: true });
    expect(handleShortcutKey(e, () => {}, 'other')).toBe(false);
    expect(e.defaultPrevented).toBe(true);
  });
});

describe('the shortcut sheet', () => {
  it('lists every shortcut with its keys for the platform, and closes', async () => {
    const onClose = vi.fn();
    render(ShortcutSheet, { onClose, platform: 'other' });
    const rows = screen.getAllByTestId('shortcut-row');
    expect(rows.map((r) => r.dataset['id'])).toEqual(SHORTCUT_GROUPS.flatMap((g) => SHORTCUTS.filter((s) => s.group === g).map((s) => s.id)));
    const search = rows.find((r) => r.dataset['id'] === 'search');
    expect(search?.textContent).toContain('Ctrl');
    expect(search?.textContent).toContain('F');
    await fireEvent.click(screen.getByTestId('shortcut-sheet-close'));
    expect(onClose).toHaveBeenCalledOnce();
  });
});
