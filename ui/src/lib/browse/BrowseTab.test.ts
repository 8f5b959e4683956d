import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  harmfulPlan,
  inspectionSummary,
  messageDetail,
  peekPlan,
  queuePage,
  rowsOf,
} from '../../test/browseFixtures';
import type { OperationHandlers } from '../backend';
import type { InspectionSummary } from '../bindings/InspectionSummary';
import type { PeekProgress } from '../bindings/PeekProgress';

const backend = vi.hoisted(() => ({
  listQueues: vi.fn(),
  planPeek: vi.fn(),
  startPeek: vi.fn(),
  cancelOperation: vi.fn(),
  filterInspection: vi.fn(),
  inspectionRows: vi.fn(),
  inspectionMessage: vi.fn(),
  inspectionBody: vi.fn(),
  saveInspectionBody: vi.fn(),
  saveMessages: vi.fn(),
  suggestSavePath: vi.fn(),
  closeInspection: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import BrowseTab from './BrowseTab.svelte';

const TOTAL = 100_000;
const onEditResend = vi.fn();
const props = () => ({
  name: 'prod',
  vhost: '/',
  target: { vhost: '/', queue: 'orders', type: 'classic' as const },
  onEditResend,
});

async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: false });
  for (const f of Object.values(backend)) f.mockReset();
  onEditResend.mockReset();
  backend.listQueues.mockResolvedValue(queuePage([]));
  backend.planPeek.mockResolvedValue(peekPlan({ count: TOTAL }));
  backend.startPeek.mockResolvedValue(inspectionSummary(TOTAL));
  backend.inspectionRows.mockImplementation(rowsOf(TOTAL));
  backend.inspectionMessage.mockImplementation((_id: number, index: number) => Promise.resolve(messageDetail(index)));
  backend.suggestSavePath.mockResolvedValue('/tmp/orders.jsonl');
  backend.closeInspection.mockResolvedValue(undefined);
  backend.cancelOperation.mockResolvedValue(undefined);
});

afterEach(() => {
  vi.useRealTimers();
});

async function peekAll(): Promise<void> {
  render(BrowseTab, { props: props() });
  await settle();
  await fireEvent.input(screen.getByTestId('peek-count'), { target: { value: String(TOTAL) } });
  await fireEvent.click(screen.getByTestId('peek-start'));
  await settle();
}

