// Keyboard shortcuts: every one defined once here, with its keys, what it does and where it
// works. The shortcut sheet (`?`) lists this table, and one listener on the window (App.svelte)
// turns a key press into a shortcut and hands it to whatever on screen does it, so a key
// shown in the sheet is the key that works.
//
// Views take part in one of two ways, both tied to an element so that a view hidden in
// another tab never answers:
// - `data-shortcut="ID"` on a button (clicked) or an input (focused): nothing more to write;
// - the `shortcuts` action on an element, with a handler per shortcut id, for anything else.
// Among handlers, the innermost visible one wins (a consumer tab's list over the workspace);
// among elements, the one nearest the focus, else the first on the page.
//
// "Mod" is the platform's command key: ⌘ on macOS, Ctrl on Linux and Windows. Shortcuts
// without a modifier never fire while the focus is in a text field (typing "a" types an "a").

export type ShortcutId =
  | 'help'
  | 'search'
  | 'refresh'
  | 'tab-number'
  | 'tab-next'
  | 'tab-prev'
  | 'peek'
  | 'publish'
  | 'message-next'
  | 'message-prev'
  | 'ack'
  | 'nack-requeue'
  | 'nack'
  | 'reject-requeue'
  | 'reject';

/** One key press: `key` as KeyboardEvent.key (letters in lower case), or "1-9" for any digit. */
export interface KeyCombo {
  key: string;
  /** ⌘ on macOS, Ctrl elsewhere. */
  mod?: boolean;
  /** Ctrl on every platform (Ctrl+Tab switches tabs on macOS too). */
  ctrl?: boolean;
  shift?: boolean;
  alt?: boolean;
}

export interface Shortcut {
  id: ShortcutId;
  /** Alternatives: any one of them triggers the shortcut. The first is the one shown first. */
  keys: readonly KeyCombo[];
  /** What it does, for the sheet. */
  label: string;
  /** Where it works, for the sheet. */
  group: ShortcutGroup;
}

export type ShortcutGroup = 'Anywhere' | 'Cluster workspace' | 'Message lists' | 'Consumer tab';

export const SHORTCUT_GROUPS: readonly ShortcutGroup[] = ['Anywhere', 'Cluster workspace', 'Message lists', 'Consumer tab'];

export const SHORTCUTS: readonly Shortcut[] = [
  { id: 'help', keys: [{ key: '?' }], label: 'Show these shortcuts', group: 'Anywhere' },
  { id: 'search', keys: [{ key: 'f', mod: true }, { key: '/' }], label: 'Search or filter the view', group: 'Anywhere' },
  { id: 'refresh', keys: [{ key: 'r', mod: true }, { key: 'F5' }], label: 'Refresh the view', group: 'Anywhere' },
  { id: 'tab-number', keys: [{ key: '1-9', mod: true }], label: 'Go to tab 1 to 9', group: 'Cluster workspace' },
  {
    id: 'tab-next',
    keys: [{ key: 'Tab', ctrl: true }, { key: 'PageDown', mod: true }],
    label: 'Next tab',
    group: 'Cluster workspace',
  },
  {
    id: 'tab-prev',
    keys: [{ key: 'Tab', ctrl: true, shift: true }, { key: 'PageUp', mod: true }],
    label: 'Previous tab',
    group: 'Cluster workspace',
  },
  { id: 'peek', keys: [{ key: 'Enter', mod: true }], label: 'Peek (Browse tab)', group: 'Cluster workspace' },
  { id: 'publish', keys: [{ key: 'Enter', mod: true }], label: 'Publish (Publish tab)', group: 'Cluster workspace' },
  { id: 'message-next', keys: [{ key: 'j' }], label: 'Next message', group: 'Message lists' },
  { id: 'message-prev', keys: [{ key: 'k' }], label: 'Previous message', group: 'Message lists' },
  { id: 'ack', keys: [{ key: 'a' }], label: 'Ack', group: 'Consumer tab' },
  { id: 'nack-requeue', keys: [{ key: 'n' }], label: 'Nack + requeue', group: 'Consumer tab' },
  { id: 'nack', keys: [{ key: 'n', shift: true }], label: 'Nack (no requeue: dead-letter or drop)', group: 'Consumer tab' },
  { id: 'reject-requeue', keys: [{ key: 'r' }], label: 'Reject + requeue', group: 'Consumer tab' },
  { id: 'reject', keys: [{ key: 'r', shift: true }], label: 'Reject (no requeue: dead-letter or drop)', group: 'Consumer tab' },
];

