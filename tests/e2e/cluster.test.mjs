// The support-staff path in the real app: the home screen shows the demo cluster healthy,
// the cluster view lists three running nodes, and a node stopped for real turns red.
// On a 4.x cluster "healthy" is a warning: the seed leaves a dead ha-* policy behind.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { cluster, clusterNode, openApp } from "./app.mjs";

const total = cluster.nodes.length;
const healthy = cluster.major < 4 ? "ok" : "warning";
const stopped = cluster.nodes[1].name;

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
    `the local-demo card to show ${total}/${total} nodes and health ${healthy}`,
    () =>
      app.eval(
        (sel, up, level) => {
          const el = document.querySelector(sel);
          const text = el?.querySelector('[data-testid="nodes-up"]')?.textContent ?? "";
          return text.includes(up) && el?.dataset.health === level ? { text, health: el.dataset.health } : null;
        },
        card,
        `${total}/${total}`,
        healthy,
      ),
    60_000,
  );
  assert.ok(seen.text.includes(`${total}/${total} nodes up`), seen.text);
  assert.equal(seen.health, healthy);
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
  const running = await app.until(`${total} running nodes`, async () => {
    const r = await rows();
    return r.length === total && r.every((x) => x.state === "running") ? r : null;
  });
  assert.deepEqual(
    running.map((r) => r.node).sort(),
    cluster.nodes.map((n) => n.name).sort(),
  );

  clusterNode("stop", 2);
  try {
    const down = await app.until(
      `${stopped} to show as down`,
      async () => (await rows()).find((r) => r.node === stopped && r.state === "down"),
      30_000,
    );
    // Red: the red channel clearly dominates the row's background.
    const [r, g, b] = down.color.match(/\d+/g).map(Number);
    assert.ok(r > g + 40 && r > b + 40, `row colour ${down.color} is not red`);
    const others = (await rows()).filter((x) => x.node !== stopped);
    assert.ok(others.every((x) => x.state === "running"));
    const level = await app.eval(
      () => document.querySelector('[data-testid="health-badge"]')?.dataset.level,
    );
    assert.equal(level, "critical");
    await app.screenshot(cluster.major < 4 ? "docs/screenshots/cluster.png" : "docs/screenshots/cluster-4x.png");
  } finally {
    clusterNode("start", 2);
  }
  await app.until(
    `${stopped} to come back`,
    async () => (await rows()).every((x) => x.state === "running"),
    60_000,
  );
});
