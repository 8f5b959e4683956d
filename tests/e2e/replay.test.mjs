// Collections in the real app: two browsed messages saved to a new collection, one of them
// edited in the composer and saved back, the collection replayed to another queue, the report
// read, and the replayed messages found in that queue through the management API.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, cluster, openApp } from "./app.mjs";

describe("collections and replay", () => {
  const tag = randomBytes(4).toString("hex");
  const SOURCE = `e2e.replay.src.${tag}`;
  const TARGET = `e2e.replay.dst.${tag}`;
  const NAME = `e2e replay ${tag}`;
  let app;

  before(async () => {
    for (const q of [SOURCE, TARGET]) {
      await api("DELETE", `queues/%2F/${encodeURIComponent(q)}`);
      await api("PUT", `queues/%2F/${encodeURIComponent(q)}`, { durable: true, auto_delete: false, arguments: {} });
    }
    for (const n of [1, 2]) {
      const r = await api("POST", "exchanges/%2F/amq.default/publish", {
        properties: { message_id: `m${n}`, content_type: "application/json", headers: { "x-n": n } },
        routing_key: SOURCE,
        payload: JSON.stringify({ order: n }),
        payload_encoding: "string",
      });
      assert.equal(r?.routed, true, `message ${n} routed to ${SOURCE}`);
    }
    await waitForCount(SOURCE, 2);
    app = await openApp();
  });

  after(async () => {
    await app?.close();
    for (const q of [SOURCE, TARGET]) await api("DELETE", `queues/%2F/${encodeURIComponent(q)}`);
  });

  /** Waits until the management API counts `n` messages in `queue`. */
  async function waitForCount(queue, n) {
    const deadline = Date.now() + 30_000;
    let last;
    while (Date.now() < deadline) {
      last = (await api("GET", `queues/%2F/${encodeURIComponent(queue)}`))?.messages;
      if (last === n) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${queue} holds ${last} messages, not ${n}`);
  }

  /** Scrolls `selector` to the middle of the window (clear of the sticky tabs), then clicks it. */
  async function press(selector) {
    await app.until(`${selector} to appear`, () =>
      app.eval((sel) => {
        const el = document.querySelector(sel);
        el?.scrollIntoView({ block: "center" });
        return !!el;
      }, selector),
    );
    await app.click(selector);
  }

  test("save two browsed messages to a new collection, edit one, replay it, read the report", async () => {
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');

    // Browse the source queue and tick both messages.
    await app.clickWhenReady('[data-testid="tab-browse"]');
    await app.until("the peek form", () => app.eval(() => !!document.querySelector('[data-testid="peek-queue"]')));
    await app.setValue('[data-testid="peek-queue"]', SOURCE);
    await app.setValue('[data-testid="peek-count"]', "10");
    await app.clickWhenReady('[data-testid="peek-start"]');
    await app.until(
      "two peeked messages",
      () => app.eval(() => document.querySelectorAll('[data-testid="message-row"]').length === 2),
      30_000,
    );
    for (const position of [1, 2]) {
      await app.click(`[data-testid="message-row"][data-position="${position}"]`);
      await app.until(`the detail of message ${position}`, () =>
        app.eval((p) => document.querySelector('[data-testid="message-detail"]')?.dataset.position === String(p), position),
      );
      await app.click('[data-testid="detail-select"]');
    }

    // Save them to a new collection (in the app's own folder).
    await app.click('[data-testid="inspector"] [data-testid="save-to-collection-open"]');
    await app.until("the collection picker", () =>
      app.eval(() => !!document.querySelector('[data-testid="inspector"] [data-testid="save-to-collection-name"]')),
    );
    await app.setValue('[data-testid="inspector"] [data-testid="save-to-collection-name"]', NAME);
    await app.click('[data-testid="inspector"] [data-testid="save-to-collection-save"]');
    const saved = await app.until("the save's result", () =>
      app.eval(() => document.querySelector('[data-testid="inspector"] [data-testid="save-to-collection-result"]')?.textContent),
    );
    assert.match(saved, /2 messages/);

    // Open it on the Collections tab: two messages, recorded from the source queue.
    await app.click('[data-testid="tab-collections"]');
    const item = `[data-testid="collection-item"][data-name="${NAME}"]`;
    await app.clickWhenReady(item);
    const labels = await app.until("the collection's two messages", () =>
      app.eval(() => {
        const rows = [...document.querySelectorAll('[data-testid="collection-message"]')];
        return rows.length === 2 ? rows.map((r) => r.textContent) : null;
      }),
    );
    assert.match(labels[0], /"order":1/);
    assert.match(labels[1], /"order":2/);
    assert.ok(labels.every((l) => l.includes(SOURCE)), `each message names its source queue: ${labels}`);

    // Edit message 2 in the composer and save it back.
    await press('[data-testid="collection-message"][data-index="1"] [data-testid="message-edit"]');
    await app.until("the composer with message 2", () =>
      app.eval(() => (document.querySelector('[data-testid="compose-body"]')?.value ?? "").includes('"order"')),
    );
    await app.setValue('[data-testid="compose-body"]', '{"order": 2, "edited": true}');
    await app.until("the save-back button to be enabled", () =>
      app.eval(() => document.querySelector('[data-testid="compose-save-back"]')?.disabled === false),
    );
    await press('[data-testid="compose-save-back"]');
    await app.until("the message saved back", () =>
      app.eval(() => !!document.querySelector('[data-testid="compose-save-back-result"]')),
    );

    await app.click('[data-testid="tab-collections"]');
    await app.until("the edited message in the collection", () =>
      app.eval(() =>
        (document.querySelector('[data-testid="collection-message"][data-index="1"]')?.textContent ?? "").includes('"edited": true'),
      ),
    );

    // Replay all of it to the target queue through the default exchange.
    await press('[data-testid="replay-override-exchange"]');
    await app.setValue('[data-testid="replay-exchange"]', "");
    await press('[data-testid="replay-override-key"]');
    await app.setValue('[data-testid="replay-routing-key"]', TARGET);
    await app.setValue('[data-testid="replay-pacing"]', "original");
    await app.setValue('[data-testid="replay-speed"]', "2");
    await app.until("the replay button", () =>
      app.eval(() => document.querySelector('[data-testid="replay-start"]')?.disabled === false),
    );
    await press('[data-testid="replay-start"]');
    const totals = await app.until(
      "the replay's report",
      () =>
        app.eval(() => {
          const r = document.querySelector('[data-testid="replay-report"]');
          if (!r) return null;
          const n = (id) => Number(r.querySelector(`[data-testid="${id}"]`)?.textContent);
          const rows = [...r.querySelectorAll('[data-testid="report-row"]')].map((e) => [Number(e.dataset.index), e.dataset.fate]);
          return { total: n("report-total"), confirmed: n("report-confirmed"), returned: n("report-returned"), rows };
        }),
      30_000,
    );
    assert.deepEqual(totals, {
      total: 2,
      confirmed: 2,
      returned: 0,
      rows: [
        [0, "confirmed"],
        [1, "confirmed"],
      ],
    });
    // The report is kept beside the collection.
    await app.until("the kept report", () => app.eval(() => document.querySelectorAll('[data-testid="past-report"]').length >= 1));

    // The replayed messages are in the target queue, the edit included; the source is intact.
    await waitForCount(TARGET, 2);
    const got = await api("POST", `queues/%2F/${encodeURIComponent(TARGET)}/get`, {
      count: 10,
      ackmode: "ack_requeue_true",
      encoding: "auto",
    });
    assert.deepEqual(
      got.map((m) => [JSON.parse(m.payload), m.properties.message_id, m.properties.headers?.["x-n"]]),
      [
        [{ order: 1 }, "m1", 1],
        [{ order: 2, edited: true }, "m2", 2],
      ],
    );
    await waitForCount(SOURCE, 2);

    // The whole collection, from its header down to the report, for the screenshot.
    await app.eval(() => {
      for (let el = document.querySelector('[data-testid="collections-view"]'); el; el = el.parentElement) el.scrollTop = 0;
    });
    // One picture for the docs, from the first cluster tests/all runs (the same on 4.x).
    if (cluster.version === "3.10") await app.screenshot("docs/screenshots/replay.png");

    // Delete the collection from the app: it leaves the list.
    await press('[data-testid="collection-delete"]');
    await press('[data-testid="collection-delete-confirm"]');
    await app.until("the collection gone from the list", () =>
      app.eval((sel) => !document.querySelector(sel), item),
    );
  });
});
