// The composer in the real app: a JSON message with typed headers is published, confirmed,
// and then found in its queue with every header's type intact.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, onlyOn, openApp, warren } from "./app.mjs";

// RabbitMQ 3.x only: the composer publishes the same way on 4.x, where the integration tests
// check every header type and property round-trip (and the screenshot stays the 3.10 one).
describe("the composer", { skip: onlyOn("3.0", "4.0", "the composer publishes the same way") }, () => {
  const QUEUE = "e2e.compose";
  let app;
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
    app = await openApp();
  });
  after(async () => {
    await app?.close();
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  test("compose a JSON message with typed headers, publish it, see it confirmed and browse it", async () => {
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-publish"]');
    await app.until("the composer", () => app.eval(() => !!document.querySelector('[data-testid="composer"]')));

    // The default exchange, routing straight to the queue.
    await app.until("the exchange list", () =>
      app.eval(() => (document.querySelector('[data-testid="compose-exchange"]')?.options?.length ?? 0) > 1),
    );
    await app.setValue('[data-testid="compose-exchange"]', "");
    await app.setValue('[data-testid="compose-routing-key"]', QUEUE);
    await app.setValue('[data-testid="compose-body-mode"]', "json");
    await app.setValue('[data-testid="compose-body"]', '{"order": 42, "items": ["tea", "cake"]}');
    await app.setValue('[data-testid="prop-message_id"]', "e2e-1");

    // Two typed headers: an i16 and a bool.
    for (const [name, type, value] of [
      ["attempt", "i16", "3"],
      ["vip", "bool", "true"],
    ]) {
      await app.click('[data-testid="header-add"]');
      const index = await app.eval(() => document.querySelectorAll('[data-testid="header-editor-row"]').length - 1);
      const scoped = (id) =>
        app.eval(
          (i, tid) => {
            const rows = document.querySelectorAll('[data-testid="header-editor-row"]');
            const el = rows[i]?.querySelector(`[data-testid="${tid}"]`);
            if (!el) return null;
            el.setAttribute("data-e2e-target", `${tid}-${i}`);
            return `[data-e2e-target="${tid}-${i}"]`;
          },
          index,
          id,
        );
      await app.setValue(await scoped("header-name"), name);
      await app.setValue(await scoped("header-type"), type);
      const valueSel = await scoped("header-value");
      // A bool may be a select or a checkbox; a text value otherwise.
      const kind = await app.eval((s) => document.querySelector(s)?.type, valueSel);
      if (kind === "checkbox") {
        const checked = await app.eval((s) => document.querySelector(s).checked, valueSel);
        if (!checked) await app.click(valueSel);
      } else {
        await app.setValue(valueSel, value);
      }
    }

    await app.until("publish to be enabled", () =>
      app.eval(() => document.querySelector('[data-testid="compose-publish"]')?.disabled === false),
    );
    await app.click('[data-testid="compose-publish"]');
    const summary = await app.until(
      "the publish summary",
      () =>
        app.eval(() => {
          const s = document.querySelector('[data-testid="publish-summary"]');
          return s ? { ...s.dataset, text: s.textContent } : null;
        }),
      30_000,
    );
    assert.equal(summary.confirmed, "1", summary.text);
    assert.equal(summary.failed, "0");
    assert.equal(summary.returned, "0");
    assert.equal(summary.nacked, "0");
    await app.eval(() => {
      document.activeElement?.blur();
      document.querySelector("main")?.scrollTo(0, 0);
    });
    await app.screenshot("docs/screenshots/compose.png");

    // The broker holds exactly that message, with the header types the composer showed.
    const [peeked] = warren("peek", QUEUE, "--count", "5", "--json")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(JSON.parse(peeked.body), { order: 42, items: ["tea", "cake"] });
    assert.equal(peeked.properties.content_type, "application/json");
    assert.equal(peeked.properties.message_id, "e2e-1");
    assert.deepEqual(peeked.properties.headers, { attempt: { $type: "i16", value: 3 }, vip: true });

    // And the app's own browser shows it.
    await app.click('[data-testid="tab-queues"]');
    await app.setValue('[data-testid="queue-filter"]', QUEUE);
    await app.until("the filter to leave only the test queue", () =>
      app.eval((q) => {
        const names = [...document.querySelectorAll('[data-testid="queue-row"]')].map((r) => r.dataset.queue);
        return names.length === 1 && names[0] === q;
      }, QUEUE),
    );
    await app.click(`[data-testid="queue-row"][data-queue="${QUEUE}"] button`);
    await app.clickWhenReady('[data-testid="browse-queue"]');
    await app.clickWhenReady('[data-testid="peek-start"]');
    await app.clickWhenReady('[data-testid="message-row"][data-position="1"]', 30_000);
    const headers = await app.until("the browsed message's typed headers", () =>
      app.eval(() => {
        const rows = [...document.querySelectorAll('[data-testid="message-detail"] [data-testid="header-row"]')];
        return rows.length === 2 ? Object.fromEntries(rows.map((r) => [r.dataset.header, r.dataset.type])) : null;
      }),
    );
    assert.deepEqual(headers, { attempt: "i16", vip: "bool" });
  });
});
