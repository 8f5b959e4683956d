// TLS in the real app: a profile saved for the cluster's TLS listeners with the test CA
// connects (its card reads the cluster over HTTPS and AMQPS) and carries no warning; the same
// listeners saved with verification turned off connect too, and the profile says so on its
// home card and above its workspace, as the issue asks ("a warning wherever that profile
// shows"). The profiles are saved by the CLI, into the store the app reads.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { onlyOn, openApp, repo } from "./app.mjs";

/** Node 1's TLS listeners on 3.10 (tests/cluster/layout: `tls 3.10 1 AMQPS HTTPS ...`). */
function tlsListeners() {
  const text = readFileSync(resolve(repo, "tests/cluster/layout"), "utf8");
  for (const line of text.split("\n")) {
    const w = line.replace(/#.*/, "").trim().split(/\s+/);
    if (w[0] === "tls" && w[1] === "3.10" && w[2] === "1") return { amqps: Number(w[3]), https: Number(w[4]) };
  }
  throw new Error("tests/cluster/layout has no TLS listeners for node 1 of 3.10");
}

// TLS is the app's and rustls' business, the same against any broker: checked on 3.10, whose
// state folder (and test CA) is the host's.
describe("TLS profiles in the app", { skip: onlyOn("3.0", "4.0", "TLS reads the same on 4.x") }, () => {
  const VERIFIED = "e2e-tls-verified";
  const UNVERIFIED = "e2e-tls-unverified";
  const stateDir = process.env.WARREN_CLUSTER_DIR || resolve(repo, "target/cluster");
  const ca = resolve(stateDir, "tls/ca.pem");
  let app;

  function addProfile(name, ...tlsArgs) {
    const { amqps, https } = tlsListeners();
    execFileSync(
      resolve(repo, "target/debug/warren"),
      [
        "profile", "add", name, "--replace", "--username", "guest", "--password-stdin",
        "--node", `amqps://localhost:${amqps}`, "--api", `https://localhost:${https}`,
        ...tlsArgs,
      ],
      { input: "guest\n", stdio: ["pipe", "ignore", "inherit"] },
    );
  }

  before(async () => {
    assert.ok(existsSync(ca), `no test CA at ${ca}: tests/cluster/up makes it`);
    addProfile(VERIFIED, "--ca-file", ca);
    addProfile(UNVERIFIED, "--insecure");
    app = await openApp();
  });
  after(async () => {
    await app?.close();
    for (const name of [VERIFIED, UNVERIFIED]) {
      execFileSync(resolve(repo, "target/debug/warren"), ["profile", "remove", name], { stdio: "ignore" });
    }
  });

  const card = (name) => `[data-testid="cluster-card"][data-profile="${name}"]`;

  test("both connect over TLS; only the unverified one carries the warning, on its card and workspace", async () => {
    // Each card read its cluster over HTTPS: the nodes count shows, no error.
    for (const name of [VERIFIED, UNVERIFIED]) {
      const up = await app.until(`${name}'s card to read its cluster`, () =>
        app.eval((sel) => {
          const c = document.querySelector(sel);
          if (c?.querySelector('[data-testid="card-error"]')) return `error: ${c.textContent}`;
          return c?.querySelector('[data-testid="nodes-up"]')?.textContent?.trim() || null;
        }, card(name)),
      );
      assert.ok(!String(up).startsWith("error"), `${name}: ${up}`);
    }
    const badge = (name) =>
      app.eval((sel) => document.querySelector(`${sel} [data-testid="tls-unverified"]`)?.textContent ?? null, card(name));
    assert.equal(await badge(VERIFIED), null, "a verified profile carries no warning");
    assert.equal(await badge(UNVERIFIED), "TLS unverified");

    // Its workspace says it in full above the tabs, and the cluster view works over AMQPS
    // and HTTPS all the same.
    await app.clickWhenReady(`${card(UNVERIFIED)} [data-testid="open-cluster"]`);
    const line = await app.until("the workspace's warning", () => app.text('p[data-testid="tls-unverified"]'));
    assert.match(line, /TLS verification is off for this profile/);
  });
});
