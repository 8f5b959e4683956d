// The desktop conventions in the real app: the light and dark themes (a manual choice that
// holds across a restart, and the pictures of both), the keyboard (the `?` sheet, switching
// tabs, peeking and stepping through messages by key), a JSON body whose big integers arrive
// in the viewer exactly as they were published, and the system's own file dialog (found on
// the X display with xdotool, a path typed into it, the path in the form).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, cluster, openApp } from "./app.mjs";

const QUEUE = "e2e.desktop-ui.json";
const BIG = "12345678901234567890";
/** The platform's modifier as WebDriver names it: Control here (Linux). */
const CONTROL = "\uE009";
const SHIFT = "\uE008";
const ESCAPE = "\uE00C";

/** Presses keys as a person would: modifiers held while the last key goes down and up. */
async function press(app, ...keys) {
  const last = keys[keys.length - 1];
  const mods = keys.slice(0, -1);
  const actions = [
    ...mods.map((value) => ({ type: "keyDown", value })),
    { type: "keyDown", value: last },
    { type: "keyUp", value: last },
    ...mods.reverse().map((value) => ({ type: "keyUp", value })),
  ];
  await app.client.performActions([{ type: "key", id: "keyboard", actions }]);
  await app.client.releaseActions();
}

const background = (app) => app.eval(() => getComputedStyle(document.documentElement).backgroundColor);
const shownTheme = (app) => app.eval(() => document.documentElement.dataset.theme);
/** The pictures of both themes come from the 3.10 run, as the other screenshots do. */
const pictures = cluster.major < 4;

async function chooseTheme(app, choice) {
  await app.setValue('[data-testid="theme-choice"]', choice);
  await app.until(`the ${choice} theme`, async () => (await shownTheme(app)) === choice);
  // Nothing focused or hovered in the pictures.
  await app.eval(() => document.activeElement?.blur());
  await app.client.performActions([
    { type: "pointer", id: "mouse", parameters: { pointerType: "mouse" }, actions: [{ type: "pointerMove", x: 2, y: 790, origin: "viewport" }] },
  ]);
  await app.client.releaseActions();
  await app.painted();
}

/**
 * For the pictures only: waits (a while) for `probe` to see the cluster healthy, so that a
 * fault another test injects on the shared cluster does not end up in the docs.
 */
async function healthyForPictures(app, probe) {
  if (pictures) await app.until("a healthy cluster for the pictures", probe, 60_000).catch(() => {});
}

async function openCluster(app) {
  const open = await app.eval(() => !!document.querySelector('[data-testid="cluster-workspace"]'));
  if (!open) await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
  await app.until("the cluster workspace", () => app.eval(() => !!document.querySelector('[data-testid="cluster-workspace"]')));
}

