// Where the routing picture puts its nodes and edges: one column per depth (upstream on the
// left, the focus in the middle, downstream on the right), nodes stacked in each column.
// Pure, so that the picture's geometry is unit-tested; TopologyGraph.svelte only draws it.

import type { Topology } from '../bindings/Topology';
import type { TopologyEdge } from '../bindings/TopologyEdge';
import type { TopologyNode } from '../bindings/TopologyNode';

export const NODE_W = 180;
export const NODE_H = 40;
export const COL_GAP = 150;
export const ROW_GAP = 18;
export const PAD = 24;

export interface PlacedNode {
  node: TopologyNode;
  x: number;
  y: number;
  w: number;
  h: number;
  focus: boolean;
}

export interface PlacedEdge {
  edge: TopologyEdge;
  /** SVG path data. */
  path: string;
  label: string;
  labelX: number;
  labelY: number;
  /** Goes to the same or an earlier column (a cycle, or a second path): drawn as a loop. */
  back: boolean;
}

export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  /** Depths present, left to right. */
  columns: number[];
}

/** What an edge says: the routing key, or the header match for headers bindings. */
export function edgeLabel(edge: Pick<TopologyEdge, 'routing_key' | 'arguments'>, sourceType: string | null = null): string {
  const args = edge.arguments;
  const keys = Object.keys(args).filter((k) => k !== 'x-match');
  if (sourceType === 'headers' || 'x-match' in args) {
    const match = typeof args['x-match'] === 'string' ? args['x-match'] : 'all';
    const pairs = keys.sort().map((k) => `${k}=${typeof args[k] === 'string' ? String(args[k]) : JSON.stringify(args[k])}`);
    return `${match}: ${pairs.join(', ') || '(no headers)'}`;
  }
  if (sourceType === 'fanout') return edge.routing_key === '' ? '(fanout)' : `(fanout) ${edge.routing_key}`;
  return edge.routing_key === '' ? '""' : edge.routing_key;
}

/** Shortens text to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

export function layoutTopology(t: Topology): Layout {
  const byDepth = new Map<number, TopologyNode[]>();
  for (const n of t.nodes) {
    const col = byDepth.get(n.depth) ?? [];
    col.push(n);
    byDepth.set(n.depth, col);
  }
  const columns = [...byDepth.keys()].sort((a, b) => a - b);
  const tallest = Math.max(0, ...[...byDepth.values()].map((c) => c.length));
  const colHeight = (n: number) => n * NODE_H + Math.max(0, n - 1) * ROW_GAP;
  const innerHeight = colHeight(tallest);

  const placed = new Map<string, PlacedNode>();
  columns.forEach((depth, ci) => {
    const col = [...(byDepth.get(depth) ?? [])].sort(
      (a, b) => Number(a.kind === 'queue') - Number(b.kind === 'queue') || a.name.localeCompare(b.name),
    );
    const top = PAD + (innerHeight - colHeight(col.length)) / 2;
    col.forEach((node, ri) => {
      placed.set(node.id, {
        node,
        x: PAD + ci * (NODE_W + COL_GAP),
        y: top + ri * (NODE_H + ROW_GAP),
        w: NODE_W,
        h: NODE_H,
        focus: node.id === t.focus,
      });
    });
  });

  const colIndex = new Map(columns.map((d, i) => [d, i]));
  const edges: PlacedEdge[] = [];
  for (const edge of t.edges) {
    const a = placed.get(edge.from);
    const b = placed.get(edge.to);
    if (!a || !b) continue;
    const label = edgeLabel(edge, a.node.exchange_type);
    const back = (colIndex.get(b.node.depth) ?? 0) <= (colIndex.get(a.node.depth) ?? 0);
    if (!back) {
      const x1 = a.x + a.w;
      const y1 = a.y + a.h / 2;
      const x2 = b.x;
      const y2 = b.y + b.h / 2;
      const dx = (x2 - x1) / 2;
      edges.push({
        edge,
        path: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`,
        label,
        labelX: (x1 + x2) / 2,
        labelY: (y1 + y2) / 2 - 4,
        back,
      });
    } else {
      // Out of the source's bottom, round below, into the target's bottom.
      const x1 = a.x + a.w / 2 + 10;
      const y1 = a.y + a.h;
      const x2 = b.x + b.w / 2 - 10;
      const y2 = b.y + b.h;
      const low = Math.max(y1, y2) + ROW_GAP + 10;
      edges.push({
        edge,
        path: `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`,
        label,
        labelX: (x1 + x2) / 2,
        labelY: low - 2,
        back,
      });
    }
  }

  const width = columns.length === 0 ? 0 : PAD * 2 + columns.length * NODE_W + (columns.length - 1) * COL_GAP;
  const hasBack = edges.some((e) => e.back);
  const height = tallest === 0 ? 0 : PAD * 2 + innerHeight + (hasBack ? ROW_GAP + 20 : 0);
  return { width, height, nodes: [...placed.values()], edges, columns };
}
