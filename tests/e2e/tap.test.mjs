// A tap and a resume in the real app. The tap: a tap tab on a topic exchange, a message
// published to it shows in the tab, Stop removes the tap's temporary queue (the broker no
// longer has it). The resume: a consumer tab whose queue is deleted under it shows the
// broker's cancel; once the queue is back, Resume consumes it again.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, cluster, openApp } from "./app.mjs";

const EXCHANGE = "e2e.tap.events";
const QUEUE = "e2e.tap.resume";

/** Whether the broker has queue `name` (the management API's 200 or 404). */
async function queueExists(name) {
  const res = await fetch(`http://127.0.0.1:${cluster.nodes[0].api}/api/queues/%2F/${encodeURIComponent(name)}`, {
    headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` },
  });
  if (res.status !== 200 && res.status !== 404) throw new Error(`queue ${name}: HTTP ${res.status}`);
  return res.status === 200;
}

async function publish(exchange, routingKey, messageId, payload) {
  const reply = await api("POST", `exchanges/%2F/${encodeURIComponent(exchange)}/publish`, {
    routing_key: routingKey,
    properties: { message_id: messageId },
    payload,
    payload_encoding: "string",
  });
  return reply?.routed === true;
}

async function declareQueue() {
  await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
}

async function cleanUp() {
  await api("DELETE", `exchanges/%2F/${EXCHANGE}`);
  await api("DELETE", `queues/%2F/${QUEUE}`);
}

describe("tap an exchange, resume a consumer", () => {
  let app;
  before(async () => {
    await cleanUp();
    await api("PUT", `exchanges/%2F/${EXCHANGE}`, { type: "topic", durable: true });
    await declareQueue();
    assert.equal(await publish("amq.default", QUEUE, "before-1", "first"), true);
    app = await openApp();
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
  });
  after(async () => {
    await app?.close();
    await cleanUp();
  });

  /** The open live tab's panel (the visible one). */
  const panel = '[role="tabpanel"]:not([hidden]) [data-testid="consumer-panel"]';
  const rowTexts = () =>
    app.eval(
      (p) => [...document.querySelectorAll(`${p} [data-testid="message-row"]`)].map((r) => r.textContent.replace(/\s+/g, " ")),
      panel,
    );
  const phase = () => app.eval((p) => document.querySelector(p)?.dataset.phase ?? null, panel);

  test("a tap shows what is published and leaves no queue behind", async () => {
    await app.clickWhenReady('[data-testid="tab-exchanges"]');
    await app.setValue('[data-testid="exchange-filter"]', EXCHANGE);
    await app.clickWhenReady(`[data-testid="exchange-row"][data-exchange="${EXCHANGE}"] button`);
    await app.clickWhenReady('[data-testid="tap-exchange"]');
    await app.until("the tap tab", () => app.eval(() => !!document.querySelector('[data-testid="tap-tab"]')));
    assert.equal(await app.eval(() => document.querySelector('[data-testid="tap-key"]').value), "#");
    await app.click('[data-testid="tap-start"]');
    const tapQueue = await app.until("the tap running, through its queue", async () =>
      (await phase()) === "running" ? app.text(`${panel} [data-testid="consumer-queue"]`) : null,
    );
    assert.equal(await queueExists(tapQueue), true, `the tap's queue ${tapQueue} on the broker`);

    assert.equal(await publish(EXCHANGE, "order.created", "tapped-1", "hello through the tap"), true);
    const rows = await app.until("the tapped message in the tab", async () => {
      const r = await rowTexts();
      return r.length === 1 ? r : null;
    });
    assert.match(rows[0], /order\.created/);
    assert.match(rows[0], /hello through the tap/);

    await app.click(`${panel} [data-testid="consumer-stop"]`);
    const stopped = await app.until("the stop report", () => app.text(`${panel} [data-testid="consumer-stopped"]`));
    assert.match(stopped, /The tap queue was removed/);
    assert.equal(await queueExists(tapQueue), false, "the tap's queue is gone");
  });

  test("a consumer cancelled by the broker resumes once its queue is back", async () => {
    await app.clickWhenReady('[data-testid="tab-queues"]');
    await app.setValue('[data-testid="queue-filter"]', QUEUE);
    await app.clickWhenReady(`[data-testid="queue-row"][data-queue="${QUEUE}"] button`);
    await app.clickWhenReady('[data-testid="consume-queue"]');
    await app.clickWhenReady('[data-testid="consume-start"]');
    await app.until("the message delivered", async () => (await rowTexts()).length === 1, 30_000);

    await api("DELETE", `queues/%2F/${QUEUE}`);
    const banner = await app.until("the broker's cancel", () => app.text(`${panel} [data-testid="consumer-cancelled"]`));
    assert.match(banner, /The broker cancelled this consumer/);

    await declareQueue();
    assert.equal(await publish("amq.default", QUEUE, "after-1", "second"), true);
    await app.click(`${panel} [data-testid="consumer-resume"]`);
    await app.until("running again, with the new message", async () => (await phase()) === "running" && (await rowTexts()).length === 2, 30_000);
    const rows = await rowTexts();
    assert.match(rows[1], /after-1/);
    assert.equal(await app.eval((p) => !!document.querySelector(`${p} [data-testid="consumer-cancelled"]`), panel), false);
  });
});
