// Light and dark: the app follows the system's setting (`prefers-color-scheme`) unless the
// person chose one, and the choice is kept in the web view's local storage, so it holds across
// restarts. The theme is applied as `data-theme` on <html>; app.css maps it to the colour
// variables every view uses.

export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

export const THEME_KEY = 'warren.theme';
export const THEME_CHOICES: readonly { value: ThemeChoice; label: string }[] = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function storage(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** The choice kept in `store`; anything unreadable is "system". */
export function readChoice(store: Store | null = storage()): ThemeChoice {
  let v: string | null = null;
  try {
    v = store?.getItem(THEME_KEY) ?? null;
  } catch {
    v = null;
  }
  return v === 'light' || v === 'dark' || v === 'system' ? v : 'system';
}

/** The theme shown for a choice, given whether the system prefers dark. */
export function resolveTheme(choice: ThemeChoice, systemDark: boolean): Theme {
  return choice === 'system' ? (systemDark ? 'dark' : 'light') : choice;
}

const QUERY = '(prefers-color-scheme: dark)';

function systemQuery(): MediaQueryList | null {
  return typeof globalThis.matchMedia === 'function' ? globalThis.matchMedia(QUERY) : null;
}

function apply(theme: Theme, root: HTMLElement | null = globalThis.document?.documentElement ?? null): void {
  if (!root) return;
  root.dataset['theme'] = theme;
  root.style.colorScheme = theme;
}

/** The app's theme: the choice, the system's preference, and what is shown. */
class ThemeState {
  choice = $state<ThemeChoice>('system');
  systemDark = $state(true);
  readonly theme = $derived<Theme>(resolveTheme(this.choice, this.systemDark));
  #query: MediaQueryList | null = null;
  #listener = (e: MediaQueryListEvent): void => {
    this.systemDark = e.matches;
    apply(this.theme);
  };

  /** Reads the kept choice and the system's setting, applies them and follows the system. */
  start(store: Store | null = storage()): void {
    this.choice = readChoice(store);
    this.#query?.removeEventListener('change', this.#listener);
    this.#query = systemQuery();
    this.systemDark = this.#query ? this.#query.matches : true;
    this.#query?.addEventListener('change', this.#listener);
    apply(this.theme);
  }

  /** A new choice: shown at once and kept. */
  choose(choice: ThemeChoice, store: Store | null = storage()): void {
    this.choice = choice;
    try {
      store?.setItem(THEME_KEY, choice);
    } catch {
      // A full or unavailable storage: the choice holds until the app closes.
    }
    apply(this.theme);
  }
}

export const theme = new ThemeState();
