// Watch rules in the real app: a rule set from a queue's "Watch…" is saved, the backend reads
// the queue, and messages published past the threshold raise an alert that the app lists (the
// bell counts it) and that reaches the desktop as a notification (the notification daemon
// `run` starts on the session bus prints it). A cluster's health switch is off until switched
// on, and kept in watch.json.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, onlyOn, openApp } from "./app.mjs";

// The rule reads the management API's queue counts, the same on 4.x: checked on 3.x.
describe("watch rules and alerts", { skip: onlyOn("3.0", "4.0", "watch readings are the same on 4.x") }, () => {
  const QUEUE = "e2e.notify.watch";
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

  test("a depth rule alerts in the app and on the desktop when messages pass it", async (t) => {
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-queues"]');
    const row = `[data-testid="queue-row"][data-queue="${QUEUE}"]`;
    await app.until(`${QUEUE} in the queue list`, () => app.eval((s) => !!document.querySelector(s), row));
    await app.setValue('[data-testid="queue-filter"]', QUEUE);
    await app.until("the filter to leave only the watched queue", () =>
      app.eval(() => document.querySelectorAll('[data-testid="queue-row"]').length === 1),
    );
    await app.click(`${row} button`);
    await app.clickWhenReady('[data-testid="watch-queue"]');
    await app.setValue('[data-testid="watch-threshold"]', "2");
    await app.click('[data-testid="watch-save"]');
    await app.until("the rule to be saved", () => app.text('[data-testid="watch-saved"]'));

    const saved = JSON.parse(readFileSync(join(process.env.WARREN_CONFIG_DIR, "watch.json"), "utf8"));
    assert.deepEqual(
      saved.rules.map((r) => [r.profile, r.queue, r.metric, r.comparison, r.threshold]),
      [["local-demo", QUEUE, "depth", "above", 2]],
    );
    assert.deepEqual(saved.clusters, [], "no cluster's health is watched unless switched on");
    assert.equal(await app.text('[data-testid="unseen-alerts"]'), null, "no alert before the messages");

    for (let i = 0; i < 3; i++) {
      await api("POST", "exchanges/%2F/amq.default/publish", {
        routing_key: QUEUE,
        properties: {},
        payload: `m${i}`,
        payload_encoding: "string",
      });
    }
    // The backend reads every 10 s, and the API's counts lag by up to 5 s.
    await app.until("the bell to count a new alert", () => app.text('[data-testid="unseen-alerts"]'), 45_000);

    await app.click('[data-testid="open-notifications"]');
    const listed = await app.until("the alert in the list", () =>
      app.eval(() =>
        [...document.querySelectorAll('[data-testid="alert"]')].map((a) => ({
          kind: a.dataset.kind,
          profile: a.dataset.profile,
          text: a.textContent,
        })),
      ).then((l) => (l.length > 0 ? l : null)),
    );
    assert.equal(listed.length, 1, JSON.stringify(listed));
    assert.equal(listed[0].kind, "rule");
    assert.equal(listed[0].profile, "local-demo");
    assert.match(listed[0].text, new RegExp(`depth of "${QUEUE.replaceAll(".", "\\.")}" above 2`));
    assert.match(listed[0].text, /now 3/);
    // Seen once the list is shown.
    await app.until("the bell to clear", async () => (await app.text('[data-testid="unseen-alerts"]')) === null);
    // The rule's state: read, and alerting.
    await app.until("the rule's last reading", async () =>
      /3\s*alerting/.test((await app.text('[data-testid="watch-rule"] [data-testid="rule-reading"]')) ?? ""),
    );

    // Health notifications: off by default, switched on here, kept in the file.
    const sw = '[data-testid="health-switch"][data-profile="local-demo"]';
    assert.equal(await app.eval((s) => document.querySelector(s)?.checked, sw), false);
    await app.click(sw);
    await app.until("the switch to be kept", () => {
      const kept = JSON.parse(readFileSync(join(process.env.WARREN_CONFIG_DIR, "watch.json"), "utf8"));
      return kept.clusters.some((c) => c.profile === "local-demo" && c.health);
    });
    await app.painted();
    await app.screenshot("docs/screenshots/notifications.png");

    const log = process.env.WARREN_E2E_NOTIFICATIONS;
    if (!log) {
      t.diagnostic("no notification daemon in this session (dunst missing): the desktop side is not checked");
      return;
    }
    const shown = await app.until("the desktop notification", () =>
      existsSync(log) && readFileSync(log, "utf8").includes(QUEUE) ? readFileSync(log, "utf8") : null,
    );
    assert.match(shown, /Warren: local-demo: depth of/);
    assert.match(shown, /now 3/);
  });
});
