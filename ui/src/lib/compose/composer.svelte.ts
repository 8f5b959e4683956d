// The composer's controller: the state of the form and everything around it (exchanges and
// bindings of the target, a message loaded from a peek or a file, the backend's preview, the
// running publish) and the actions on them. The parts (ComposeLoad, ComposeTarget, ComposeBody,
// ComposeHeaders, ComposeProperties, ComposeVariables, ComposeSend) show it and edit it.

import { untrack } from 'svelte';

import { listBindings, listExchanges, listProfiles, previewPublish, publish, readMessageFile, toBackendError } from '../backend';
import type { BindingRow } from '../bindings/BindingRow';
import type { ErrorReport } from '../bindings/ErrorReport';
import type { ExchangeRow } from '../bindings/ExchangeRow';
import type { Message } from '../bindings/Message';
import type { PublishProgress } from '../bindings/PublishProgress';
import type { PublishSummary } from '../bindings/PublishSummary';
import { Operation } from '../shared/operation.svelte';
import {
  compile,
  convertBody,
  defaultContentType,
  emptyForm,
  formFromMessage,
  inputOfField,
  newVariable,
  type BodyMode,
  type ComposeForm,
  type FormInput,
} from './compose';
import { base64ToBytes, hexToBytes, prettyJson, utf8Length } from './composeCodec';
import { rowsToHeaders, type HeaderErrors } from './headerEditor';

/** How long the form must rest before the backend renders a preview. */
const PREVIEW_DELAY_MS = 350;

/** The default exchange, listed by the management API in some versions and not in others. */
function defaultExchange(vhost: string): ExchangeRow {
  return {
    vhost,
    name: '',
    kind: 'direct',
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
    policy: null,
    publish_in_rate: null,
    publish_out_rate: null,
  };
}

export interface ComposerProps {
  /** The profile's name. */
  name: () => string;
  /** The vhost publishes go to (the profile's); looked up from the profile when null. */
  vhost: () => string | null;
}

export class ComposerController {
  readonly #props: ComposerProps;

  form = $state<ComposeForm>(emptyForm());
  /** The form checked and turned into a request (null while it holds errors). */
  readonly compiled = $derived(compile(this.form));
  /** Errors the form itself finds; publishing waits until there are none. */
  readonly clientErrorCount = $derived(Object.keys(this.compiled.errors).length + this.compiled.headerErrors.size);

  // ---- target: exchanges of the vhost, bindings of the chosen exchange ----

  exchanges = $state<ExchangeRow[] | null>(null);
  exchangesError = $state<ErrorReport | null>(null);
  profileVhost = $state<string | null>(null);
  pickedVhost = $state<string | null>(null);
  bindings = $state<{ vhost: string; rows: BindingRow[] | null; error: ErrorReport | null } | null>(null);

