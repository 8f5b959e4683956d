// What one JSON view holds while it is shown: the open containers, those showing all their
// children, the selected node, the search and its current match.

import { SvelteSet } from 'svelte/reactivity';

import { expandAllPaths, initiallyOpen, nodeAt, ROOT, searchJson, type JsonMatch, type JsonNode } from './jsonView';

/** A search opens the containers of at most this many matches at once; the rest as stepped to. */
const REVEAL_LIMIT = 200;

export class JsonViewState {
  readonly root: JsonNode;
  readonly open: SvelteSet<string>;
  readonly showAll = new SvelteSet<string>();
  selected = $state<string>(ROOT);
  query = $state('');
  /** Index of the current match in `matches`. */
  current = $state(0);
  /** "Expand all" left some containers closed (too many rows). */
  partial = $state(false);
  readonly search: { matches: JsonMatch[]; truncated: boolean };
  readonly matches: JsonMatch[];
  readonly matchPaths: Set<string>;
  readonly currentPath: string | null;
  readonly selectedNode: JsonNode | null;

  constructor(root: JsonNode) {
    this.root = root;
    this.open = new SvelteSet(initiallyOpen(root));
    this.search = $derived(searchJson(root, this.query));
    this.matches = $derived(this.search.matches);
    this.matchPaths = $derived(new Set(this.matches.map((m) => m.path)));
    this.currentPath = $derived(this.matches[this.current]?.path ?? null);
    this.selectedNode = $derived(nodeAt(root, this.selected));
  }

  toggle(path: string): void {
    if (this.open.has(path)) this.open.delete(path);
    else this.open.add(path);
  }

  expandAll(): void {
    const { paths, complete } = expandAllPaths(this.root);
    for (const p of paths) this.open.add(p);
    this.partial = !complete;
  }

  collapseAll(): void {
    this.open.clear();
    this.partial = false;
  }

  setQuery(q: string): void {
    this.query = q;
    this.current = 0;
    // Every match in sight (the first REVEAL_LIMIT of them), the first one selected.
    for (const m of this.matches.slice(0, REVEAL_LIMIT)) for (const a of m.ancestors) this.open.add(a);
    this.reveal();
  }

  /** Moves to the next (+1) or previous (-1) match, wrapping around. */
  step(delta: number): void {
    const n = this.matches.length;
    if (n === 0) return;
    this.current = (this.current + delta + n) % n;
    this.reveal();
  }

  /** Opens what hides the current match and selects it. */
  reveal(): void {
    const m = this.matches[this.current];
    if (!m) return;
    for (const a of m.ancestors) this.open.add(a);
    for (const a of m.beyondLimit) this.showAll.add(a);
    this.selected = m.path;
  }
}
