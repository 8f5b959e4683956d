// A thin layer over WebdriverIO's protocol client for driving the real Warren window:
// start a session on tauri-driver, find elements by CSS, wait for conditions, screenshot.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import WebDriver from "webdriver";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export async function openApp() {
  const application = process.env.WARREN_APP ?? resolve(repo, "target/debug/warren-app");
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
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
  }

  async click(selector) {
    const el = await this.client.findElement("css selector", selector);
    if (!el[ELEMENT]) throw new Error(`no element ${selector}`);
    await this.client.elementClick(el[ELEMENT]);
  }

  async screenshot(path) {
    const png = await this.client.takeScreenshot();
    writeFileSync(resolve(repo, path), Buffer.from(png, "base64"));
  }
}

/** Runs tests/cluster/node ACTION N and waits for it to finish. */
export function clusterNode(action, n) {
  execFileSync(resolve(repo, "tests/cluster/node"), [action, String(n)], { stdio: "inherit" });
}