  readonly vhosts = $derived([...new Set((this.exchanges ?? []).map((e) => e.vhost))].sort());
  readonly vhostKnown = $derived.by(() => this.#props.vhost() !== null || this.profileVhost !== null);
  readonly activeVhost = $derived.by(
    () => this.#props.vhost() ?? this.profileVhost ?? this.pickedVhost ?? this.vhosts[0] ?? null,
  );
  readonly vhostExchanges = $derived.by(() => {
    const rows = (this.exchanges ?? []).filter((e) => e.vhost === this.activeVhost);
    if (this.exchanges && !rows.some((e) => e.name === '')) rows.push(defaultExchange(this.activeVhost ?? '/'));
    return rows.sort((a, b) => (a.name === '' ? -1 : b.name === '' ? 1 : a.name.localeCompare(b.name)));
  });
  readonly selected = $derived(this.vhostExchanges.find((e) => e.name === this.form.exchange) ?? null);
  readonly exchangeBindings = $derived(
    this.bindings?.vhost === this.activeVhost && this.bindings.rows
      ? this.bindings.rows.filter((b) => b.source === this.form.exchange)
      : null,
  );
  /** The headers as the request carries them, for the bindings' match. */
  readonly currentHeaders = $derived(rowsToHeaders(this.form.headers).headers);

  // ---- loading a message: from a peek or from a file ----

  loadedFrom = $state<string | null>(null);
  loadPath = $state('');
  loadBusy = $state(false);
  loadError = $state<ErrorReport | null>(null);
  loadChoices = $state<Message[] | null>(null);
  #lastInitial: Message | null = null;

  // ---- body ----

  modeNote = $state<string | null>(null);
  readonly bodySize = $derived.by(() => {
    const { bodyMode, body } = this.form;
    switch (bodyMode) {
      case 'text':
      case 'json':
        return body.length > 4_000_000 ? null : utf8Length(body);
      case 'base64': {
        const r = base64ToBytes(body);
        return r.ok ? r.bytes.length : null;
      }
      case 'hex': {
        const r = hexToBytes(body);
        return r.ok ? r.bytes.length : null;
      }
      case 'file':
        return null;
    }
  });

  // ---- preview (debounced, nothing sent) ----

  previewMessages = $state<Message[] | null>(null);
  previewError = $state<ErrorReport | null>(null);
  previewLoading = $state(false);
  #previewSeq = 0;
  /** The request whose preview (or preview error) is on show. */
  #shownKey: string | null = null;

  /** The input the preview's error names, while it is about the current form. */
  readonly previewInput = $derived<FormInput | null>(
    this.previewError?.field !== undefined && this.compiled.request ? inputOfField(this.previewError.field) : null,
  );

  /** Header errors of the form, and the preview's when it names a header row of the form. */
  readonly headerErrors = $derived.by((): HeaderErrors => {
    const own = this.compiled.headerErrors;
    const input = this.previewInput;
    const message = this.previewError?.message;
    if (input?.kind !== 'header' || message === undefined) return own;
    const row = headerRowAt(this.form.headers, input.path);
    if (row === null || own.has(row)) return own;
    return new Map([...own, [row, { path: input.path, message, field: 'value' as const }]]);
  });

  /** The preview's error about the headers when no row of the form is at its path. */
  readonly headersError = $derived(
    this.previewInput?.kind === 'header' && headerRowAt(this.form.headers, this.previewInput.path) === null
      ? (this.previewError?.message ?? null)
      : null,
  );

  // ---- publish ----

  readonly publishRun = new Operation<PublishProgress, PublishSummary>();
  /** The count of the publish whose summary is on show. */
  summaryTotal = $state(0);
  readonly publishLabel = $derived.by(() => {
    const n = Number(this.form.count);
    return Number.isSafeInteger(n) && n > 1 ? `Publish ${n} messages` : 'Publish';
  });

  constructor(props: ComposerProps) {
    this.#props = props;
  }

  /**
   * Starts the composer's work, from the component's initialisation: exchanges, bindings of
   * the chosen exchange, the message handed over (`initialFrom` says where it came from, for
   * the "Loaded …" line), the preview; and stops it when it goes.
   */
  connect(initial: () => Message | null, initialFrom: () => string | null = () => null): void {
    $effect(() => {
      untrack(() => {
        void this.loadExchanges();
        if (this.#props.vhost() === null) void this.#loadProfileVhost();
      });
      return () => this.publishRun.dispose();
    });
    $effect(() => this.#followBindings());
    $effect(() => {
      const m = initial();
      if (m && m !== this.#lastInitial) {
        this.#lastInitial = m;
        untrack(() => this.apply(m, initialFrom() ?? 'the message from the queue'));
      }
    });
    $effect(() => this.#preview());
  }

  // ---- target ----

  async loadExchanges(): Promise<void> {
    this.exchangesError = null;
    try {
      this.exchanges = await listExchanges(this.#props.name(), null);
    } catch (e) {
      this.exchangesError = toBackendError(e).toReport();
    }
  }

  async #loadProfileVhost(): Promise<void> {
    const name = this.#props.name();
    try {
      const entries = await listProfiles();
      this.profileVhost = entries.find((e) => e.profile.name === name)?.profile.vhost ?? null;
    } catch {
      this.profileVhost = null;
    }
  }

  #followBindings(): void {
    const v = this.activeVhost;
    const wanted = this.form.exchange !== '' && this.exchanges !== null;
    if (v === null || !wanted || untrack(() => this.bindings?.vhost) === v) return;
    this.bindings = { vhost: v, rows: null, error: null };
    listBindings(this.#props.name(), v).then(
      (rows) => {
        if (this.bindings?.vhost === v) this.bindings = { vhost: v, rows, error: null };
      },
      (e: unknown) => {
        if (this.bindings?.vhost === v) this.bindings = { vhost: v, rows: null, error: toBackendError(e).toReport() };
      },
    );
  }

  // ---- load ----

  /** Puts a message in the form; the sending options and variables stay. */
  apply(m: Message, from: string): void {
    this.form = formFromMessage(m, $state.snapshot(this.form));
    this.loadedFrom = from;
    this.loadChoices = null;
    this.modeNote = null;
  }

  async loadFile(): Promise<void> {
    const path = this.loadPath.trim();
    if (path === '' || this.loadBusy) return;
    this.loadBusy = true;
    this.loadError = null;
    this.loadChoices = null;
    try {
      const messages = await readMessageFile(path);
      if (messages.length === 0) this.loadError = { kind: 'file', message: `file ${path}: no message in it` };
      else if (messages.length === 1 && messages[0]) this.apply(messages[0], path);
      else this.loadChoices = messages;
    } catch (e) {
      this.loadError = toBackendError(e).toReport();
    } finally {
      this.loadBusy = false;
    }
  }

  // ---- body ----

  setMode(mode: BodyMode): void {
    const form = this.form;
    const from = form.bodyMode;
    const converted = convertBody(form.body, from, mode);
    this.modeNote =
      converted === null && form.body !== '' && mode !== 'file' && from !== 'file'
        ? `The body was kept as written: it could not be read as ${from} bytes to show as ${mode}.`
        : null;
    form.bodyMode = mode;
    if (converted !== null) form.body = converted;
    if (form.contentTypeAuto) form.props.content_type = defaultContentType(mode);
  }

  pretty(): void {
    const p = prettyJson(this.form.body);
    if (p !== null) this.form.body = p;
  }

  setContentType(value: string): void {
    this.form.props.content_type = value;
    this.form.contentTypeAuto = false;
  }

  matchContentType(): void {
    this.form.contentTypeAuto = true;
    this.form.props.content_type = defaultContentType(this.form.bodyMode);
  }

  // ---- errors ----

  /** The error to show at an input: the form's own, else the preview's when it names it. */
  errorFor(key: string): string | null {
    const own = this.compiled.errors[key];
    if (own !== undefined) return own;
    const input = this.previewInput;
    return input?.kind === 'field' && input.key === key ? (this.previewError?.message ?? null) : null;
  }

  /** The error to show at a variable row. */
  variableError(id: number, name: string): string | null {
    const own = this.compiled.errors[`variable-${id}`];
    if (own !== undefined) return own;
    const input = this.previewInput;
    return input?.kind === 'variable' && input.name === name.trim() ? (this.previewError?.message ?? null) : null;
  }

  /** The preview's error about the variables when no row of the form has that name. */
  readonly variablesError = $derived(
    this.previewInput?.kind === 'variable' &&
      !this.form.variables.some((v) => this.previewInput?.kind === 'variable' && v.name.trim() === this.previewInput.name)
      ? (this.previewError?.message ?? null)
      : null,
  );

  // ---- variables ----

  addVariable(): void {
    this.form.variables.push(newVariable());
  }

  removeVariable(i: number): void {
    this.form.variables.splice(i, 1);
  }

  // ---- preview ----

  #preview(): (() => void) | undefined {
    const request = this.compiled.request;
    const seq = ++this.#previewSeq;
    if (!request) {
      this.previewLoading = false;
      return undefined;
    }
    const key = JSON.stringify(request);
    if (key === this.#shownKey) {
      this.previewLoading = false;
      return undefined;
    }
    this.previewLoading = true;
    const timer = setTimeout(() => {
      previewPublish(request, 3).then(
        (messages) => {
          if (seq !== this.#previewSeq) return;
          this.#shownKey = key;
          this.previewMessages = messages;
          this.previewError = null;
          this.previewLoading = false;
        },
        (e: unknown) => {
          if (seq !== this.#previewSeq) return;
          this.#shownKey = key;
          this.previewMessages = null;
          this.previewError = toBackendError(e).toReport();
          this.previewLoading = false;
        },
      );
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }

  // ---- publish ----

  async publish(): Promise<void> {
    const request = this.compiled.request;
    if (!request || this.publishRun.running) return;
    this.publishRun.clear();
    this.summaryTotal = request.count;
    const name = this.#props.name();
    await this.publishRun.run((handlers) => publish(name, request, handlers), {
      published: 0,
      confirmed: 0,
      returned: 0,
      nacked: 0,
      failed: 0,
      maybe_sent: 0,
      total: request.count,
      elapsed_ms: 0,
      blocked: false,
      blocked_reason: null,
    });
  }

  cancelPublish(): void {
    this.publishRun.cancel();
  }
}

/** The id of the header row at `path` ("headers.t.inner", "headers.list[2]"), or null. */
export function headerRowAt(rows: ComposeForm['headers'], path: string): number | null {
  for (const { row, path: p } of rowPaths(rows, 'headers', false)) if (p === path) return row.id;
  return null;
}

function* rowPaths(
  rows: ComposeForm['headers'],
  path: string,
  elements: boolean,
): Generator<{ row: ComposeForm['headers'][number]; path: string }> {
  for (const [i, row] of rows.entries()) {
    const p = elements ? `${path}[${i}]` : `${path}.${row.name}`;
    yield { row, path: p };
    yield* rowPaths(row.children, p, row.type === 'array');
  }
}
