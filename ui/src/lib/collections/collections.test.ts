import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { Collection } from '../bindings/Collection';
import type { PublishProgress } from '../bindings/PublishProgress';
import type { ReplayDone } from '../bindings/ReplayDone';
import type { ReplayReport } from '../bindings/ReplayReport';

const backend = vi.hoisted(() => ({
  readCollection: vi.fn(),
  collectionReports: vi.fn(),
  editCollection: vi.fn(),
  listCollections: vi.fn(),
  renameCollection: vi.fn(),
  replayCollection: vi.fn(),
  cancelOperation: vi.fn(),
  exportCollection: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import { BackendError, type OperationHandlers } from '../backend';
import { CollectionsController } from './collections.svelte';
import { fates } from './collectionsModel';

function collection(keys: string[], variables: Record<string, string> = {}): Collection {
  return {
    name: 'orders',
    description: '',
    variables,
    messages: keys.map((k) => ({
      message: { exchange: '', routing_key: k, properties: {}, body: k, body_encoding: 'utf8' },
      recorded_at: '2026-12-02T14:00:00.000Z',
      source: null,
    })),
  };
}

function report(over: Partial<ReplayReport> = {}): ReplayReport {
  return {
    collection: 'orders',
    total: 2,
    confirmed: 2,
    returned: 0,
    nacked: 0,
    failed: 0,
    maybe_sent: 0,
    not_sent: 0,
    rate: 10,
    started_at: '2026-12-02T14:00:00.000Z',
    ended_at: '2026-12-02T14:00:00.200Z',
    elapsed_ms: 200,
    cancelled: false,
    endpoint: '127.0.0.1:5672',
    failovers: 0,
    max_late_ms: null,
    pacing: { kind: 'as_fast_as_confirms' },
    target: { exchange: null, routing_key: null },
    outcomes: [],
    ...over,
  };
}

async function opened(c: Collection): Promise<CollectionsController> {
  backend.readCollection.mockResolvedValue(c);
  backend.collectionReports.mockResolvedValue([]);
  backend.listCollections.mockResolvedValue({ dir: '/data/collections', own: true, collections: [] });
  const ctl = new CollectionsController();
  await ctl.open({ folder: null, file: 'orders.jsonl' });
  return ctl;
}

beforeEach(() => {
  vi.clearAllMocks();
  backend.cancelOperation.mockResolvedValue(undefined);
});

describe('the collections controller', () => {
  it('moves a message by one place and its tick follows it', async () => {
    const ctl = await opened(collection(['a', 'b', 'c']));
    ctl.toggle(0);
    ctl.toggle(2);
    backend.editCollection.mockResolvedValue(collection(['b', 'a', 'c']));
    await ctl.shift(0, 1);
    expect(backend.editCollection).toHaveBeenCalledWith(null, 'orders.jsonl', { kind: 'move', indices: [0], to: 1 });
    expect(ctl.collection?.messages.map((m) => m.message.routing_key)).toEqual(['b', 'a', 'c']);
    expect(ctl.checked).toEqual([1, 2]);
    // Already last: nothing is sent.
    await ctl.shift(2, 1);
    expect(backend.editCollection).toHaveBeenCalledTimes(1);
  });

  it('shows an edit the backend refused and keeps the collection as it was', async () => {
    const ctl = await opened(collection(['a', 'b']));
    backend.editCollection.mockRejectedValue(new BackendError('file', 'file orders.jsonl, line 3, column 2: expected a value'));
    await ctl.removeMessages([1]);
    expect(ctl.actionError?.message).toMatch(/line 3, column 2/);
    expect(ctl.collection?.messages).toHaveLength(2);
  });

  it('asks before an export replaces a file, and replaces it only when told', async () => {
    const ctl = await opened(collection(['a', 'b']));
    backend.exportCollection.mockRejectedValueOnce(new BackendError('already_exists', 'file /tmp/out.jsonl already exists'));
    expect(await ctl.exportTo('/tmp/out.jsonl', [1])).toBe(false);
    expect(backend.exportCollection).toHaveBeenLastCalledWith(null, 'orders.jsonl', [1], '/tmp/out.jsonl', false);
    expect(ctl.exportReplacing).toEqual({ path: '/tmp/out.jsonl', indices: [1] });
    expect(ctl.actionError).toBeNull();
    backend.exportCollection.mockResolvedValueOnce(1);
    expect(await ctl.exportTo('/tmp/out.jsonl', [1], true)).toBe(true);
    expect(backend.exportCollection).toHaveBeenLastCalledWith(null, 'orders.jsonl', [1], '/tmp/out.jsonl', true);
    expect(ctl.exportReplacing).toBeNull();
    expect(ctl.notice).toBe('Exported 1 message to /tmp/out.jsonl');
  });

  it('follows a rename to the new file', async () => {
    const ctl = await opened(collection(['a']));
    backend.renameCollection.mockResolvedValue({ file: 'invoices.jsonl', name: 'invoices', description: '', messages: 1, modified_ms: 0 });
    backend.readCollection.mockResolvedValue({ ...collection(['a']), name: 'invoices' });
    expect(await ctl.rename(' invoices ')).toBe(true);
    expect(backend.renameCollection).toHaveBeenCalledWith(null, 'orders.jsonl', 'invoices');
    expect(ctl.current).toEqual({ folder: null, file: 'invoices.jsonl' });
    expect(ctl.collection?.name).toBe('invoices');
  });

  it('saves the variables only when every row is right', async () => {
    const ctl = await opened(collection(['a'], { tenant: 'acme' }));
    expect(ctl.variables.map((v) => [v.name, v.value])).toEqual([['tenant', 'acme']]);
    ctl.addVariable();
    expect(ctl.variablesCheck.ok).toBe(true);
    const row = ctl.variables[1];
    if (row) row.value = 'eu';
    expect(ctl.variablesCheck.ok).toBe(false);
    await ctl.saveVariables();
    expect(backend.editCollection).not.toHaveBeenCalled();
    if (row) row.name = 'region';
    backend.editCollection.mockResolvedValue(collection(['a'], { tenant: 'acme', region: 'eu' }));
    await ctl.saveVariables();
    expect(backend.editCollection).toHaveBeenCalledWith(null, 'orders.jsonl', { kind: 'variables', variables: { tenant: 'acme', region: 'eu' } });
    expect(ctl.variablesDirty).toBe(false);
  });

  it('replays the ticked messages on the profile picked, with progress, and shows the report', async () => {
    const ctl = await opened(collection(['a', 'b', 'c']));
    ctl.toggle(2);
    ctl.toggle(0);
    ctl.replaySelected = true;
    ctl.replayForm.pacing = 'original';
    ctl.replayForm.speed = '0.5';
    let finish: (d: ReplayDone) => void = () => {};
    let progress: (p: PublishProgress) => void = () => {};
    backend.replayCollection.mockImplementation(
      (_n: string, _f: string | null, _file: string, _r: unknown, handlers: OperationHandlers<PublishProgress>) => {
        handlers.onStarted(41);
        progress = handlers.onProgress;
        return new Promise<ReplayDone>((resolve) => (finish = resolve));
      },
    );
    const running = ctl.replay('staging');
    expect(backend.replayCollection).toHaveBeenCalledWith(
      'staging',
      null,
      'orders.jsonl',
      { target: { exchange: null, routing_key: null }, selection: [0, 2], variables: {}, pacing: { kind: 'original', speed: 0.5 } },
      expect.anything(),
    );
    expect(ctl.replayRun.progress?.total).toBe(2);
    progress({ published: 1, confirmed: 1, returned: 0, nacked: 0, failed: 0, maybe_sent: 0, total: 2, elapsed_ms: 5, blocked: false, blocked_reason: null });
    expect(ctl.replayRun.progress?.confirmed).toBe(1);

    // Cancel reaches the backend by the operation's id.
    ctl.cancelReplay();
    expect(backend.cancelOperation).toHaveBeenCalledWith(41);

    const done = report({ confirmed: 1, not_sent: 1, cancelled: true });
    backend.collectionReports.mockResolvedValue([report(), done]);
    finish({ report: done, not_kept: null });
    await running;
    expect(ctl.shownReport).toEqual(done);
    expect(ctl.replayedIndices).toEqual([0, 2]);
    expect(fates(done, ctl.replayedIndices ?? []).map((f) => f.fate.kind)).toEqual(['confirmed', 'not_sent']);
    // The kept reports, newest first.
    expect(ctl.reports[0]).toEqual(done);
  });

  it('does not replay while the form is wrong', async () => {
    const ctl = await opened(collection(['a']));
    ctl.replayForm.pacing = 'rate';
    ctl.replayForm.rate = '0';
    await ctl.replay('staging');
    expect(backend.replayCollection).not.toHaveBeenCalled();
  });
});