export type Platform = 'mac' | 'other';

/** The platform whose modifier "Mod" means, from the browser's own description. */
export function detectPlatform(nav: { platform?: string; userAgent?: string } | undefined = globalThis.navigator): Platform {
  const text = `${nav?.platform ?? ''} ${nav?.userAgent ?? ''}`;
  return /Mac|iPhone|iPad/.test(text) ? 'mac' : 'other';
}

/** The part of a KeyboardEvent a shortcut is matched on. */
export type KeyPress = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'> & { code?: string };

/**
 * The key pressed. WebKitGTK names Shift+Tab (GTK's ISO_Left_Tab) "Unidentified": its
 * physical key says Tab.
 */
function keyOf(e: KeyPress): string {
  if (e.key === 'Unidentified' && e.code === 'Tab') return 'Tab';
  return e.key.length === 1 ? e.key.toLowerCase() : e.key;
}

/** Keys whose character already says whether Shift was held ("?" is Shift+/ on many layouts). */
function shiftIsInTheCharacter(key: string): boolean {
  return key.length === 1 && !/[a-z0-9]/i.test(key);
}

function matches(combo: KeyCombo, e: KeyPress, platform: Platform): boolean {
  const key = keyOf(e);
  if (combo.key === '1-9' ? !/^[1-9]$/.test(key) : combo.key !== key) return false;
  const wantCtrl = combo.ctrl === true || (combo.mod === true && platform === 'other');
  const wantMeta = combo.mod === true && platform === 'mac';
  if (e.ctrlKey !== wantCtrl || e.metaKey !== wantMeta || e.altKey !== (combo.alt === true)) return false;
  return shiftIsInTheCharacter(key) || e.shiftKey === (combo.shift === true);
}

/** Does a combo use a modifier (and so work while typing in a field)? */
export function hasModifier(combo: KeyCombo): boolean {
  return combo.mod === true || combo.ctrl === true || combo.alt === true || combo.key.length > 1;
}

export interface Match {
  /** Every shortcut the press means (one key may mean Peek or Publish: the view decides). */
  ids: ShortcutId[];
  /** The key pressed (the digit of "Go to tab N"). */
  key: string;
}

/**
 * The shortcuts a key press means, or null. `typing` (the focus is in a text field) leaves out
 * the shortcuts without a modifier.
 */
export function matchShortcut(e: KeyPress, platform: Platform, typing: boolean, table: readonly Shortcut[] = SHORTCUTS): Match | null {
  const ids = table
    .filter((s) => s.keys.some((k) => matches(k, e, platform) && (!typing || hasModifier(k))))
    .map((s) => s.id);
  return ids.length > 0 ? { ids, key: e.key } : null;
}

const MAC_NAMES: Record<string, string> = { mod: '⌘', ctrl: '⌃', shift: '⇧', alt: '⌥' };
const KEY_NAMES: Record<string, string> = { '1-9': '1…9', PageDown: 'Page Down', PageUp: 'Page Up', Enter: 'Enter', Tab: 'Tab' };

/** The combo as the platform writes it: "Ctrl+Shift+Tab", "⌘F". */
export function comboLabel(combo: KeyCombo, platform: Platform): string[] {
  const key = KEY_NAMES[combo.key] ?? (combo.key.length === 1 ? combo.key.toUpperCase() : combo.key);
  const parts: string[] = [];
  if (platform === 'mac') {
    if (combo.ctrl) parts.push(MAC_NAMES['ctrl'] ?? 'Ctrl');
    if (combo.alt) parts.push(MAC_NAMES['alt'] ?? 'Alt');
    if (combo.shift) parts.push(MAC_NAMES['shift'] ?? 'Shift');
    if (combo.mod) parts.push(MAC_NAMES['mod'] ?? 'Cmd');
  } else {
    if (combo.mod || combo.ctrl) parts.push('Ctrl');
    if (combo.alt) parts.push('Alt');
    if (combo.shift) parts.push('Shift');
  }
  // "?" is typed as it is; a letter shows in upper case, as on the key cap.
  parts.push(combo.key === '?' ? '?' : key);
  return parts;
}

/** The first shortcut key of `id`, as the platform writes it, for tooltips ("Peek (Ctrl+Enter)"). */
export function shortcutHint(id: ShortcutId, platform: Platform = detectPlatform()): string {
  const combo = SHORTCUTS.find((s) => s.id === id)?.keys[0];
  return combo ? comboLabel(combo, platform).join(platform === 'mac' ? '' : '+') : '';
}

