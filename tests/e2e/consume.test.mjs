// Consuming in the real app: a consumer tab on a queue with a dead-letter exchange, manual ack.
// One message acked (gone from the queue), one rejected without requeue (into the dead-letter
// queue), the rest given back when the consumer stops (the tab says how many); then the
// rejected one is sent back from the dead-letter queue's Browse inspector, and the queue
// counts follow every step.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, openApp } from "./app.mjs";

// Queues and an exchange of its own, filled afresh: the seeded demo queues are other tests'.
const QUEUE = "e2e.consume.orders";
const DLX = "e2e.consume.dlx";
const DEAD = "e2e.consume.dead-letters";
const COUNT = 6;

/** `{ready, unacked, total}` of a queue as the management API counts it. */
async function counts(queue) {
  const q = await api("GET", `queues/%2F/${encodeURIComponent(queue)}?disable_stats=false`);
  return { ready: q?.messages_ready ?? null, unacked: q?.messages_unacknowledged ?? null, total: q?.messages ?? null };
}

async function cleanUp() {
  await api("DELETE", `queues/%2F/${QUEUE}`);
  await api("DELETE", `queues/%2F/${DEAD}`);
  await api("DELETE", `exchanges/%2F/${DLX}`);
}

describe("consume a queue", () => {
  let app;
  before(async () => {
    await cleanUp();
    await api("PUT", `exchanges/%2F/${DLX}`, { type: "fanout", durable: true });
    await api("PUT", `queues/%2F/${DEAD}`, { durable: true, auto_delete: false, arguments: {} });
    await api("POST", `bindings/%2F/e/${DLX}/q/${DEAD}`, { routing_key: "", arguments: {} });
    await api("PUT", `queues/%2F/${QUEUE}`, {
      durable: true,
      auto_delete: false,
      arguments: { "x-dead-letter-exchange": DLX },
    });
    for (let i = 1; i <= COUNT; i++) {
      const reply = await api("POST", "exchanges/%2F/amq.default/publish", {
        routing_key: QUEUE,
        properties: { message_id: `order-${i}`, content_type: "application/json", delivery_mode: 2, headers: { "x-order": i } },
        payload: JSON.stringify({ order: i, item: ["tea", "rice", "soap", "salt", "figs", "oats"][i - 1], quantity: i * 2 }, null, 2),
        payload_encoding: "string",
      });
      assert.equal(reply.routed, true);
    }
    app = await openApp();
  });
  after(async () => {
    await app?.close();
    await cleanUp();
  });

  /** The consumer tab's rows: [{seq: position, state}]. */
  const rows = () =>
    app.eval(() =>
      [...document.querySelectorAll('[data-testid="consumer-panel"] [data-testid="message-row"]')].map((r) => ({
        position: Number(r.dataset.position),
        state: r.dataset.state,
      })),
    );

  /** The tab's count of deliveries in `state` (0 when not shown). */
  const stateCount = (state) =>
    app.eval(
      (s) => Number(document.querySelector(`[data-testid="consumer-panel"] [data-testid="state-count"][data-state="${s}"]`)?.dataset.count ?? 0),
      state,
    );

  test("ack one, reject one into the dead-letter queue, stop, send it back", async () => {
    await app.until("the broker to count the published messages", async () => (await counts(QUEUE)).total === COUNT, 30_000);

    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-queues"]');
    await app.setValue('[data-testid="queue-filter"]', QUEUE);
    await app.until("the filter to leave only the test queue", () =>
      app.eval((q) => {
        const names = [...document.querySelectorAll('[data-testid="queue-row"]')].map((r) => r.dataset.queue);
        return names.length === 1 && names[0] === q;
      }, QUEUE),
    );
    await app.click(`[data-testid="queue-row"][data-queue="${QUEUE}"] button`);
    await app.clickWhenReady('[data-testid="consume-queue"]');

    // A consumer tab opened, with manual ack chosen and a small prefetch.
    await app.until("the consumer tab", () => app.eval(() => !!document.querySelector('[data-testid="consume-tab"]')));
    assert.equal(await app.eval(() => document.querySelector('[data-testid="consume-ack-manual"]').checked), true);
    assert.equal(await app.eval(() => document.querySelector('[data-testid="consume-prefetch"]').value), "20");
    await app.click('[data-testid="consume-start"]');

    const delivered = await app.until(
      "every message delivered, unacked",
      async () => {
        const r = await rows();
        return r.length === COUNT && r.every((x) => x.state === "unacked") ? r : null;
      },
      30_000,
    );
    assert.deepEqual(
      delivered.map((r) => r.position),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(await stateCount("unacked"), COUNT);
    assert.match(await app.text('[data-testid="consumer-timeout"]'), /Consumer timeout: \d/);
    await app.until("the broker to count them unacknowledged", async () => (await counts(QUEUE)).unacked === COUNT, 30_000);

    // Ack the first.
    await app.click('[data-testid="consumer-panel"] [data-testid="message-row"][data-position="1"]');
    await app.until("the first delivery's facts", () =>
      app.eval(() => document.querySelector('[data-testid="delivery-facts"]')?.dataset.seq === "1"),
    );
    await app.click('[data-testid="settle-ack"]');
    await app.until("the first delivery acked", async () => (await rows())[0]?.state === "acked");
    assert.equal(await stateCount("acked"), 1);
    assert.equal(await stateCount("unacked"), COUNT - 1);

    // Reject the second without requeue: the dead-letter exchange routes it to DEAD.
    await app.click('[data-testid="consumer-panel"] [data-testid="message-row"][data-position="2"]');
    await app.until("the second delivery's facts", () =>
      app.eval(() => document.querySelector('[data-testid="delivery-facts"]')?.dataset.seq === "2"),
    );
    await app.click('[data-testid="settle-reject"]');
    await app.until("the second delivery rejected", async () => (await rows())[1]?.state === "rejected");
    assert.equal(await stateCount("rejected"), 1);
    await app.until(
      "the queue to count 4 unacked and the dead-letter queue 1 message",
      async () => {
        const [q, d] = [await counts(QUEUE), await counts(DEAD)];
        return q.total === COUNT - 2 && q.unacked === COUNT - 2 && d.total === 1;
      },
      30_000,
    );
    // Open the third, for the picture: its state, tag and body.
    await app.click('[data-testid="consumer-panel"] [data-testid="message-row"][data-position="3"]');
    await app.until("the third delivery open, its body shown", () =>
      app.eval(
        () =>
          document.querySelector('[data-testid="delivery-facts"]')?.dataset.seq === "3" &&
          document.querySelector('[data-testid="consumer-panel"] [aria-selected="true"][data-testid="message-row"]')?.dataset.position === "3" &&
          (document.querySelector('[data-testid="message-body"]')?.textContent ?? "").includes("soap"),
      ),
    );
    await app.painted();
    await app.screenshot("docs/screenshots/consume.png");

    // Stop: the four unsettled deliveries go back, and the tab says so.
    await app.click('[data-testid="consumer-stop"]');
    const stopped = await app.until("the stop report", () =>
      app.eval(() => {
        const n = document.querySelector('[data-testid="consumer-stopped"]');
        return n ? { returned: Number(n.dataset.returned), text: n.textContent } : null;
      }),
    );
    assert.equal(stopped.returned, COUNT - 2, stopped.text);
    assert.match(stopped.text, /4 went back/);
    await app.until(
      "the queue to hold the four given back, ready",
      async () => {
        const q = await counts(QUEUE);
        return q.ready === COUNT - 2 && q.unacked === 0;
      },
      30_000,
    );

    // Send the rejected message back from the dead-letter queue's inspector.
    await app.clickWhenReady('[data-testid="tab-browse"]');
    await app.setValue('[data-testid="peek-queue"]', DEAD);
    await app.clickWhenReady('[data-testid="peek-start"]');
    await app.until(
      "the dead-lettered message in the inspector",
      () => app.eval(() => document.querySelectorAll('[data-testid="inspector"] [data-testid="message-row"]').length === 1),
      30_000,
    );
    await app.click('[data-testid="inspector"] [data-testid="message-row"][data-position="1"]');
    await app.clickWhenReady('[data-testid="ops-send_back"]');
    await app.clickWhenReady('[data-testid="ops-review"]');
    await app.until("the send-back plan", () => app.eval(() => !!document.querySelector('[data-testid="ops-confirm"]')), 30_000);
    if (await app.eval(() => !!document.querySelector('[data-testid="ops-consent"]'))) {
      await app.click('[data-testid="ops-consent"]');
    }
    await app.click('[data-testid="ops-confirm-go"]');
    await app.until("the send-back report", () => app.eval(() => !!document.querySelector('[data-testid="ops-report"]')), 30_000);
    await app.until(
      "the rejected message back in its queue, and the dead-letter queue empty",
      async () => {
        const [q, d] = [await counts(QUEUE), await counts(DEAD)];
        return q.total === COUNT - 1 && d.total === 0;
      },
      30_000,
    );
  });
});
