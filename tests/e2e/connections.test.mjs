// The operator's connections view in the real app: a client consuming a queue is listed with
// its channels and unacknowledged messages, and closing it from the view (a reason, then a
// confirmation) reaches the client with that reason.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, cluster, onlyOn, openApp, repo } from "./app.mjs";

// The view reads the management API the same way on 4.x: checked once, on 3.x.
describe("the connections view", { skip: onlyOn("3.0", "4.0", "connections read the same on 4.x") }, () => {
  const QUEUE = "e2e.connections";
  let app;
  let client;
  let clientErr = "";
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
    for (let i = 0; i < 3; i++) {
      await api("POST", "exchanges/%2F/amq.default/publish", {
        routing_key: QUEUE,
        properties: {},
        payload: `m${i}`,
        payload_encoding: "string",
      });
    }
    // A client holding the three messages unacknowledged until it ends, on node 1 only.
    const node = cluster.nodes[0];
    client = spawn(
      resolve(repo, "target/debug/warren"),
      [
        "--node", `amqp://guest:guest@127.0.0.1:${node.amqp}/%2f`,
        "--api", `http://guest:guest@127.0.0.1:${node.api}`,
        "consume", QUEUE, "--count", "10", "--reject-requeue", "--idle-timeout", "60",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    client.stderr.on("data", (d) => (clientErr += d));
    app = await openApp();
  });
  after(async () => {
    client?.kill();
    await app?.close();
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  test("a consuming client is listed, and closing it from the view tells it the reason", async () => {
    // The client's connection, as the broker names it (the cluster is shared: close only it).
    const deadline = Date.now() + 20_000;
    let connection;
    while (!connection && Date.now() < deadline) {
      const consumers = (await api("GET", "consumers/%2F")) ?? [];
      connection = consumers.find((c) => c.queue?.name === QUEUE)?.channel_details?.connection_name;
      if (!connection) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(connection, "the consuming client never showed among the consumers");

    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-connections"]');
    const row = `[data-testid="connection-row"][data-connection="${connection}"]`;
    // Its channel's unacknowledged count reaches the API a few seconds late: reload until shown.
    await app.until(
      "the client's row with its three unacknowledged messages",
      async () => {
        const unacked = await app.eval((s) => document.querySelector(s)?.dataset.unacked ?? null, row);
        if (unacked === "3") return true;
        await app.click('[data-testid="reload-connections"]');
        return false;
      },
      30_000,
    );
    await app.click(`${row} [data-testid="close-connection"]`);
    await app.setValue('[data-testid="close-reason"]', "e2e: maintenance window");
    await app.painted();
    await app.screenshot("docs/screenshots/connections.png");
    await app.click('[data-testid="confirm-close"]');
    await app.until("the closed notice", () =>
      app.eval(() => document.querySelector('[data-testid="connection-closed"]')?.textContent ?? null),
    );
    await app.until("the client to hear the reason", () => clientErr.includes("e2e: maintenance window"));
  });
});
