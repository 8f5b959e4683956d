import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import { topologyAroundQueue } from '../../test/browseFixtures';
import TopologyGraph from './TopologyGraph.svelte';

describe('TopologyGraph', () => {
  it('draws nodes by depth, labels edges, and re-focuses on a click or Enter', async () => {
    const onFocus = vi.fn();
    render(TopologyGraph, { topology: topologyAroundQueue(), onFocus });
    const nodes = screen.getAllByTestId('topology-node');
    expect(nodes.map((n) => n.dataset['node'])).toEqual(['e:ingress', 'e:amq.headers', 'e:orders', 'q:orders']);
    expect(nodes.find((n) => n.dataset['node'] === 'q:orders')?.getAttribute('class')).toContain('focus');
    const labels = screen.getAllByTestId('topology-edge').map((e) => e.dataset['label']);
    expect(labels).toEqual(['(fanout)', 'order.#', 'any: region=eu']);
    expect(screen.queryByTestId('topology-truncated')).toBeNull();
    expect(screen.getByTestId('topology').textContent).toContain('default exchange');

    await fireEvent.click(nodes[0] as Element);
    expect(onFocus).toHaveBeenCalledWith(expect.objectContaining({ id: 'e:ingress' }));
    await fireEvent.keyDown(nodes[2] as Element, { key: 'Enter' });
    expect(onFocus).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'e:orders' }));
    await fireEvent.click(nodes[3] as Element);
    expect(onFocus).toHaveBeenCalledTimes(2);
  });

  it('says when the graph was cut', () => {
    render(TopologyGraph, { topology: { ...topologyAroundQueue(), truncated: true } });
    expect(screen.getByTestId('topology-truncated')).toBeTruthy();
  });
});
