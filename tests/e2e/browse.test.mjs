// The developer path in the real app: find a seeded queue, peek it, open a message, read its
// JSON body and typed headers, filter the list, and leave the queue exactly as it was.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { onlyOn, openApp, warren } from "./app.mjs";

// RabbitMQ 3.x only: a classic queue browses the same way on 4.x, where quorum-peek.test.mjs
// peeks a quorum queue instead (and the screenshot stays the 3.10 one).
describe("browse a classic queue", { skip: onlyOn("3.0", "4.0", "a classic queue browses the same way") }, () => {
  let app;
  before(async () => {
    app = await openApp();
  });
  after(async () => {
    await app?.close();
  });

  /** The queue's messages as `warren peek` sees them: [position, message_id, redelivered]. */
  function classicMessages() {
    return warren("peek", "demo.classic", "--count", "50", "--json")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .map((m) => [m.position, m.properties.message_id ?? null, m.body.length]);
  }

  test("browse a seeded queue, open a message, filter the list", async () => {
    const before = classicMessages();
    assert.ok(before.length >= 6, `demo.classic holds ${before.length} messages`);

    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-queues"]');
    const row = '[data-testid="queue-row"][data-queue="demo.classic"]';
    await app.until("demo.classic in the queue list", () => app.eval((s) => !!document.querySelector(s), row));

    // The list filters by name.
    await app.setValue('[data-testid="queue-filter"]', "demo.cl");
    await app.until("the filter to leave only demo.classic", () =>
      app.eval(() => {
        const names = [...document.querySelectorAll('[data-testid="queue-row"]')].map((r) => r.dataset.queue);
        return names.length === 1 && names[0] === "demo.classic";
      }),
    );

    await app.click(`${row} button`);
    await app.clickWhenReady('[data-testid="browse-queue"]');
    await app.setValue('[data-testid="peek-count"]', "100");
    await app.clickWhenReady('[data-testid="peek-start"]');

    const rows = await app.until(
      "the peeked messages",
      () =>
        app.eval(() => {
          const r = [...document.querySelectorAll('[data-testid="message-row"]')].map((e) => Number(e.dataset.position));
          return r.length >= 6 ? r : null;
        }),
      30_000,
    );
    assert.deepEqual(rows.slice(0, 6), [1, 2, 3, 4, 5, 6]);

    // Open message 2: a JSON body and typed headers.
    await app.click('[data-testid="message-row"][data-position="2"]');
    const detail = await app.until("the message detail", () =>
      app.eval(() => {
        const d = document.querySelector('[data-testid="message-detail"]');
        const body = d?.querySelector('[data-testid="message-body"]')?.textContent ?? "";
        const headers = [...(d?.querySelectorAll('[data-testid="header-row"]') ?? [])].map((h) => [
          h.dataset.header,
          h.dataset.type,
        ]);
        return body.includes("grace") && headers.length > 0 ? { body, headers } : null;
      }),
    );
    assert.match(detail.body, /customer\.updated/);
    const types = Object.fromEntries(detail.headers);
    assert.equal(types["x-attempt"], "i64", JSON.stringify(detail.headers));
    assert.equal(types["x-vip"], "bool");
    assert.equal(types["x-score"], "f64");
    assert.equal(types["x-source"], "string");
    assert.equal(types["x-trace"], "table");
    assert.equal(types["x-route"], "array");

    // Filter the loaded messages by body text.
    await app.setValue('[data-testid="message-filter"]', "grace");
    const filtered = await app.until("the filter to leave one message", () =>
      app.eval(() => {
        const r = [...document.querySelectorAll('[data-testid="message-row"]')].map((e) => Number(e.dataset.position));
        return r.length === 1 ? r : null;
      }),
    );
    assert.deepEqual(filtered, [2]);
    assert.match(await app.text('[data-testid="message-count"]'), /1 of 6/);
    // The filtered message, opened: what the screenshot shows.
    await app.click('[data-testid="message-row"][data-position="2"]');
    await app.until("the detail of the filtered message", () =>
      app.eval(() => (document.querySelector('[data-testid="message-body"]')?.textContent ?? "").includes("grace")),
    );
    await app.screenshot("docs/screenshots/browse.png");

    // Browsing left the queue as it was: same messages, same order.
    assert.deepEqual(classicMessages(), before);
  });
});
