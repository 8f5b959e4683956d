// Ticking rows of a message list with the mouse, as file managers do: a click opens a row and
// becomes the anchor; Ctrl (⌘) + click ticks or unticks one row; Shift + click ticks every row
// from the anchor to the one clicked. What is ticked is what "selected" actions act on.

export interface ClickModifiers {
  /** Shift: tick the range from the anchor. */
  range: boolean;
  /** Ctrl or ⌘: tick or untick the one row. */
  toggle: boolean;
}

export interface ClickResult {
  /** The rows to tick (added) and untick (removed), in index order. */
  add: number[];
  remove: number[];
  /** The anchor for the next Shift + click. */
  anchor: number;
}

/** What a click on row `index` does to the ticked rows `checked`. */
export function clickRows(
  checked: ReadonlySet<number>,
  anchor: number | null,
  index: number,
  mods: ClickModifiers,
): ClickResult {
  if (mods.range) {
    const from = anchor ?? index;
    const [lo, hi] = from <= index ? [from, index] : [index, from];
    const add: number[] = [];
    for (let i = lo; i <= hi; i++) if (!checked.has(i)) add.push(i);
    // The anchor stays, so a second Shift + click extends from the same row.
    return { add, remove: [], anchor: from };
  }
  if (mods.toggle) {
    return checked.has(index) ? { add: [], remove: [index], anchor: index } : { add: [index], remove: [], anchor: index };
  }
  return { add: [], remove: [], anchor: index };
}