describe('BrowseTab: peek', () => {
  it('runs a harmless peek without asking', async () => {
    await peekAll();
    expect(backend.planPeek).toHaveBeenCalledWith('prod', {
      vhost: '/',
      queue: 'orders',
      count: TOTAL,
      allow_side_effects: false,
    });
    expect(screen.queryByTestId('peek-consent')).toBeNull();
    expect(backend.startPeek).toHaveBeenCalledTimes(1);
    expect(backend.startPeek.mock.calls[0]?.[1]).toMatchObject({ allow_side_effects: false });
    expect(screen.getByTestId('message-count').textContent).toBe('100,000 of 100,000');
  });

  it('asks before a peek with side effects, listing each effect, and runs only after consent', async () => {
    backend.planPeek.mockResolvedValue(harmfulPlan());
    await peekAll();
    const dialog = screen.getByTestId('peek-consent');
    expect(within(dialog).getAllByTestId('peek-effect').map((e) => e.dataset['kind'])).toEqual([
      'delivery_count',
      'limit_exceeded',
    ]);
    expect(within(dialog).getByTestId('peek-delivery-limit').textContent).toBe('20');
    expect(within(dialog).getByTestId('peek-over-limit').textContent).toBe('dead-lettered to dlx');
    // The order the peek will show, as the plan states it (a 4.0-4.2 quorum queue).
    const order = within(dialog).getByTestId('peek-order');
    expect(order.dataset['order']).toBe('high_then_normal_two_to_one');
    expect(order.textContent).toContain('priority above 4 first, two of those for each other message');
    expect(screen.getByTestId('peek-plan-order').textContent).toContain('priority above 4 first');
    expect(backend.startPeek).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByTestId('peek-consent-accept'));
    await settle();
    expect(backend.startPeek).toHaveBeenCalledTimes(1);
    expect(backend.startPeek.mock.calls[0]?.[1]).toMatchObject({ queue: 'orders', allow_side_effects: true });
    expect(screen.queryByTestId('peek-consent')).toBeNull();
  });

  it('says in what order the peek shows the messages: the order a consumer gets them', async () => {
    const plan = peekPlan({
      queue_type: 'quorum',
      broker_version: '4.3.6',
      order: 'highest_priority_first',
      count: TOTAL,
    });
    backend.planPeek.mockResolvedValue(plan);
    backend.startPeek.mockResolvedValue(
      inspectionSummary(TOTAL, {
        report: { plan, received: TOTAL, end: 'count_reached', endpoint: '127.0.0.1:5791', elapsed_ms: 900, held_bytes: 0, budget_bytes: 256 * 1024 * 1024, returned_by_broker: null },
      }),
    );
    await peekAll();
    const order = screen.getByTestId('inspection-order');
    expect(order.textContent).toBe('priority order');
    expect(order.getAttribute('title')).toBe(
      'highest priority first, first in first out within a priority, as a consumer gets them',
    );
  });

  it('does not run when consent is refused', async () => {
    backend.planPeek.mockResolvedValue(harmfulPlan());
    await peekAll();
    await fireEvent.click(screen.getByTestId('peek-consent-cancel'));
    await settle();
    expect(screen.queryByTestId('peek-consent')).toBeNull();
    expect(backend.startPeek).not.toHaveBeenCalled();
  });

  it('shows progress and cancels the running peek by the id the backend gave it', async () => {
    let handlers: OperationHandlers<PeekProgress> | null = null;
    backend.startPeek.mockImplementation((_n: string, _r: unknown, h: OperationHandlers<PeekProgress>) => {
      handlers = h;
      return new Promise(() => {});
    });
    await peekAll();
    handlers!.onStarted(417);
    handlers!.onProgress({ received: 250, expected: 1000, phase: 'receiving' });
    await settle();
    const bar = screen.getByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('250');
    expect(bar.getAttribute('aria-valuemax')).toBe('1000');
    await fireEvent.click(screen.getByTestId('peek-cancel'));
    expect(backend.cancelOperation).toHaveBeenCalledWith(417);
  });

  it('sends a Cancel pressed before the peek started as soon as its id arrives', async () => {
    let handlers: OperationHandlers<PeekProgress> | null = null;
    backend.startPeek.mockImplementation((_n: string, _r: unknown, h: OperationHandlers<PeekProgress>) => {
      handlers = h;
      return new Promise(() => {});
    });
    await peekAll();
    await fireEvent.click(screen.getByTestId('peek-cancel'));
    expect(backend.cancelOperation).not.toHaveBeenCalled();
    handlers!.onStarted(9);
    expect(backend.cancelOperation).toHaveBeenCalledTimes(1);
    expect(backend.cancelOperation).toHaveBeenCalledWith(9);
  });

  it('cancels in each tab the peek of that tab, whatever the tabs count', async () => {
    // Two Browse tabs (two clusters' workspaces), each with its peek running: the ids are the
    // backend's, so Cancel in one tab cannot reach the other's peek.
    const started: OperationHandlers<PeekProgress>[] = [];
    backend.startPeek.mockImplementation((_n: string, _r: unknown, h: OperationHandlers<PeekProgress>) => {
      started.push(h);
      h.onStarted(started.length + 100);
      return new Promise(() => {});
    });
    const first = render(BrowseTab, { props: props() });
    const second = render(BrowseTab, { props: { ...props(), name: 'staging' } });
    await settle();
    await fireEvent.click(within(first.container).getByTestId('peek-start'));
    await settle();
    await fireEvent.click(within(second.container).getByTestId('peek-start'));
    await settle();
    expect(started).toHaveLength(2);
    await fireEvent.click(within(second.container).getByTestId('peek-cancel'));
    expect(backend.cancelOperation.mock.calls).toEqual([[102]]);
    await fireEvent.click(within(first.container).getByTestId('peek-cancel'));
    expect(backend.cancelOperation.mock.calls).toEqual([[102], [101]]);
  });

  it('closing the tab cancels its running peek and closes the inspection it brings later', async () => {
    let handlers: OperationHandlers<PeekProgress> | null = null;
    let finish: (s: InspectionSummary) => void = () => {};
    backend.startPeek.mockImplementation((_n: string, _r: unknown, h: OperationHandlers<PeekProgress>) => {
      handlers = h;
      return new Promise<InspectionSummary>((resolve) => (finish = resolve));
    });
    const view = render(BrowseTab, { props: props() });
    await settle();
    await fireEvent.click(screen.getByTestId('peek-start'));
    await settle();
    handlers!.onStarted(55);
    view.unmount();
    expect(backend.cancelOperation).toHaveBeenCalledWith(55);
    // The backend had already finished: the inspection it made is freed, not leaked.
    finish(inspectionSummary(10, { id: 8 }));
    await settle();
    expect(backend.closeInspection).toHaveBeenCalledWith(8);
  });

  it('closing the tab closes the inspection it shows', async () => {
    const view = render(BrowseTab, { props: props() });
    await settle();
    await fireEvent.click(screen.getByTestId('peek-start'));
    await settle();
    expect(screen.getByTestId('inspector')).toBeTruthy();
    view.unmount();
    expect(backend.closeInspection).toHaveBeenCalledWith(7);
    expect(backend.cancelOperation).not.toHaveBeenCalled();
  });

  it('offers the offset picker for streams', async () => {
    render(BrowseTab, { props: { ...props(), target: { vhost: '/', queue: 'events', type: 'stream' } } });
    await settle();
    await fireEvent.change(screen.getByTestId('peek-offset-kind'), { target: { value: 'offset' } });
    await fireEvent.input(screen.getByTestId('peek-offset'), { target: { value: '5000' } });
    await fireEvent.click(screen.getByTestId('peek-start'));
    await settle();
    expect(backend.planPeek.mock.calls[0]?.[1]).toMatchObject({ queue: 'events', offset: { kind: 'offset', value: 5000 } });
  });
});

