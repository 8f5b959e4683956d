// The support-staff path in the real app: the home screen shows the demo cluster healthy,
// the cluster view lists three running nodes, and a node stopped for real turns red.
// On a 4.x cluster "healthy" is a warning: the seed leaves a dead ha-* policy behind, which
// the view flags, with no mirroring anywhere and the quorum queues' leaders and members.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, cluster, clusterNode, onlyOn, openApp } from "./app.mjs";

const total = cluster.nodes.length;
const healthy = cluster.major < 4 ? "ok" : "warning";
const stopped = cluster.nodes[1].name;
const nodeNames = cluster.nodes.map((n) => n.name).sort();
/** The quorum queues tests/cluster/seed declares on 4.x, each with a member on every node. */
const seededQuorum = ["demo.quorum", "demo.quorum.jobs", "demo.quorum.limited", "demo.quorum.priorities"];

let app;
before(async () => {
  app = await openApp();
});
after(async () => {
  await app?.close();
});

/** Opens the local-demo cluster view unless it is open already. */
async function openClusterView() {
  const open = await app.eval(() => !!document.querySelector('[data-testid="cluster-view"]'));
  if (!open) await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
}

const rows = () =>
  app.eval(() =>
    [...document.querySelectorAll('[data-testid="node-row"]')].map((r) => ({
      node: r.dataset.node,
      state: r.dataset.state,
      color: getComputedStyle(r).backgroundColor,
    })),
  );

/** The quorum queues or streams (`kind`) as the view shows them: leader, members, flagged members. */
const replicated = (kind) =>
  app.eval(
    (k) =>
      [...document.querySelectorAll(`[data-testid="${k}-row"]`)].map((r) => {
        const members = [...r.querySelectorAll("li.member")];
        const name = (li) => li.textContent.replace("★", "").trim();
        return {
          queue: r.dataset.queue,
          spare: r.dataset.spare ?? null,
          leader: members.filter((li) => li.querySelector(".star")).map(name)[0] ?? null,
          members: members.map(name).sort(),
          offline: members.filter((li) => li.dataset.flagged === "true").map(name),
        };
      }),
    kind,
  );

/** Quorum queues and streams of vhost "/" as the management API reports them. */
async function brokerReplicated() {
  const queues = await api("GET", "queues/%2F?columns=name,type,leader,members,online");
  return Object.fromEntries(queues.filter((q) => q.type !== "classic").map((q) => [q.name, q]));
}

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

test(
  "on 4.x the cluster view has no mirroring, flags the dead ha-demo policy and shows quorum leaders and members",
  { skip: onlyOn("4.0", null, "3.x mirrors classic queues") },
  async () => {
    await openClusterView();
    const quorum = await app.until("the seeded quorum queues with all members online", async () => {
      const q = await replicated("quorum");
      return seededQuorum.every((name) => q.find((x) => x.queue === name && x.offline.length === 0 && x.leader)) ? q : null;
    });

    // No mirroring on 4.x: no mirrored tile, no mirrored section.
    const mirroring = await app.eval(() => ({
      tile: !!document.querySelector('[data-testid="queue-counts"] [data-count="mirrored"]'),
      section: !!document.querySelector('[data-testid="mirrored-section"]'),
    }));
    assert.deepEqual(mirroring, { tile: false, section: false });

    // The ha-demo policy the seed left behind is dead configuration, and the reason for the warning.
    const dead = await app.eval(() =>
      [...document.querySelectorAll('[data-testid="dead-policy-row"]')].map((r) => ({
        name: r.cells[0].textContent.trim(),
        keys: [...r.querySelectorAll("code")].map((c) => c.textContent).sort(),
      })),
    );
    assert.deepEqual(
      dead.find((p) => p.name === "ha-demo"),
      { name: "ha-demo", keys: ["ha-mode", "ha-sync-mode"] },
      JSON.stringify(dead),
    );
    assert.equal(await app.eval(() => document.querySelector('[data-testid="health-badge"]')?.dataset.level), "warning");
    assert.match(await app.text('[data-testid="health-reasons"]'), /ha-\*/);

    // Quorum queues and streams: every member, and the leader the broker reports.
    const broker = await brokerReplicated();
    for (const name of seededQuorum) {
      const shown = quorum.find((x) => x.queue === name);
      assert.deepEqual(shown.members, nodeNames, name);
      assert.equal(shown.leader, broker[name].leader, `${name}: leader`);
      assert.equal(shown.spare, "1", `${name}: one member may go before the majority is lost`);
    }
    const stream = (await replicated("stream")).find((x) => x.queue === "demo.stream");
    assert.deepEqual(stream?.members, nodeNames, "demo.stream members");
    assert.equal(stream.leader, broker["demo.stream"].leader, "demo.stream leader");
  },
);

test("a stopped node turns red in the cluster view", async () => {
  await openClusterView();
  const running = await app.until(`${total} running nodes`, async () => {
    const r = await rows();
    return r.length === total && r.every((x) => x.state === "running") ? r : null;
  });
  assert.deepEqual(running.map((r) => r.node).sort(), nodeNames);

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
    if (cluster.major >= 4) {
      // Each seeded quorum queue shows the stopped member offline, no spare member left, and a
      // leader on one of the other nodes.
      const quorum = await app.until(
        `the seeded quorum queues to show ${stopped} offline and a leader on another node`,
        async () => {
          const q = (await replicated("quorum")).filter((x) => seededQuorum.includes(x.queue));
          const moved = q.every((x) => x.offline.includes(stopped) && x.leader && x.leader !== stopped);
          return q.length === seededQuorum.length && moved ? q : null;
        },
        30_000,
      );
      for (const q of quorum) {
        assert.deepEqual(q.offline, [stopped], q.queue);
        assert.equal(q.spare, "0", q.queue);
      }
    }
    // The picture shows the node down: taken with auto-refresh paused, so that no refresh
    // repaints the view during the shot, and only while the view still shows it down.
    const shot = cluster.major < 4 ? "docs/screenshots/cluster.png" : "docs/screenshots/cluster-4x.png";
    const isDown = async () => !!(await rows()).find((x) => x.node === stopped && x.state === "down");
    await app.until(`a still view with ${stopped} down for the screenshot`, async () => {
      await app.setValue('[data-testid="refresh-interval"]', "0");
      await app.eval(() => document.activeElement?.blur());
      await new Promise((done) => setTimeout(done, 1000));
      if (await isDown()) {
        await app.screenshot(shot);
        if (await isDown()) return true;
      }
      await app.click('[data-testid="refresh-now"]');
      return false;
    }, 30_000);
    await app.setValue('[data-testid="refresh-interval"]', "5000");
  } finally {
    clusterNode("start", 2);
  }
  await app.until(
    `${stopped} to come back`,
    async () => (await rows()).every((x) => x.state === "running"),
    60_000,
  );
});
