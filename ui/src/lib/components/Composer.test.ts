import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { PublishProgress } from '../bindings/PublishProgress';
import type { PublishRequest } from '../bindings/PublishRequest';
import type { PublishSummary } from '../bindings/PublishSummary';
import { BINDINGS, EVERY_TYPE_HEADERS, EXCHANGES, message, progress, summary } from '../../test/composeFixtures';
import { profileEntry } from '../../test/fixtures';

const backend = vi.hoisted(() => ({
  listExchanges: vi.fn(),
  listBindings: vi.fn(),
  listProfiles: vi.fn(),
  previewPublish: vi.fn(),
  publish: vi.fn(),
  cancelOperation: vi.fn(),
  readMessageFile: vi.fn(),
}));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import { BackendError } from '../backend';
import Composer from './Composer.svelte';

function byId<T extends HTMLElement = HTMLInputElement>(id: string): T {
  return screen.getByTestId(id) as T;
}

async function type(id: string, value: string, el: HTMLElement = byId(id)): Promise<void> {
  await fireEvent.input(el, { target: { value } });
}

async function choose(el: HTMLElement, value: string): Promise<void> {
  await fireEvent.change(el, { target: { value } });
}

function publishButton(): HTMLButtonElement {
  return byId<HTMLButtonElement>('compose-publish');
}

/** The operation id the backend gives the publishes of these tests. */
const PUBLISH_OPERATION = 42;

/** A publish the test settles by hand, with the progress callback it was given. */
function deferredPublish(): {
  resolve: (s: PublishSummary) => void;
  reject: (e: unknown) => void;
  progress: () => (p: PublishProgress) => void;
  request: () => PublishRequest;
} {
  let resolve: (s: PublishSummary) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  let onProgress: ((p: PublishProgress) => void) | null = null;
  let request: PublishRequest | null = null;
  backend.publish.mockImplementation((_name: string, req: PublishRequest, started: (id: number) => void, cb: (p: PublishProgress) => void) => {
    started(PUBLISH_OPERATION);
    onProgress = cb;
    request = req;
    return new Promise<PublishSummary>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  });
  return {
    resolve: (s) => resolve(s),
    reject: (e) => reject(e),
    progress: () => {
      if (!onProgress) throw new Error('publish was not called');
      return onProgress;
    },
    request: () => {
      if (!request) throw new Error('publish was not called');
      return request;
    },
  };
}

beforeEach(() => {
  for (const f of Object.values(backend)) f.mockReset();
  backend.listExchanges.mockResolvedValue(EXCHANGES);
  backend.listBindings.mockResolvedValue(BINDINGS);
  backend.listProfiles.mockResolvedValue([profileEntry('local')]);
  backend.previewPublish.mockResolvedValue([]);
  backend.cancelOperation.mockResolvedValue(undefined);
});