describe('BrowseTab: the inspector', () => {
  it('fetches only the rows of the visible window, block by block', async () => {
    await peekAll();
    expect(backend.inspectionRows.mock.calls).toEqual([[7, 0, 200, []]]);
    const rows = screen.getAllByTestId('message-row');
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(50);
    expect(rows[0]?.dataset['position']).toBe('1');

    const list = screen.getByTestId('message-list');
    list.scrollTop = 24 * 50_000;
    await fireEvent.scroll(list);
    await settle();
    // A jump (a scrollbar's drag) asks for rows only once the list has rested.
    expect(backend.inspectionRows).toHaveBeenCalledTimes(1);
    expect(screen.getAllByTestId('message-row-pending').length).toBeGreaterThan(10);
    await settle(100);
    expect(backend.inspectionRows.mock.calls.slice(1)).toEqual([
      [7, 49_800, 200, []],
      [7, 50_000, 200, []],
    ]);
    const positions = screen.getAllByTestId('message-row').map((r) => Number(r.dataset['position']));
    expect(positions.length).toBeLessThan(50);
    expect(positions).toContain(50_001);
    expect(Math.min(...positions)).toBeGreaterThan(49_900);

    // Back to the top: the first block is still cached.
    list.scrollTop = 0;
    await fireEvent.scroll(list);
    await settle(100);
    expect(screen.getAllByTestId('message-row')[0]?.dataset['position']).toBe('1');
    expect(backend.inspectionRows).toHaveBeenCalledTimes(3);
  });

  it('adds header columns: rows are fetched again with their values, at the same place', async () => {
    await peekAll();
    const list = screen.getByTestId('message-list');
    list.scrollTop = 24 * 1_000;
    await fireEvent.scroll(list);
    await settle(100);
    backend.inspectionRows.mockClear();
    const menu = screen.getByTestId('header-columns');
    await fireEvent.click(within(menu).getByRole('checkbox', { name: 'tenant' }));
    await settle();
    expect(backend.inspectionRows.mock.calls).toEqual([
      [7, 800, 200, ['tenant']],
      [7, 1_000, 200, ['tenant']],
    ]);
    expect(list.scrollTop).toBe(24_000);
    expect(screen.getByRole('columnheader', { name: 'tenant' })).toBeTruthy();
  });

  it('keeps the view when the filter is rejected, and applies a valid one', async () => {
    await peekAll();
    backend.filterInspection.mockRejectedValueOnce({ kind: 'invalid_input', message: 'filter: not a valid regular expression: unclosed group' });
    await fireEvent.click(screen.getByTestId('message-filter-regex'));
    await fireEvent.input(screen.getByTestId('message-filter'), { target: { value: '(order' } });
    await settle(250);
    expect(backend.filterInspection).toHaveBeenCalledWith(7, {
      text: '(order',
      regex: true,
      case_sensitive: false,
      scope: 'everything',
      field: null,
    });
    expect(screen.getByTestId('filter-error').textContent).toContain('not a valid regular expression');
    expect(screen.getByTestId('message-filter').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('message-count').textContent).toBe('100,000 of 100,000');
    expect(screen.getAllByTestId('message-row').length).toBeGreaterThan(10);
    expect(backend.inspectionRows).toHaveBeenCalledTimes(1);

    backend.filterInspection.mockResolvedValueOnce({ total: TOTAL, matched: 12 });
    backend.inspectionRows.mockImplementation(rowsOf(12));
    await fireEvent.input(screen.getByTestId('message-filter'), { target: { value: 'order\\.1' } });
    await settle(250);
    expect(screen.queryByTestId('filter-error')).toBeNull();
    expect(screen.getByTestId('message-count').textContent).toBe('12 of 100,000');
    expect(backend.inspectionRows).toHaveBeenLastCalledWith(7, 0, 12, []);
    expect(screen.getAllByTestId('message-row')).toHaveLength(12);
  });

  it('debounces the filter', async () => {
    await peekAll();
    backend.filterInspection.mockResolvedValue({ total: TOTAL, matched: 5 });
    for (const text of ['o', 'or', 'ord']) {
      await fireEvent.input(screen.getByTestId('message-filter'), { target: { value: text } });
      await settle(50);
    }
    await settle(250);
    expect(backend.filterInspection).toHaveBeenCalledTimes(1);
    expect(backend.filterInspection.mock.calls[0]?.[1]).toMatchObject({ text: 'ord' });
  });

  it('moves the selection with the arrow keys and shows the message with typed headers', async () => {
    await peekAll();
    const list = screen.getByTestId('message-list');
    list.focus();
    await fireEvent.keyDown(list, { key: 'ArrowDown' });
    await settle();
    expect(backend.inspectionMessage).toHaveBeenLastCalledWith(7, 0);
    expect(screen.getByTestId('message-detail').dataset['position']).toBe('1');
    await fireEvent.keyDown(list, { key: 'ArrowDown' });
    await settle();
    expect(backend.inspectionMessage).toHaveBeenLastCalledWith(7, 1);
    expect(screen.getByTestId('message-detail').dataset['position']).toBe('2');
    expect(screen.getAllByTestId('message-row').find((r) => r.getAttribute('aria-selected') === 'true')?.dataset['position']).toBe('2');

    const headers = screen.getAllByTestId('header-row').map((r) => [r.dataset['header'], r.dataset['type']]);
    expect(headers).toEqual([
      ['big', 'i64'],
      ['nested', 'table'],
      ['retries', 'i32'],
      ['small', 'i16'],
      ['tenant', 'string'],
    ]);
    const nested = screen.getAllByTestId('header-row').find((r) => r.dataset['header'] === 'nested');
    await fireEvent.click(within(nested as HTMLElement).getByRole('button'));
    expect(screen.getAllByTestId('header-child').map((r) => [r.dataset['header'], r.dataset['type']])).toEqual([['a', 'array']]);

    expect(screen.getByTestId('message-body').dataset['view']).toBe('json');
    await fireEvent.click(screen.getByTestId('body-tab-hex'));
    expect(screen.getByTestId('message-body').textContent).toContain('00000000');

    await fireEvent.click(screen.getByTestId('edit-resend'));
    expect(onEditResend).toHaveBeenCalledWith(messageDetail(1).message);
  });

  it('shows the x-death history', async () => {
    backend.inspectionMessage.mockResolvedValue(
      messageDetail(0, {
        x_death: [
          { queue: 'orders', reason: 'rejected', count: 3, exchange: 'orders', routing_keys: ['order.1'], time: 1_700_000_000, original_expiration: null },
        ],
      }),
    );
    await peekAll();
    await fireEvent.click(screen.getAllByTestId('message-row')[0] as HTMLElement);
    await settle();
    const row = screen.getByTestId('x-death-row');
    expect(row.textContent).toContain('rejected');
    expect(row.textContent).toContain('order.1');
  });

  it('saves the ticked messages, or the whole view, to the suggested path', async () => {
    backend.saveMessages.mockResolvedValue(100_000);
    await peekAll();
    expect((screen.getByTestId('save-path') as HTMLInputElement).value).toBe('/tmp/orders.jsonl');
    await fireEvent.click(screen.getByTestId('save-messages'));
    await settle();
    expect(backend.saveMessages).toHaveBeenCalledWith(7, { kind: 'view' }, '/tmp/orders.jsonl', false);
    expect(screen.getByTestId('save-result').textContent).toBe('Wrote 100,000 messages to /tmp/orders.jsonl');

    backend.saveMessages.mockResolvedValue(2);
    const boxes = screen.getAllByRole('checkbox', { name: /Select message \d+ for saving/ });
    await fireEvent.click(boxes[3] as HTMLElement);
    await fireEvent.click(boxes[1] as HTMLElement);
    await fireEvent.click(screen.getByTestId('save-messages'));
    await settle();
    expect(backend.saveMessages).toHaveBeenLastCalledWith(7, { kind: 'indices', indices: [1, 3] }, '/tmp/orders.jsonl', false);
  });

  it('asks before a save replaces an existing file, and replaces it only when told', async () => {
    backend.saveMessages.mockRejectedValueOnce({ kind: 'already_exists', message: 'file /tmp/orders.jsonl already exists' });
    await peekAll();
    await fireEvent.click(screen.getByTestId('save-messages'));
    await settle();
    expect(screen.getByTestId('confirm-replace').textContent).toContain('/tmp/orders.jsonl already exists');
    expect(screen.queryByTestId('save-result')).toBeNull();
    // Keeping the file sends nothing more.
    await fireEvent.click(screen.getByTestId('confirm-replace-no'));
    expect(screen.queryByTestId('confirm-replace')).toBeNull();
    expect(backend.saveMessages).toHaveBeenCalledTimes(1);

    backend.saveMessages.mockRejectedValueOnce({ kind: 'already_exists', message: 'exists' });
    await fireEvent.click(screen.getByTestId('save-messages'));
    await settle();
    backend.saveMessages.mockResolvedValueOnce(100_000);
    await fireEvent.click(screen.getByTestId('confirm-replace-yes'));
    await settle();
    expect(backend.saveMessages).toHaveBeenLastCalledWith(7, { kind: 'view' }, '/tmp/orders.jsonl', true);
    expect(screen.getByTestId('save-result').textContent).toBe('Wrote 100,000 messages to /tmp/orders.jsonl');
  });

  it('shows a large body in parts: load more, or save it whole to a file', async () => {
    const size = 10 * 1024 * 1024;
    backend.inspectionMessage.mockResolvedValue(
      messageDetail(0, {
        size,
        body_shown: 256 * 1024,
        message: { ...messageDetail(0).message, body: 'a'.repeat(256 * 1024), body_encoding: 'utf8' },
      }),
    );
    backend.inspectionBody.mockResolvedValue({ offset: 0, length: 1024 * 1024, size, body: 'a'.repeat(1024 * 1024), body_encoding: 'utf8' });
    await peekAll();
    await fireEvent.click(screen.getAllByTestId('message-row')[0] as HTMLElement);
    await settle();
    expect(screen.getByTestId('body-partial').textContent).toContain('Showing the first 256 KiB of 10 MiB');
    await fireEvent.click(screen.getByTestId('body-load-more'));
    await settle();
    expect(backend.inspectionBody).toHaveBeenCalledWith(7, 0, 0, 1024 * 1024);
    expect(screen.getByTestId('body-partial').textContent).toContain('Showing the first 1 MiB of 10 MiB');

    backend.saveInspectionBody.mockRejectedValueOnce({ kind: 'already_exists', message: 'exists' });
    await fireEvent.input(screen.getByTestId('body-path'), { target: { value: '/tmp/body.bin' } });
    await fireEvent.click(screen.getByTestId('body-save'));
    await settle();
    expect(backend.saveInspectionBody).toHaveBeenLastCalledWith(7, 0, '/tmp/body.bin', false);
    backend.saveInspectionBody.mockResolvedValueOnce(size);
    await fireEvent.click(screen.getByTestId('body-replace-yes'));
    await settle();
    expect(backend.saveInspectionBody).toHaveBeenLastCalledWith(7, 0, '/tmp/body.bin', true);
    expect(screen.getByTestId('body-saved').textContent).toBe('Wrote 10 MiB to /tmp/body.bin');

    // Edit & resend takes the whole body, never the part shown.
    backend.inspectionBody.mockImplementation((_id: number, _index: number, offset: number, length: number) => {
      const n = Math.min(length, size - offset, 4 * 1024 * 1024);
      return Promise.resolve({ offset, length: n, size, body: 'a'.repeat(n), body_encoding: 'utf8' });
    });
    await fireEvent.click(screen.getByTestId('edit-resend'));
    await settle();
    expect(onEditResend).toHaveBeenCalledTimes(1);
    const sent = onEditResend.mock.calls[0]?.[0] as { body: string; body_encoding: string };
    expect(sent.body_encoding).toBe('utf8');
    expect(sent.body.length).toBe(size);
  });

  it('says when a peek stopped at its memory budget', async () => {
    backend.startPeek.mockResolvedValue(
      inspectionSummary(8, {
        report: {
          plan: peekPlan({ count: 20 }),
          received: 8,
          end: 'budget_reached',
          endpoint: '127.0.0.1:5672',
          elapsed_ms: 900,
          held_bytes: 64 * 1024 * 1024,
          budget_bytes: 64 * 1024 * 1024,
          returned_by_broker: null,
        },
      }),
    );
    backend.inspectionRows.mockImplementation(rowsOf(8));
    await peekAll();
    expect(screen.getByTestId('peek-end').textContent).toBe('memory budget reached');
    const note = screen.getByTestId('peek-budget').textContent ?? '';
    expect(note).toContain('Stopped at 8 messages (64 MiB)');
    expect(note).toContain('memory budget of 64 MiB');
  });

  it('closes the inspection when the result is closed', async () => {
    await peekAll();
    await fireEvent.click(screen.getByTestId('close-inspection'));
    expect(backend.closeInspection).toHaveBeenCalledWith(7);
    expect(screen.queryByTestId('inspector')).toBeNull();
  });
});
