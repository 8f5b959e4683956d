// A quorum queue peeked in the real app on RabbitMQ 4.3 or later: the plan says what the peek
// changes (there, a nack gives the messages back without counting toward the delivery limit,
// so the peek is harmless and runs without asking), the messages come in the order a consumer
// would get them (4.x delivers priorities above 4 first), and the queue keeps every message,
// in the same order.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, onlyOn, openApp, warren } from "./app.mjs";

// A queue of its own, filled afresh: the seeded demo.quorum.priorities is in consumer order only
// until something changes it (returned messages change places when its leader moves).
const QUEUE = "e2e.quorum.priorities";
const PRIORITIES = [0, 7, 3, 9, 1, 5, 0, 8];

/** The queue's messages as `warren peek` sees them, in queue order. */
function cliMessages() {
  return warren("peek", QUEUE, "--count", "100", "--json")
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l))
    .map((m) => ({ id: m.properties.message_id ?? null, priority: m.properties.priority ?? 0 }));
}

describe("peek a 4.x quorum queue", { skip: onlyOn("4.3", null, "4.3 counts no nack toward the delivery limit") }, () => {
  let app;
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: { "x-queue-type": "quorum" } });
    // Published through the management API, in this order, each with its priority.
    for (const [i, priority] of PRIORITIES.entries()) {
      const reply = await api("POST", "exchanges/%2F/amq.default/publish", {
        routing_key: QUEUE,
        properties: { priority, message_id: `prio-${i + 1}`, content_type: "application/json", headers: { "x-seq": i + 1 } },
        payload: JSON.stringify({ seq: i + 1, priority }, null, 2),
        payload_encoding: "string",
      });
      assert.equal(reply.routed, true);
    }
    app = await openApp();
  });
  after(async () => {
    await app?.close();
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  test("peek a quorum queue with priorities: a harmless plan, consumer order, the queue unchanged", async () => {
    const before = cliMessages();
    assert.equal(before.length, PRIORITIES.length);

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
    await app.clickWhenReady('[data-testid="browse-queue"]');
    await app.setValue('[data-testid="peek-count"]', "100");

    // A harmless peek runs straight after its plan, which shows only while it runs: record
    // every plan shown and whether Warren asked for consent.
    await app.eval(() => {
      window.e2ePlans = [];
      window.e2eConsent = false;
      const seen = () => {
        const plan = document.querySelector('[data-testid="peek-plan"]');
        const text = plan?.textContent.replace(/\s+/g, " ").trim();
        if (plan && !window.e2ePlans.some((p) => p.text === text)) {
          window.e2ePlans.push({ harmless: plan.dataset.harmless, text });
        }
        if (document.querySelector('[data-testid="peek-consent"]')) window.e2eConsent = true;
      };
      new MutationObserver(seen).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    await app.clickWhenReady('[data-testid="peek-start"]');

    const shown = await app.until(
      "the peeked messages",
      () =>
        app.eval((n) => {
          const rows = [...document.querySelectorAll('[data-testid="message-row"]')];
          return rows.length === n
            ? rows.map((r) => ({
                position: Number(r.dataset.position),
                id: r.querySelector('[role="gridcell"].message_id')?.textContent.trim() ?? null,
              }))
            : null;
        }, before.length),
      30_000,
    );

    // The plan: a quorum queue, nack with requeue, harmless; nothing asked.
    const plans = await app.eval(() => window.e2ePlans);
    assert.equal(plans.length, 1, JSON.stringify(plans));
    assert.equal(plans[0].harmless, "true", plans[0].text);
    assert.match(plans[0].text, /^harmless quorum, .*nack with requeue/, plans[0].text);
    assert.equal(await app.eval(() => window.e2eConsent), false, "Warren asked for consent");
    const summary = (await app.text('[data-testid="inspection-summary"]')).replace(/\s+/g, " ");
    assert.ok(summary.includes(`${before.length} messages from ${QUEUE}`), summary);
    assert.ok(summary.includes("nack_requeue"), summary);

    // The messages, in the order a consumer gets them: the CLI's, where every priority above 4
    // comes before the others.
    assert.deepEqual(
      shown.map((r) => r.position),
      before.map((_, i) => i + 1),
    );
    assert.deepEqual(
      shown.map((r) => r.id),
      before.map((m) => m.id),
    );
    const high = PRIORITIES.filter((p) => p > 4).length;
    assert.ok(
      before.slice(0, high).every((m) => m.priority > 4),
      `priorities in consumer order: ${before.map((m) => m.priority)}`,
    );

    // The first message opened: its body and typed headers.
    await app.click('[data-testid="message-row"][data-position="1"]');
    const detail = await app.until("the first message's detail", () =>
      app.eval(() => {
        const d = document.querySelector('[data-testid="message-detail"]');
        const body = d?.querySelector('[data-testid="message-body"]')?.textContent ?? "";
        const headers = [...(d?.querySelectorAll('[data-testid="header-row"]') ?? [])].map((h) => [h.dataset.header, h.dataset.type]);
        return body.includes("priority") && headers.length > 0 ? { body, headers: Object.fromEntries(headers) } : null;
      }),
    );
    assert.match(detail.body, new RegExp(`"priority":\\s*${before[0].priority}\\b`));
    assert.equal(detail.headers["x-seq"], "i64", JSON.stringify(detail.headers));
    // 4.3 counts each return in a header of its own (the CLI's peek above returned it once).
    assert.equal(detail.headers["x-acquired-count"], "i64", JSON.stringify(detail.headers));
    await app.screenshot("target/e2e-quorum-peek.png");

    // The queue kept every message, in the same order.
    assert.deepEqual(cliMessages(), before);
    const plan = JSON.parse(warren("peek", QUEUE, "--plan", "--json"));
    assert.equal(plan.messages_ready, before.length);
  });
});