describe("desktop conventions", () => {
  let app;
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
    // Published as text: the number never passes through a JavaScript number on the way.
    await api("POST", "exchanges/%2F/amq.default/publish", {
      properties: { content_type: "application/json" },
      routing_key: QUEUE,
      payload: `{"order":{"id":${BIG},"total":1.50,"items":[{"sku":"tea"},{"sku":"cake"}]}}`,
      payload_encoding: "string",
    });
    app = await openApp();
  });
  after(async () => {
    // The choice is kept by the app: leave it following the system again.
    await app?.setValue('[data-testid="theme-choice"]', "system").catch(() => {});
    await app?.close();
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  test("light and dark themes: the system's by default, a manual choice changes every colour and holds across a restart", async () => {
    await app.until("the local-demo card", () =>
      app.eval(() => !!document.querySelector('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="nodes-up"]')),
    );
    await healthyForPictures(app, () =>
      app.eval(() => document.querySelector('[data-testid="cluster-card"][data-profile="local-demo"]')?.dataset.health === "ok"),
    );
    // Left on "System", the app follows the desktop's setting: dark (tests/e2e/run sets GTK's).
    assert.equal(await app.eval(() => document.querySelector('[data-testid="theme-choice"]').value), "system");
    assert.equal(await app.eval(() => matchMedia("(prefers-color-scheme: dark)").matches), true);
    assert.equal(await shownTheme(app), "dark");
    await chooseTheme(app, "dark");
    const dark = await background(app);
    if (pictures) await app.screenshot("docs/screenshots/home-dark.png");
    await chooseTheme(app, "light");
    const light = await background(app);
    assert.notEqual(light, dark);
    // Light: every channel of the page's background is bright; dark: every one is dim.
    const channels = (c) => c.match(/\d+/g).slice(0, 3).map(Number);
    assert.ok(channels(light).every((v) => v > 200), `light background ${light}`);
    assert.ok(channels(dark).every((v) => v < 60), `dark background ${dark}`);
    if (pictures) await app.screenshot("docs/screenshots/home-light.png");

    // Restarted, the app comes back light, whatever the system prefers.
    await app.close();
    app = await openApp();
    await app.until("the kept light theme after a restart", async () => (await shownTheme(app)) === "light");
    assert.equal(await app.eval(() => document.querySelector('[data-testid="theme-choice"]').value), "light");
    assert.equal(await background(app), light);

    // The cluster view in both.
    await openCluster(app);
    await app.until(`${cluster.nodes.length} running nodes`, () =>
      app.eval(
        (n) => [...document.querySelectorAll('[data-testid="node-row"]')].filter((r) => r.dataset.state === "running").length === n,
        cluster.nodes.length,
      ),
      60_000,
    );
    // Healthy also means Warren's links to every node are up.
    await healthyForPictures(app, () =>
      app.eval(() => document.querySelector('[data-testid="health-badge"]')?.dataset.level === "ok"),
    );
    await app.setValue('[data-testid="refresh-interval"]', "0");
    await app.eval(() => document.activeElement?.blur());
    await app.painted();
    if (pictures) await app.screenshot("docs/screenshots/cluster-light.png");
    await chooseTheme(app, "dark");
    await app.eval(() => document.activeElement?.blur());
    await app.painted();
    if (pictures) await app.screenshot("docs/screenshots/cluster-dark.png");
    await app.setValue('[data-testid="refresh-interval"]', "5000");
  });

  test("? opens the shortcut sheet; keys switch tabs, peek, step through messages, and the JSON keeps its digits", async () => {
    await openCluster(app);
    await app.eval(() => document.activeElement?.blur());

    await press(app, "?");
    const rows = await app.until("the shortcut sheet", () =>
      app.eval(() => {
        const sheet = document.querySelector('[data-testid="shortcut-sheet"]');
        return sheet?.open ? [...sheet.querySelectorAll('[data-testid="shortcut-row"]')].map((r) => r.textContent) : null;
      }),
    );
    assert.ok(rows.some((r) => r.includes("Ctrl") && r.includes("F")), rows.join(" | "));
    await press(app, ESCAPE);
    await app.until("the sheet to close", () => app.eval(() => !document.querySelector('[data-testid="shortcut-sheet"]')));

    // Ctrl+4: the fourth tab, Browse; Ctrl+Shift+Tab back to Exchanges and Ctrl+Tab again.
    const tabNow = () => app.eval(() => document.querySelector('[data-testid="cluster-workspace"]').dataset.tab);
    await press(app, CONTROL, "4");
    await app.until("the Browse tab", async () => (await tabNow()) === "browse");
    await press(app, CONTROL, SHIFT, "\uE004");
    await app.until("the Exchanges tab", async () => (await tabNow()) === "exchanges");
    await press(app, CONTROL, "\uE004");
    await app.until("the Browse tab again", async () => (await tabNow()) === "browse");

    // Ctrl+Enter in the form peeks; J opens the first message.
    await app.setValue('[data-testid="peek-queue"]', QUEUE);
    await press(app, CONTROL, "\uE007");
    await app.until("the peeked message", () => app.eval(() => document.querySelectorAll('[data-testid="message-row"]').length === 1), 30_000);
    await app.eval(() => document.activeElement?.blur());
    await press(app, "j");
    const shown = await app.until("the message's JSON body", () =>
      app.eval(() => {
        const id = [...document.querySelectorAll('[data-testid="json-node"]')].find((n) => n.dataset.path === "$.order.id");
        return id ? id.textContent : null;
      }),
    );
    assert.match(shown, new RegExp(`\\b${BIG}\\b`));
    assert.doesNotMatch(shown, /12345678901234567000/);
    const total = await app.eval(
      () => [...document.querySelectorAll('[data-testid="json-node"]')].find((n) => n.dataset.path === "$.order.total")?.textContent,
    );
    assert.match(total, /1\.50/);

    // Ctrl+F goes to the view's search; search in the body finds both items.
    await press(app, CONTROL, "f");
    assert.equal(await app.eval(() => document.activeElement?.dataset.testid), "message-filter");
    await app.setValue('[data-testid="json-search"]', "sku");
    const found = await app.until("two matches in the body", () =>
      app.eval(() => document.querySelector('[data-testid="json-match-count"]')?.dataset.count === "2" &&
        document.querySelector('[data-testid="json-selected-path"]')?.textContent),
    );
    assert.equal(found, "$.order.items[0].sku");
  });
});

