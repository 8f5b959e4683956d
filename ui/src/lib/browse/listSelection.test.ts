import { describe, expect, it } from 'vitest';

import { clickRows } from './listSelection';

const plain = { range: false, toggle: false };
const ctrl = { range: false, toggle: true };
const shift = { range: true, toggle: false };

describe('clickRows', () => {
  it('a plain click ticks nothing and moves the anchor', () => {
    expect(clickRows(new Set([1, 2]), 0, 5, plain)).toEqual({ add: [], remove: [], anchor: 5 });
  });

  it('Ctrl + click ticks and unticks one row', () => {
    expect(clickRows(new Set([1]), null, 4, ctrl)).toEqual({ add: [4], remove: [], anchor: 4 });
    expect(clickRows(new Set([1, 4]), 1, 4, ctrl)).toEqual({ add: [], remove: [4], anchor: 4 });
  });

  it('Shift + click ticks the range from the anchor, either way, keeping what was ticked', () => {
    expect(clickRows(new Set([3]), 2, 5, shift)).toEqual({ add: [2, 4, 5], remove: [], anchor: 2 });
    expect(clickRows(new Set(), 6, 3, shift)).toEqual({ add: [3, 4, 5, 6], remove: [], anchor: 6 });
  });

  it('Shift + click without an anchor ticks the row clicked', () => {
    expect(clickRows(new Set(), null, 7, shift)).toEqual({ add: [7], remove: [], anchor: 7 });
  });
});
