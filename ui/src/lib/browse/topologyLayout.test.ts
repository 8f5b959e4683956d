import { describe, expect, it } from 'vitest';

import type { Topology } from '../bindings/Topology';
import { clip, COL_GAP, edgeLabel, layoutTopology, NODE_W, PAD } from './topologyLayout';
import { topologyAroundQueue } from '../../test/browseFixtures';

describe('layoutTopology', () => {
  it('puts upstream left, the focus in the middle, downstream right', () => {
    const t: Topology = {
      focus: 'e:orders',
      truncated: false,
      nodes: [
        { id: 'e:in', kind: 'exchange', name: 'in', exchange_type: 'fanout', depth: -1 },
        { id: 'e:orders', kind: 'exchange', name: 'orders', exchange_type: 'topic', depth: 0 },
        { id: 'q:a', kind: 'queue', name: 'a', exchange_type: null, depth: 1 },
        { id: 'q:b', kind: 'queue', name: 'b', exchange_type: null, depth: 1 },
      ],
      edges: [
        { from: 'e:in', to: 'e:orders', routing_key: '', arguments: {} },
        { from: 'e:orders', to: 'q:a', routing_key: 'order.#', arguments: {} },
        { from: 'e:orders', to: 'q:b', routing_key: '', arguments: {} },
        { from: 'e:orders', to: 'e:in', routing_key: 'loop', arguments: {} },
      ],
    };
    const l = layoutTopology(t);
    expect(l.columns).toEqual([-1, 0, 1]);
    const x = Object.fromEntries(l.nodes.map((n) => [n.node.id, n.x]));
    expect(x['e:in']).toBe(PAD);
    expect(x['e:orders']).toBe(PAD + NODE_W + COL_GAP);
    expect(x['q:a']).toBe(PAD + 2 * (NODE_W + COL_GAP));
    expect(l.nodes.filter((n) => n.focus).map((n) => n.node.id)).toEqual(['e:orders']);
    const a = l.nodes.find((n) => n.node.id === 'q:a');
    const b = l.nodes.find((n) => n.node.id === 'q:b');
    expect(a && b && b.y > a.y).toBe(true);
    expect(l.edges.map((e) => [e.label, e.back])).toEqual([
      ['(fanout)', false],
      ['order.#', false],
      ['""', false],
      ['loop', true],
    ]);
    expect(l.width).toBe(PAD * 2 + 3 * NODE_W + 2 * COL_GAP);
    expect(l.height).toBeGreaterThan(0);
  });

  it('lays out the fixture around a queue with nothing downstream', () => {
    const l = layoutTopology(topologyAroundQueue());
    expect(Math.max(...l.columns)).toBe(0);
    expect(l.nodes.find((n) => n.focus)?.node.kind).toBe('queue');
  });

  it('is empty for no nodes', () => {
    expect(layoutTopology({ focus: 'q:x', nodes: [], edges: [], truncated: false })).toMatchObject({ width: 0, height: 0 });
  });
});

describe('edgeLabel', () => {
  it('shows header matches with x-match', () => {
    expect(edgeLabel({ routing_key: '', arguments: { 'x-match': 'any', b: 2, a: 'x' } }, 'headers')).toBe('any: a=x, b=2');
    expect(edgeLabel({ routing_key: '', arguments: {} }, 'headers')).toBe('all: (no headers)');
    expect(edgeLabel({ routing_key: 'k', arguments: {} }, 'direct')).toBe('k');
  });
});

describe('clip', () => {
  it('shortens with an ellipsis', () => {
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('abc', 4)).toBe('abc');
  });
});