describe("the system's file dialog", () => {
  let app;
  let dir;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "warren-e2e-dialog-"));
    app = await openApp();
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** xdotool on the display the app runs on (tests/e2e/run writes it down). */
  function xdotool(...args) {
    const display = process.env.WARREN_E2E_DISPLAY;
    assert.ok(display, "WARREN_E2E_DISPLAY is not set: run this through tests/e2e/run");
    const env = { ...process.env, DISPLAY: display, XAUTHORITY: process.env.WARREN_E2E_XAUTHORITY ?? "" };
    return execFileSync("xdotool", args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] }).trim();
  }

  test("Choose… opens the GTK file dialog, and the path picked there fills the field", async () => {
    const pem = join(dir, "ca.pem");
    writeFileSync(pem, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    await app.until("the home screen's clusters", () =>
      app.eval(() => !!document.querySelector('[data-testid="cluster-card"] [data-testid="nodes-up"]')),
    );
    await app.clickWhenReady('[data-testid="add-cluster"]');
    await app.clickWhenReady('[data-testid="tls-ca-choose"]');

    // The dialog is a window of its own, on screen, titled as the button asked.
    const pattern = `^${"Choose the CA file (PEM)".replace(/[()]/g, "\\$&")}$`;
    const win = await app.until("the file dialog's window", () => {
      try {
        return xdotool("search", "--onlyvisible", "--name", pattern).split("\n")[0] || null;
      } catch {
        return null; // xdotool exits 1 while no window matches
      }
    });
    // GTK's chooser takes a typed path in its location field (Ctrl+L; Ctrl+A so that a second
    // try replaces the first), Enter picks it. A dialog still drawing itself may miss the first
    // keys: then it is still open, and the path is typed again.
    const picked = () => app.eval(() => document.querySelector('input[name="tls-ca"]')?.value || null);
    let value = null;
    for (let attempt = 1; attempt <= 3 && !value; attempt++) {
      xdotool("windowfocus", "--sync", win);
      xdotool("key", "--clearmodifiers", "ctrl+l");
      xdotool("key", "--clearmodifiers", "ctrl+a");
      xdotool("type", "--delay", "20", pem);
      xdotool("key", "Return");
      value = await app.until("the picked path in the CA field", picked, 3_000).catch(() => null);
    }
    assert.equal(value, pem);
    // And the dialog is gone.
    await app.until("the dialog to close", () => {
      try {
        xdotool("search", "--onlyvisible", "--name", pattern);
        return false;
      } catch {
        return true;
      }
    });
  });
});
