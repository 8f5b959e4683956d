// Operator views in the real app: shovels made through the management API appear in the
// cluster view (the one that cannot reach its destination highlighted, its source queue at
// risk), and a queue's detail charts its depth and rates with uPlot, drawn on a canvas in the
// theme's colours. Everything the tests create is deleted afterwards, however they end.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { after, before, test } from "node:test";
import { api, cluster, openApp, repo } from "./app.mjs";

const prefix = `e2e.charts.${process.pid}`;

let app;
before(async () => {
  app = await openApp();
});
after(async () => {
  await app?.close();
});

/** `METHOD /api/PATH` on node `n` (1-based) as guest; 404 is fine (already gone). */
async function apiOn(n, method, path, body) {
  const res = await fetch(`http://127.0.0.1:${cluster.nodes[n - 1].api}/api/${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
      "content-type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** A loopback port nothing listens on. */
async function unusedPort() {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

/** Opens the local-demo cluster unless it is open already, on tab `tab`. */
async function openCluster(tab) {
  const open = await app.eval(() => !!document.querySelector('[data-testid="cluster-workspace"]'));
  if (!open) await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
  await app.clickWhenReady(`[data-testid="tab-${tab}"]`);
}

test("shovels show in the cluster view: a running one, and one that cannot reach its destination highlighted", async () => {
  execFileSync(resolve(repo, "tests/cluster/plugins"), ["enable", "rabbitmq_shovel", "rabbitmq_shovel_management"], {
    stdio: "inherit",
  });
  const ok = `${prefix}.shovel.ok`;
  const down = `${prefix}.shovel.down`;
  const queues = [`${ok}.src`, `${ok}.dst`, `${down}.src`];
  const shovel = (src, uri, dest) => ({
    value: {
      "src-protocol": "amqp091",
      "src-uri": "amqp://",
      "src-queue": src,
      "dest-protocol": "amqp091",
      "dest-uri": uri,
      "dest-queue": dest,
    },
  });
  try {
    for (const q of [`${ok}.src`, `${down}.src`]) await api("PUT", `queues/%2F/${encodeURIComponent(q)}`, { durable: true });
    await api("PUT", `parameters/shovel/%2F/${encodeURIComponent(ok)}`, shovel(`${ok}.src`, "amqp://", `${ok}.dst`));
    const nowhere = `amqp://guest:e2e-secret@127.0.0.1:${await unusedPort()}`;
    await api("PUT", `parameters/shovel/%2F/${encodeURIComponent(down)}`, shovel(`${down}.src`, nowhere, "x"));

    await openCluster("status");
    const rows = await app.until(
      "both shovels in the cluster view, one running and one not",
      async () => {
        const r = await app.eval(
          (names) =>
            [...document.querySelectorAll('[data-testid="shovels-section"] [data-testid="link-row"]')]
              .filter((e) => names.includes(e.dataset.name))
              .map((e) => ({
                name: e.dataset.name,
                state: e.dataset.state,
                highlighted: e.classList.contains("row-warning"),
                background: getComputedStyle(e).backgroundColor,
                text: e.textContent,
              })),
          [ok, down],
        );
        const running = r.find((x) => x.name === ok && x.state === "running");
        const stuck = r.find((x) => x.name === down && x.state !== "running");
        return running && stuck ? { running, stuck } : null;
      },
      60_000,
    );
    assert.equal(rows.running.highlighted, false);
    assert.equal(rows.stuck.highlighted, true);
    assert.notEqual(rows.stuck.background, rows.running.background, "the stuck shovel's row is not highlighted");
    assert.ok(rows.running.text.includes(`queue "${ok}.src"`) && rows.running.text.includes(`queue "${ok}.dst"`), rows.running.text);
    const page = await app.eval(() => document.body.textContent);
    assert.ok(!page.includes("e2e-secret"), "a shovel's password on screen");

    // Its source queue is at risk, with the shovel as the reason.
    const risk = await app.until("the stuck shovel's source queue at risk", () =>
      app.eval(
        (q) => document.querySelector(`[data-testid="at-risk-row"][data-queue="${CSS.escape(q)}"]`)?.textContent ?? null,
        `${down}.src`,
      ),
    );
    assert.ok(risk.includes(`shovel "${down}"`), risk);
    // The federation plugin does not run here: said so, not an error.
    assert.ok(await app.eval(() => !!document.querySelector('[data-testid="federation-section"] [data-testid="links-unavailable"]')));
  } finally {
    // Through every node: 3.10 kept a shovel running on its node when its definition was
    // deleted through another.
    for (let n = 1; n <= cluster.nodes.length; n++) {
      for (const s of [ok, down]) await apiOn(n, "DELETE", `parameters/shovel/%2F/${encodeURIComponent(s)}`).catch(() => {});
    }
    for (const q of queues) await api("DELETE", `queues/%2F/${encodeURIComponent(q)}`).catch(() => {});
  }
});

test("a queue's detail charts its depth and rates on a canvas, with the published messages in it", async () => {
  const queue = `${prefix}.depth`;
  const count = 30;
  try {
    await api("PUT", `queues/%2F/${encodeURIComponent(queue)}`, { durable: true });
    for (let i = 0; i < count; i++) {
      await api("POST", "exchanges/%2F/amq.default/publish", {
        properties: {},
        routing_key: queue,
        payload: `m${i}`,
        payload_encoding: "string",
      });
    }

    await openCluster("queues");
    await app.setValue('[data-testid="queue-filter"]', queue);
    const row = `[data-testid="queue-row"][data-queue="${queue}"]`;
    await app.until(`${queue} in the queue list`, () => app.eval((s) => !!document.querySelector(s), row));
    await app.click(`${row} button`);

    const depth = '[data-testid="queue-chart"][data-kind="depth"]';
    const shown = await app.until(
      `the depth chart to reach ${count} ready messages`,
      () =>
        app.eval((sel) => {
          const fig = document.querySelector(sel);
          const latest = fig?.querySelector('[data-series="ready"] .mono')?.textContent ?? "";
          const values = Number(fig?.dataset.values ?? 0);
          return latest.trim() === "30" && values > 0 ? { latest, values } : null;
        }, depth),
      30_000,
    );
    assert.ok(shown.values > 0);

    // uPlot drew the series on its canvas in the theme's colour for "ready".
    const drawn = await app.until("the ready line drawn on the depth chart's canvas", () =>
      app.eval((sel) => {
        const canvas = document.querySelector(`${sel} canvas`);
        if (!canvas || canvas.width === 0) return null;
        const probe = document.createElement("span");
        probe.style.color = getComputedStyle(document.documentElement).getPropertyValue("--chart-ready");
        document.body.append(probe);
        const [r, g, b] = getComputedStyle(probe).color.match(/\d+/g).map(Number);
        probe.remove();
        const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
        let line = 0;
        let painted = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] === 0) continue;
          painted++;
          if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) line++;
        }
        return line > 20 ? { line, painted, size: [canvas.width, canvas.height] } : null;
      }, depth),
    );
    assert.ok(drawn.line > 20, JSON.stringify(drawn));
    const source = await app.eval(() => document.querySelector('[data-testid="queue-charts"]')?.dataset.source);
    assert.ok(["broker", "warren"].includes(source), source);
  } finally {
    await api("DELETE", `queues/%2F/${encodeURIComponent(queue)}`).catch(() => {});
  }
});
