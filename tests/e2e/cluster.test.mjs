// The support-staff path in the real app: the home screen shows the demo cluster healthy,
// the cluster view lists three running nodes, and a node stopped for real turns red.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { clusterNode, openApp } from "./app.mjs";

let app;
before(async () => {
  app = await openApp();
});
after(async () => {
  await app?.close();
});

test("home screen shows the demo cluster with three nodes up", async () => {
  const card = '[data-testid="cluster-card"][data-profile="local-demo"]';
  // Earlier tests may have stopped nodes: give mirrors a minute to resynchronise.
  const seen = await app.until(
    "the local-demo card to show 3/3 nodes and health ok",
    () =>
      app.eval((sel) => {
        const el = document.querySelector(sel);
        const text = el?.querySelector('[data-testid="nodes-up"]')?.textContent ?? "";
        return text.includes("3/3") && el?.dataset.health === "ok" ? { text, health: el.dataset.health } : null;
      }, card),
    60_000,
  );
  assert.match(seen.text, /3\/3 nodes up/);
  assert.equal(seen.health, "ok");
});

test("a stopped node turns red in the cluster view", async () => {
  await app.click('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
  const rows = () =>
    app.eval(() =>
      [...document.querySelectorAll('[data-testid="node-row"]')].map((r) => ({
        node: r.dataset.node,
        state: r.dataset.state,
        color: getComputedStyle(r).backgroundColor,
      })),
    );
  const running = await app.until("three running nodes", async () => {
    const r = await rows();
    return r.length === 3 && r.every((x) => x.state === "running") ? r : null;
  });
  assert.deepEqual(running.map((r) => r.node).sort(), [
    "warren-1@localhost",
    "warren-2@localhost",
    "warren-3@localhost",
  ]);

  clusterNode("stop", 2);
  try {
    const down = await app.until(
      "warren-2 to show as down",
      async () => (await rows()).find((r) => r.node === "warren-2@localhost" && r.state === "down"),
      30_000,
    );
    // Red: the red channel clearly dominates the row's background.
    const [r, g, b] = down.color.match(/\d+/g).map(Number);
    assert.ok(r > g + 40 && r > b + 40, `row colour ${down.color} is not red`);
    const others = (await rows()).filter((x) => x.node !== "warren-2@localhost");
    assert.ok(others.every((x) => x.state === "running"));
    const level = await app.eval(
      () => document.querySelector('[data-testid="health-badge"]')?.dataset.level,
    );
    assert.equal(level, "critical");
    await app.screenshot("docs/screenshots/cluster.png");
  } finally {
    clusterNode("start", 2);
  }
  await app.until(
    "warren-2 to come back",
    async () => (await rows()).every((x) => x.state === "running"),
    60_000,
  );
});
