// The installed package (tests/package --check installs the .deb and runs this file against
// /usr/bin/warren-app): the app from the package opens its window and lists the saved profile.
// Skipped when the tests drive the build in target/ instead.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { openApp } from "./app.mjs";

const installed = (process.env.WARREN_APP ?? "").startsWith("/usr/");

describe("the installed package", { skip: installed ? false : "only against the installed app (tests/package --check)" }, () => {
  let app;
  after(async () => {
    await app?.close();
  });

  test("the installed app opens its window and lists the saved profile", async () => {
    app = await openApp();
    const card = await app.until(
      "the local-demo card",
      () => app.eval(() => document.querySelector('[data-testid="cluster-card"][data-profile="local-demo"]')?.textContent ?? null),
      30_000,
    );
    assert.match(card, /local-demo/);
    assert.equal(await app.eval(() => document.title), "Warren");
    // The CLI installed beside it reads the same profiles.
    const listed = execFileSync("/usr/bin/warren", ["profile", "list"], { encoding: "utf8" });
    assert.match(listed, /local-demo/);
  });
});