// ---- dispatch ----

/** Handlers a view registers with the `shortcuts` action; returning false passes the key on. */
export type ShortcutHandlers = Partial<Record<ShortcutId, (key: string) => boolean | void>>;

interface Scope {
  node: HTMLElement;
  handlers: ShortcutHandlers;
}

const scopes: Scope[] = [];

/**
 * A Svelte action: `use:shortcuts={{ 'message-next': () => move(1) }}`. The handlers answer
 * only while the element is visible.
 */
export function shortcuts(node: HTMLElement, handlers: ShortcutHandlers): { update: (h: ShortcutHandlers) => void; destroy: () => void } {
  const scope: Scope = { node, handlers };
  scopes.push(scope);
  return {
    update(h: ShortcutHandlers) {
      scope.handlers = h;
    },
    destroy() {
      const i = scopes.indexOf(scope);
      if (i >= 0) scopes.splice(i, 1);
    },
  };
}

/** On screen: attached, not inside a hidden panel, and laid out where layout is known. */
export function isShown(el: Element): boolean {
  if (!el.isConnected || el.closest('[hidden], [inert]') !== null) return false;
  const check = (el as Element & { checkVisibility?: () => boolean }).checkVisibility;
  return typeof check === 'function' ? check.call(el) : true;
}

function depth(el: Element): number {
  let d = 0;
  for (let p = el.parentElement; p; p = p.parentElement) d++;
  return d;
}

/** Innermost first; among equals, the one registered (or found) last. */
function innermostFirst<T>(items: T[], el: (t: T) => Element): T[] {
  return items
    .map((t, i) => ({ t, i, d: depth(el(t)) }))
    .sort((a, b) => b.d - a.d || b.i - a.i)
    .map((x) => x.t);
}

function isTextField(el: Element): el is HTMLInputElement | HTMLTextAreaElement {
  return el instanceof HTMLTextAreaElement || (el instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(el.type));
}

/** Is the focus somewhere that takes typed text? */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (isTextField(target) || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLElement && target.isContentEditable;
}

/** How deep the nearest ancestor shared by `a` and `b` is (0: only the document). */
function sharedDepth(a: Element, b: Element | null): number {
  if (!b) return 0;
  const chain = new Set<Element>();
  for (let p: Element | null = b; p; p = p.parentElement) chain.add(p);
  for (let p: Element | null = a; p; p = p.parentElement) if (chain.has(p)) return depth(p);
  return 0;
}

/**
 * Does shortcut `id` on the view on screen: the innermost visible handler that takes it, else
 * a visible enabled `[data-shortcut~=id]` element (an input is focused, anything else
 * clicked): the one nearest the focus, else the first in the page (the main filter of a view
 * before the search of its detail pane). Returns whether something did it.
 */
export function runShortcut(id: ShortcutId, key: string, root: ParentNode = document): boolean {
  const live = scopes.filter((s) => s.handlers[id] !== undefined && isShown(s.node));
  for (const s of innermostFirst(live, (x) => x.node)) {
    if (s.handlers[id]?.(key) !== false) return true;
  }
  const focus = globalThis.document?.activeElement ?? null;
  const targets = [...root.querySelectorAll<HTMLElement>(`[data-shortcut~="${id}"]`)]
    .filter((el) => isShown(el) && !(el as HTMLButtonElement).disabled)
    .map((el, i) => ({ el, i, near: sharedDepth(el, focus) }))
    .sort((a, b) => b.near - a.near || a.i - b.i);
  const target = targets[0]?.el;
  if (!target) return false;
  if (isTextField(target)) {
    target.focus();
    target.select();
  } else {
    target.click();
  }
  return true;
}

/**
 * The window's keydown handler: finds the shortcut the press means and runs it; a press that
 * did something is not passed on to the web view (Ctrl+F, Ctrl+R, F5 have their own meanings
 * there). `onHelp` opens the sheet.
 */
export function handleShortcutKey(e: KeyboardEvent, onHelp: () => void, platform: Platform = detectPlatform()): boolean {
  if (e.defaultPrevented || e.isComposing) return false;
  const m = matchShortcut(e, platform, isTyping(e.target));
  if (!m) return false;
  for (const id of m.ids) {
    const done = id === 'help' ? (onHelp(), true) : runShortcut(id, m.key);
    if (done) {
      e.preventDefault();
      return true;
    }
  }
  // Nothing to refresh here, but the web view must not reload the app in its place.
  if (m.ids.includes('refresh')) e.preventDefault();
  return false;
}