describe('Composer: target', () => {
  it("lists the profile vhost's exchanges, the default one as (default), internal ones disabled", async () => {
    render(Composer, { name: 'local' });
    const select = byId<HTMLSelectElement>('compose-exchange');
    await vi.waitFor(() => expect(select.disabled).toBe(false));
    expect(backend.listExchanges).toHaveBeenCalledWith('local', null);
    const options = [...select.options].map((o) => o.textContent?.trim());
    expect(options[0]).toBe('(default) · direct');
    expect(options).toContain('demo.headers · headers');
    expect(options.some((o) => o?.startsWith('other.direct'))).toBe(false);
    const internal = [...select.options].find((o) => o.value === 'amq.rabbitmq.trace');
    expect(internal?.disabled).toBe(true);
  });

  it('shows the header match of a headers exchange and which bindings the headers match', async () => {
    render(Composer, { name: 'local', vhost: '/' });
    const select = byId<HTMLSelectElement>('compose-exchange');
    await vi.waitFor(() => expect(select.disabled).toBe(false));
    await choose(select, 'demo.headers');
    await vi.waitFor(() => expect(screen.getAllByTestId('compose-binding')).toHaveLength(2));
    expect(backend.listBindings).toHaveBeenCalledWith('local', '/');
    expect(backend.listProfiles).not.toHaveBeenCalled();
    const args = screen.getAllByTestId('compose-binding-args').map((e) => e.textContent);
    expect(args).toEqual(['x-match all, format = pdf, type = report', 'x-match any, level = error, source = billing']);
    expect(screen.getAllByTestId('compose-binding').map((e) => e.dataset['match'])).toEqual(['no-match', 'no-match']);

    await fireEvent.click(byId('header-add'));
    await type('header-name', 'source', byId('header-name'));
    await type('header-value', 'billing', byId('header-value'));
    expect(screen.getAllByTestId('compose-binding').map((e) => e.dataset['match'])).toEqual(['no-match', 'match']);
  });

  it('falls back to a typed exchange name when the list cannot be read', async () => {
    backend.listExchanges.mockRejectedValue(new BackendError('http', 'management API down'));
    render(Composer, { name: 'local' });
    await vi.waitFor(() => expect(screen.getByTestId('compose-exchanges-error')).toBeTruthy());
    const input = byId('compose-exchange');
    expect(input.tagName).toBe('INPUT');
    await type('compose-exchange', 'typed.exchange');
    await vi.waitFor(() => expect(backend.previewPublish).toHaveBeenCalled());
    const [request] = backend.previewPublish.mock.lastCall as [PublishRequest, number];
    expect(request.message.exchange).toBe('typed.exchange');
  });
});

describe('Composer: validation', () => {
  it('shows invalid JSON with its line and column and disables publish until fixed', async () => {
    render(Composer, { name: 'local' });
    await choose(byId('compose-body-mode'), 'json');
    expect(byId('prop-content_type').value).toBe('application/json');
    await type('compose-body', '{\n  "a": 1\n  "b": 2\n}');
    const error = byId('compose-body-error');
    expect(error.textContent).toContain('line 3, column 3');
    expect(error.textContent).toContain('3:3');
    expect(error.dataset['line']).toBe('3');
    expect(error.dataset['column']).toBe('3');
    expect(publishButton().disabled).toBe(true);
    expect(byId('compose-error-count').textContent).toContain('1 field to fix');

    await type('compose-body', '{"a": 1, "b": {{seq}}}');
    expect(screen.queryByTestId('compose-body-error')).toBeNull();
    expect(publishButton().disabled).toBe(false);
    await fireEvent.click(byId('compose-body-pretty'));
    expect(byId<HTMLTextAreaElement>('compose-body').value).toBe('{\n  "a": 1,\n  "b": {{seq}}\n}');
  });

  it('names each bad field next to it', async () => {
    render(Composer, { name: 'local' });
    await type('prop-expiration', '-5');
    await type('prop-priority', '300');
    await type('compose-count', '0');
    await type('prop-message_id', '{{nope}}');
    const errors = Object.fromEntries(screen.getAllByTestId('field-error').map((e) => [e.dataset['field'], e.textContent]));
    expect(errors['prop-expiration']).toContain('Expiration');
    expect(errors['prop-priority']).toContain('0 to 255');
    expect(errors['compose-count']).toContain('Count');
    expect(errors['prop-message_id']).toContain('unknown template variable {{nope}}');
    expect(publishButton().disabled).toBe(true);
    expect(backend.previewPublish).not.toHaveBeenCalled();
  });

  it('checks typed header values against their width', async () => {
    render(Composer, { name: 'local' });
    await fireEvent.click(byId('header-add'));
    await type('header-name', 'x-retry', byId('header-name'));
    await choose(byId('header-type'), 'i16');
    await type('header-value', '40000', byId('header-value'));
    expect(screen.getByTestId('header-error').textContent).toContain('headers.x-retry: 40000 does not fit i16 (-32768 to 32767)');
    expect(publishButton().disabled).toBe(true);
    await type('header-value', '3', byId('header-value'));
    expect(screen.queryByTestId('header-error')).toBeNull();
    expect(publishButton().disabled).toBe(false);
  });

  it('edits nested tables and arrays; array elements have no names', async () => {
    backend.publish.mockResolvedValue(summary());
    render(Composer, { name: 'local' });
    await fireEvent.click(byId('header-add'));
    await type('header-name', 'meta', byId('header-name'));
    await choose(byId('header-type'), 'table');
    expect(byId('header-editor-row').dataset['type']).toBe('table');
    await fireEvent.click(byId('header-add-child'));
    const child = () => screen.getAllByTestId('header-editor-row')[1]!;
    await type('header-name', 'tags', within(child()).getByTestId('header-name'));
    await choose(within(child()).getAllByTestId('header-type')[0]!, 'array');
    await fireEvent.click(within(child()).getByTestId('header-add-child'));
    const element = () => screen.getAllByTestId('header-editor-row')[2]!;
    expect(within(element()).queryByTestId('header-name')).toBeNull();
    await choose(within(element()).getByTestId('header-type'), 'u8');
    await type('header-value', '7', within(element()).getByTestId('header-value'));
    await fireEvent.click(within(child()).getAllByTestId('header-add-child')[0]!);
    const second = () => screen.getAllByTestId('header-editor-row')[3]!;
    await choose(within(second()).getByTestId('header-type'), 'bool');
    await choose(within(second()).getByTestId('header-value'), 'false');
    await fireEvent.click(publishButton());
    const [, request] = backend.publish.mock.calls[0] as [string, PublishRequest];
    expect(request.message.properties.headers).toEqual({ meta: { tags: [{ $type: 'u8', value: 7 }, false] } });

    // Removing a row removes its children with it.
    await fireEvent.click(screen.getAllByTestId('header-remove')[0]!);
    expect(screen.queryAllByTestId('header-editor-row')).toHaveLength(0);
  });

  it('shows a template error of the backend preview next to its field', async () => {
    backend.previewPublish.mockRejectedValue(new BackendError('invalid_input', 'invalid body: {{random_int 1 x}} is not a range'));
    render(Composer, { name: 'local' });
    await type('compose-body', 'n={{random_int 1 2}}');
    await vi.waitFor(() => expect(screen.getByTestId('compose-preview-error')).toBeTruthy());
    expect(byId('compose-body-error').textContent).toContain('invalid body: {{random_int 1 x}} is not a range');
    // A backend opinion, not a client-side error: publishing stays possible.
    expect(publishButton().disabled).toBe(false);
  });
});

