// A thin layer over WebdriverIO's protocol client for driving the real Warren window:
// start a session on tauri-driver, find elements by CSS, wait for conditions, screenshot.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import WebDriver from "webdriver";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/**
 * The local cluster under test as tests/cluster/layout describes it, for the version
 * WARREN_RABBITMQ names (default 3.10): `{ version, major, minor, name, nodes: [{ n, name, amqp, api }] }`.
 */
export const cluster = readLayout(process.env.WARREN_RABBITMQ ?? "3.10");

function readLayout(version) {
  const text = readFileSync(resolve(repo, "tests/cluster/layout"), "utf8");
  let name;
  const nodes = [];
  for (const line of text.split("\n")) {
    const w = line.replace(/#.*/, "").trim().split(/\s+/);
    if (w[0] === "cluster" && w[1] === version) name = w[2];
    if (w[0] === "node" && w[1] === version) {
      nodes.push({ n: Number(w[2]), name: w[3], amqp: Number(w[4]), api: Number(w[5]) });
    }
  }
  if (!name || nodes.length === 0) throw new Error(`WARREN_RABBITMQ=${version}: no such cluster in tests/cluster/layout`);
  const [major, minor] = version.split(".").map(Number);
  return { version, major, minor, name, nodes };
}

/**
 * For a suite's `skip` option: false when the cluster under test is RabbitMQ `from` (e.g.
 * "4.3") or later and before `until` (exclusive, optional), otherwise why the suite does not
 * run on it.
 */
export function onlyOn(from, until, why) {
  const at = (v) => v.split(".").map(Number);
  const cmp = ([a, b], [c, d]) => a - c || b - d;
  const here = [cluster.major, cluster.minor];
  const inside = cmp(here, at(from)) >= 0 && (until === null || cmp(here, at(until)) < 0);
  return inside ? false : `not on RabbitMQ ${cluster.version}: ${why}`;
}

/** Starts the app (by default the build tests/e2e/run made, or WARREN_APP) in a new session. */
export async function openApp(application = process.env.WARREN_APP ?? resolve(repo, "target/debug/warren-app")) {
  const client = await WebDriver.newSession({
    hostname: "127.0.0.1",
    port: Number(process.env.TAURI_DRIVER_PORT ?? 4444),
    logLevel: "warn",
    capabilities: { alwaysMatch: { "tauri:options": { application } } },
    connectionRetryTimeout: 60_000,
  });
  return new App(client);
}

class App {
  constructor(client) {
    this.client = client;
  }

  async close() {
    await this.client.deleteSession();
  }

  /** Evaluates `fn(...args)` in the page and returns its result. */
  async eval(fn, ...args) {
    return this.client.executeScript(`return (${fn.toString()})(...arguments)`, args);
  }

  /** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
  async until(what, probe, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        last = await probe();
        if (last) return last;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    // What the window showed when it gave up, for the person reading the failure.
    const shot = `target/e2e-timeout-${Date.now()}.png`;
    await this.screenshot(shot).catch(() => {});
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last}); window: ${shot}`);
  }

  async click(selector) {
    const el = await this.client.findElement("css selector", selector);
    if (!el[ELEMENT]) throw new Error(`no element ${selector}`);
    await this.client.elementClick(el[ELEMENT]);
  }

  /** Sets an input's, textarea's or select's value as a person would, firing input and change. */
  async setValue(selector, value) {
    const ok = await this.eval(
      (sel, v) => {
        const el = document.querySelector(sel);
        if (!el) return false;
        el.focus();
        const proto = Object.getPrototypeOf(el);
        const setter = Object.getOwnPropertyDescriptor(proto, "value")?.set;
        if (setter) setter.call(el, v);
        else el.value = v;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
        return true;
      },
      selector,
      value,
    );
    if (!ok) throw new Error(`no element ${selector}`);
  }

  /** Waits for `selector` to exist, then clicks it. */
  async clickWhenReady(selector, timeoutMs = 20_000) {
    await this.until(`${selector} to appear`, () => this.eval((sel) => !!document.querySelector(sel), selector), timeoutMs);
    await this.click(selector);
  }

  /** The text of the first element matching `selector`, or null. */
  async text(selector) {
    return this.eval((sel) => document.querySelector(sel)?.textContent ?? null, selector);
  }

  /**
   * Resolves once the window rendered a frame after now: a screenshot taken next shows the DOM
   * as it is (on a loaded machine frames can lag the DOM by hundreds of milliseconds).
   */
  async painted() {
    await this.client.executeAsyncScript(
      "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
      [],
    );
  }

  /**
   * Saves a screenshot of the window. WebKit without accelerated compositing answers a
   * snapshot only with its next rendering update, which a page where nothing changes never
   * has: a pixel in the corner changes, invisibly, every frame while the screenshot is taken.
   */
  async screenshot(path) {
    await this.eval(() => {
      const tick = document.createElement("div");
      tick.id = "e2e-screenshot-tick";
      tick.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none";
      document.body.appendChild(tick);
      let odd = false;
      const step = () => {
        if (!tick.isConnected) return;
        odd = !odd;
        tick.style.background = odd ? "rgba(0,0,0,0.004)" : "rgba(0,0,0,0.008)";
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
    try {
      const png = await this.client.takeScreenshot();
      writeFileSync(resolve(repo, path), Buffer.from(png, "base64"));
    } finally {
      await this.eval(() => document.getElementById("e2e-screenshot-tick")?.remove());
    }
  }
}

/** Calls the local cluster's management API (node 1) as guest. */
export async function api(method, path, body) {
  const res = await fetch(`http://127.0.0.1:${cluster.nodes[0].api}/api/${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
      "content-type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.status === 204 || res.status === 201 ? null : res.json().catch(() => null);
}

/** Runs `warren ARGS...` (the debug CLI) against the local cluster and returns its stdout. */
export function warren(...args) {
  const nodes = [];
  for (const n of cluster.nodes) {
    nodes.push("--node", `amqp://guest:guest@127.0.0.1:${n.amqp}/%2f`, "--api", `http://guest:guest@127.0.0.1:${n.api}`);
  }
  return execFileSync(resolve(repo, "target/debug/warren"), [...nodes, ...args], { encoding: "utf8" });
}

/** Runs tests/cluster/node ACTION N and waits for it to finish. */
export function clusterNode(action, n) {
  execFileSync(resolve(repo, "tests/cluster/node"), [action, String(n)], { stdio: "inherit" });
}
