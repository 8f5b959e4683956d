// The inspector at its limit in the real app: 100,000 messages peeked, the list renders only
// the rows in view, scrolling to the middle fetches those rows, a filter finds one message
// among all, and the queue still holds every message afterwards.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, onlyOn, openApp, warren } from "./app.mjs";

// RabbitMQ 3.x only: the inspector's scale does not depend on the broker, and 100,000
// messages published and peeked once are enough for the whole suite.
describe("the inspector at 100,000 messages", { skip: onlyOn("3.0", "4.0", "the inspector scales the same way") }, () => {
  const QUEUE = "e2e.many";
  const COUNT = 100_000;
  let app;
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
    // 100,000 messages of 256 bytes, each with its sequence number in the body.
    const pad = "x".repeat(256 - '{"n": 100000, "pad": ""}'.length);
    const summary = JSON.parse(
      warren("publish", "-k", QUEUE, "--body", `{"n": {{seq}}, "pad": "${pad}"}`, "--count", String(COUNT), "--json"),
    );
    assert.equal(summary.confirmed, COUNT);
    app = await openApp();
  });
  after(async () => {
    await app?.close();
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  const domRows = () => app.eval(() => document.querySelectorAll('[data-testid="message-row"]').length);

  test("100,000 peeked messages: a virtualized list, rows fetched where you scroll, a filter over all", async () => {
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-browse"]');
    await app.until("the browse form", () => app.eval(() => !!document.querySelector('[data-testid="peek-queue"]')));
    await app.setValue('[data-testid="peek-queue"]', QUEUE);
    await app.setValue('[data-testid="peek-count"]', String(COUNT));
    await app.click('[data-testid="peek-start"]');
    await app.until(
      "the inspection of 100,000 messages",
      () => app.eval(() => /100,000 messages/.test(document.querySelector('[data-testid="inspection-summary"]')?.textContent ?? "")),
      180_000,
    );
    await app.until("the first rows", async () => (await domRows()) > 0);
    const first = await domRows();
    assert.ok(first < 200, `${first} rows in the DOM for 100,000 messages`);

    // Scroll to the middle: the rows there arrive, and the DOM stays small.
    await app.eval(() => {
      const list = document.querySelector('[data-testid="message-list"]');
      list.scrollTop = list.scrollHeight / 2;
      list.dispatchEvent(new Event("scroll"));
    });
    const middle = await app.until("rows from the middle of the list", () =>
      app.eval(() => {
        const p = [...document.querySelectorAll('[data-testid="message-row"]')].map((r) => Number(r.dataset.position));
        return p.some((x) => x > 45_000 && x < 55_000) ? p : null;
      }),
    );
    assert.ok(middle.length < 200, `${middle.length} rows in the DOM after scrolling`);
    const sorted = [...middle].sort((a, b) => a - b);
    assert.equal(sorted.at(-1) - sorted[0], sorted.length - 1, "the rows in view are consecutive positions");

    // A filter over all 100,000 bodies finds the one message.
    await app.setValue('[data-testid="message-filter"]', '"n": 77777,');
    await app.until("the filter to find message 77,777", () =>
      app.eval(() => {
        const r = [...document.querySelectorAll('[data-testid="message-row"]')].map((e) => Number(e.dataset.position));
        return r.length === 1 && r[0] === 77_777;
      }),
    );
    assert.match(await app.text('[data-testid="message-count"]'), /1 of 100,000/);

    // The queue kept every message. The peek gives them back one consumer at a time, and the
    // queue may count the last returns a moment after another channel asks: wait for them, up
    // to 20 s (a lost message would never come back).
    const ready = () => JSON.parse(warren("peek", QUEUE, "--plan", "--json")).messages_ready;
    const deadline = Date.now() + 20_000;
    let seen = ready();
    while (seen !== COUNT && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      seen = ready();
    }
    assert.equal(seen, COUNT);
  });
});