describe('Composer: preview', () => {
  it('renders the first three messages through the backend, debounced', async () => {
    backend.previewPublish.mockResolvedValue([message({ routing_key: 'k-1', body: 'n=1' }), message({ routing_key: 'k-2', body: 'n=2' })]);
    render(Composer, { name: 'local' });
    await type('compose-routing-key', 'k-{{seq}}');
    await type('compose-body', 'n={{seq}}');
    await fireEvent.click(byId('compose-variable-add'));
    await type('compose-variable-name', 'tenant', byId('compose-variable-name'));
    await type('compose-variable-value', 'acme', byId('compose-variable-value'));
    await vi.waitFor(() => expect(screen.getAllByTestId('compose-preview-message')).toHaveLength(2));
    // The keystrokes were coalesced into one call.
    expect(backend.previewPublish).toHaveBeenCalledTimes(1);
    const [request, count] = backend.previewPublish.mock.calls[0] as [PublishRequest, number];
    expect(count).toBe(3);
    expect(request.message.routing_key).toBe('k-{{seq}}');
    expect(request.variables).toEqual({ tenant: 'acme' });
    expect(screen.getAllByTestId('compose-preview-body').map((e) => e.textContent)).toEqual(['n=1', 'n=2']);
  });
});

describe('Composer: loading a message', () => {
  it('shows every header with its real type and every property, and resends it unchanged', async () => {
    const m = message({
      exchange: 'demo.direct',
      routing_key: 'orders',
      properties: {
        content_type: 'application/json',
        headers: { 'x-retry': { $type: 'i16', value: 3 }, flag: true, nested: { inner: { $type: 'u8', value: 7 } }, list: [1, 'a'] },
        delivery_mode: 2,
        priority: 4,
        message_id: 'm-1',
        timestamp: 1700000000,
      },
      body: '{"id": 1}',
    });
    render(Composer, { name: 'local', initial: m });
    await vi.waitFor(() => expect(byId('compose-routing-key').value).toBe('orders'));
    expect(byId<HTMLSelectElement>('compose-body-mode').value).toBe('json');
    expect(byId<HTMLTextAreaElement>('compose-body').value).toBe('{"id": 1}');
    expect(byId<HTMLSelectElement>('prop-delivery_mode').value).toBe('2');
    expect(byId('prop-priority').value).toBe('4');
    expect(byId('prop-message_id').value).toBe('m-1');
    expect(byId('prop-timestamp').value).not.toBe('');
    const rows = screen.getAllByTestId('header-editor-row').map((r) => ({
      type: (within(r).getAllByTestId('header-type')[0] as HTMLSelectElement).value,
      depth: r.dataset['depth'],
    }));
    expect(rows.map((r) => r.type)).toEqual(['i16', 'bool', 'table', 'u8', 'array', 'i32', 'string']);
    expect(rows.map((r) => r.depth)).toEqual(['0', '0', '0', '1', '0', '1', '1']);
    const names = screen.getAllByTestId('header-name').map((e) => (e as HTMLInputElement).value);
    expect(names).toEqual(['x-retry', 'flag', 'nested', 'inner', 'list']);

    const d = deferredPublish();
    await vi.waitFor(() => expect(byId<HTMLSelectElement>('compose-exchange').disabled).toBe(false));
    await fireEvent.click(publishButton());
    expect(d.request().message).toEqual(m);
  });

  it('loads every type of header back to identical JSON', async () => {
    const m = message({ properties: { headers: EVERY_TYPE_HEADERS } });
    render(Composer, { name: 'local', initial: m });
    await vi.waitFor(() => expect(screen.getAllByTestId('header-editor-row').length).toBeGreaterThan(20));
    const types = screen.getAllByTestId('header-type').map((e) => (e as HTMLSelectElement).value);
    expect(types).toContain('decimal');
    expect(types).toContain('binary_string');
    expect(types).toContain('timestamp');
    const d = deferredPublish();
    await fireEvent.click(publishButton());
    expect(JSON.stringify(d.request().message.properties.headers)).toBe(JSON.stringify(EVERY_TYPE_HEADERS));
  });

  it('loads from a file, letting the person pick one of several messages', async () => {
    backend.readMessageFile.mockResolvedValue([message({ routing_key: 'first' }), message({ routing_key: 'second', body: 'two' })]);
    render(Composer, { name: 'local' });
    await type('compose-load-path', '/tmp/msgs.jsonl');
    await fireEvent.click(byId('compose-load-file'));
    await vi.waitFor(() => expect(screen.getAllByTestId('compose-load-pick')).toHaveLength(2));
    expect(backend.readMessageFile).toHaveBeenCalledWith('/tmp/msgs.jsonl');
    await fireEvent.click(screen.getAllByTestId('compose-load-pick')[1]!);
    expect(byId('compose-routing-key').value).toBe('second');
    expect(byId<HTMLTextAreaElement>('compose-body').value).toBe('two');
    expect(screen.queryByTestId('compose-load-choices')).toBeNull();
  });

  it('shows a file that cannot be read', async () => {
    backend.readMessageFile.mockRejectedValue(new BackendError('file', 'file /nope: not found'));
    render(Composer, { name: 'local' });
    await type('compose-load-path', '/nope');
    await fireEvent.click(byId('compose-load-file'));
    await vi.waitFor(() => expect(screen.getByTestId('compose-load-error').textContent).toContain('file /nope: not found'));
  });
});

describe('Composer: publish', () => {
  it('sends the request, shows live progress, then the summary with counts and problems', async () => {
    const d = deferredPublish();
    render(Composer, { name: 'local' });
    await vi.waitFor(() => expect(byId<HTMLSelectElement>('compose-exchange').disabled).toBe(false));
    await choose(byId('compose-exchange'), 'demo.direct');
    await type('compose-routing-key', 'orders');
    await type('compose-body', 'hello {{seq}}');
    await type('compose-count', '10');
    await type('compose-rate', '50');
    await choose(byId('prop-delivery_mode'), '2');
    await fireEvent.click(publishButton());

    expect(backend.publish).toHaveBeenCalledTimes(1);
    const [name, request] = backend.publish.mock.calls[0] as [string, PublishRequest];
    expect(name).toBe('local');
    expect(request).toEqual({
      message: {
        exchange: 'demo.direct',
        routing_key: 'orders',
        properties: { content_type: 'text/plain', delivery_mode: 2 },
        body: 'hello {{seq}}',
        body_encoding: 'utf8',
      },
      count: 10,
      rate: 50,
      mandatory: true,
      variables: {},
      body_file: null,
    });
    expect(publishButton().disabled).toBe(true);
    expect(byId('publish-progress')).toBeTruthy();

    d.progress()(progress({ published: 6, confirmed: 4, returned: 1, elapsed_ms: 500 }));
    await vi.waitFor(() => expect(byId('publish-progress').dataset['confirmed']).toBe('4'));
    expect(byId('publish-progress').textContent).toContain('5 of 10 settled');
    expect(screen.queryByTestId('publish-blocked')).toBeNull();

    d.progress()(progress({ published: 6, confirmed: 4, returned: 1, blocked: true, blocked_reason: 'memory alarm on rabbit@a' }));
    await vi.waitFor(() => expect(byId('publish-blocked').textContent).toContain('Publishing blocked by the broker: memory alarm on rabbit@a'));

    await fireEvent.click(byId('publish-cancel'));
    expect(backend.cancelOperation).toHaveBeenCalledWith(PUBLISH_OPERATION);

    d.resolve(
      summary({
        published: 10,
        confirmed: 7,
        returned: 2,
        nacked: 0,
        failed: 1,
        problems: [
          { seq: 3, outcome: { kind: 'returned', reply_code: 312, reply_text: 'NO_ROUTE' } },
          { seq: 8, outcome: { kind: 'returned', reply_code: 312, reply_text: 'NO_ROUTE' } },
          { seq: 9, outcome: { kind: 'failed', reason: 'channel closed' } },
        ],
      }),
    );
    await vi.waitFor(() => expect(screen.getByTestId('publish-summary')).toBeTruthy());
    const s = byId('publish-summary');
    expect({ c: s.dataset['confirmed'], r: s.dataset['returned'], n: s.dataset['nacked'], f: s.dataset['failed'] }).toEqual({
      c: '7',
      r: '2',
      n: '0',
      f: '1',
    });
    expect(byId('publish-headline').textContent).toBe('7 of 10 confirmed');
    const problems = screen.getAllByTestId('publish-problem');
    expect(problems.map((p) => [p.dataset['seq'], p.dataset['outcome']])).toEqual([
      ['3', 'returned'],
      ['8', 'returned'],
      ['9', 'failed'],
    ]);
    expect(problems[0]?.textContent).toContain('312 NO_ROUTE');
    expect(problems[2]?.textContent).toContain('channel closed');
    expect(s.textContent).not.toMatch(/\bsent\b/i);
    expect(screen.queryByTestId('publish-progress')).toBeNull();
    expect(publishButton().disabled).toBe(false);
  });

  it('counts what a cancelled run did not send, and shows why nothing was confirmed', async () => {
    backend.publish.mockResolvedValueOnce(summary({ published: 4, confirmed: 3, cancelled: true }));
    render(Composer, { name: 'local' });
    await type('compose-count', '10');
    await fireEvent.click(publishButton());
    await vi.waitFor(() => expect(byId('publish-headline').textContent).toBe('Cancelled: 3 of 10 confirmed'));
    expect(byId('publish-not-sent').textContent).toBe('7');

    const reason = 'not sent: NOT_FOUND - no exchange \'gone\' in vhost \'/\'';
    backend.publish.mockResolvedValueOnce(
      summary({
        published: 1,
        confirmed: 0,
        failed: 2,
        problems: [
          { seq: 1, outcome: { kind: 'failed', reason } },
          { seq: 2, outcome: { kind: 'failed', reason } },
        ],
      }),
    );
    await type('compose-count', '2');
    await fireEvent.click(publishButton());
    await vi.waitFor(() => expect(byId('publish-headline').textContent).toBe('0 of 2 confirmed'));
    expect(byId('publish-first-failure').textContent).toBe(reason);
    expect(screen.queryByTestId('publish-not-sent')).toBeNull();
  });

  it('calls an all-confirmed publish confirmed', async () => {
    backend.publish.mockResolvedValue(summary({ published: 1, confirmed: 1 }));
    render(Composer, { name: 'local' });
    await fireEvent.click(publishButton());
    await vi.waitFor(() => expect(byId('publish-headline').textContent).toBe('Confirmed by the broker'));
    expect(byId('publish-summary').dataset['confirmed']).toBe('1');
  });

  it('shows a publish error plainly and stays usable for the next publish', async () => {
    backend.publish.mockRejectedValueOnce(new BackendError('not_found', 'no exchange "gone" in vhost "/"'));
    render(Composer, { name: 'local' });
    await type('compose-body', 'x');
    await fireEvent.click(publishButton());
    await vi.waitFor(() => expect(byId('publish-error').textContent).toContain('no exchange "gone" in vhost "/"'));
    expect(screen.queryByTestId('publish-progress')).toBeNull();
    expect(publishButton().disabled).toBe(false);
    expect(byId<HTMLTextAreaElement>('compose-body').value).toBe('x');

    backend.publish.mockResolvedValueOnce(summary({ published: 1, confirmed: 1 }));
    await fireEvent.click(publishButton());
    await vi.waitFor(() => expect(screen.getByTestId('publish-summary')).toBeTruthy());
    expect(screen.queryByTestId('publish-error')).toBeNull();
    expect(backend.publish).toHaveBeenCalledTimes(2);
  });

  it('sends binary and file bodies as the backend expects', async () => {
    backend.publish.mockResolvedValue(summary());
    render(Composer, { name: 'local' });
    await type('compose-body', 'hi');
    await choose(byId('compose-body-mode'), 'hex');
    expect(byId<HTMLTextAreaElement>('compose-body').value).toBe('68 69');
    expect(byId('prop-content_type').value).toBe('application/octet-stream');
    await fireEvent.click(publishButton());
    const [, hexRequest] = backend.publish.mock.calls[0] as [string, PublishRequest];
    expect(hexRequest.message).toMatchObject({ body: 'aGk=', body_encoding: 'base64' });

    await vi.waitFor(() => expect(publishButton().disabled).toBe(false));
    await choose(byId('compose-body-mode'), 'file');
    expect(publishButton().disabled).toBe(true);
    await type('compose-body-file', '/data/big.bin');
    await fireEvent.click(publishButton());
    const [, fileRequest] = backend.publish.mock.calls[1] as [string, PublishRequest];
    expect(fileRequest.body_file).toBe('/data/big.bin');
    expect(fileRequest.message.body).toBe('');
  });

  it('keeps a content type the person chose when the body mode changes', async () => {
    render(Composer, { name: 'local' });
    await type('prop-content_type', 'text/csv');
    await choose(byId('compose-body-mode'), 'json');
    expect(byId('prop-content_type').value).toBe('text/csv');
    await fireEvent.click(byId('compose-content-type-auto'));
    expect(byId('prop-content_type').value).toBe('application/json');
  });

  it('sets the timestamp to now', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_500);
    backend.publish.mockResolvedValue(summary());
    render(Composer, { name: 'local' });
    await fireEvent.click(byId('compose-timestamp-now'));
    await fireEvent.click(publishButton());
    const [, request] = backend.publish.mock.calls[0] as [string, PublishRequest];
    expect(request.message.properties.timestamp).toBe(1_700_000_000);
  });
});
