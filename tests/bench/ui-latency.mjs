// Click-to-paint in the real app while a consumer tab receives about 5,000 messages a second,
// against the same measurement with that consumer idle, in one run (see tests/bench/ui-latency,
// which runs this through tests/e2e/run so it drives the same debug build under Xvfb).
//
// In the page, a capturing click listener takes the input event's timestamp (`timeStamp`, when
// the event was made, so time spent waiting for a busy main thread counts); after the app's
// own handler updated the DOM, the next animation frame runs, and a task queued from it runs
// once that frame is painted: the time from the event to that task is one sample. Each click
// (a WebDriver element click, a trusted input event) selects another row of the consumer's
// list, so every click changes what is painted; a click whose row was not selected once the
// app's handlers ran is counted as a failure. The next click waits for the sample of the one
// before (so no frame serves two clicks) and then 50-150 ms at random, so clicks do not line
// up with the consumer's 50 ms batches.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, cluster, openApp, repo } from "../e2e/app.mjs";

const QUEUE = "bench.ui-latency";
const RATE = Number(process.env.WARREN_BENCH_RATE ?? 5000);
const CLICKS = Number(process.env.WARREN_BENCH_CLICKS ?? 60);
const BODY = "x".repeat(256);

function warrenArgs(...args) {
  const nodes = [];
  for (const n of cluster.nodes) {
    nodes.push("--node", `amqp://guest:guest@127.0.0.1:${n.amqp}/%2f`, "--api", `http://guest:guest@127.0.0.1:${n.api}`);
  }
  return [...nodes, ...args];
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function stats(samples) {
  const ok = samples.filter((s) => s.ok);
  const ms = ok.map((s) => s.ms).sort((a, b) => a - b);
  const round = (v) => (v === null ? null : Math.round(v * 10) / 10);
  const median = (key) => round(percentile(ok.map((s) => s[key]).sort((a, b) => a - b), 50));
  return {
    // Medians of the parts of a sample (see the listener): they need not add up to median_ms.
    parts_median_ms: { queued: median("queued"), frame: median("frame"), paint: median("paint") },
    clicks: samples.length,
    painted: ms.length,
    failed: samples.length - ms.length,
    median_ms: round(percentile(ms, 50)),
    p95_ms: round(percentile(ms, 95)),
    max_ms: round(ms.at(-1) ?? null),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU seconds used so far by the app's processes (its own, WebKit's web process) and the
 * publisher, from /proc (Linux): where the machine's 2 cores went during a phase.
 */
function cpuSeconds(publisherPid) {
  const tick = 100; // USER_HZ on Linux
  const out = { app: 0, webkit: 0, publisher: 0 };
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const seconds = (Number(fields[11]) + Number(fields[12])) / tick;
    if (comm === "warren-app") out.app += seconds;
    else if (comm.startsWith("WebKitWebProces")) out.webkit += seconds;
    else if (Number(pid) === publisherPid) out.publisher += seconds;
  }
  return out;
}

/** Cores used per process group between two `cpuSeconds` readings `ms` apart. */
function coresUsed(before, after, ms) {
  const r = {};
  for (const k of Object.keys(before)) r[k] = Math.round(((after[k] - before[k]) * 1000 * 100) / ms) / 100;
  return r;
}

describe("click-to-paint with a busy consumer tab", () => {
  let app;
  let publisher = null;
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
    // Rows to click while the consumer is idle.
    for (let i = 1; i <= 20; i++) {
      await api("POST", "exchanges/%2F/amq.default/publish", {
        routing_key: QUEUE,
        properties: { message_id: `seed-${i}` },
        payload: BODY,
        payload_encoding: "string",
      });
    }
    app = await openApp();
  });
  after(async () => {
    publisher?.kill("SIGINT");
    await app?.close();
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  /** Clicks rows 0..9 in turn `n` times; returns the samples. */
  async function measure(n) {
    await app.eval(() => {
      window.__clickPaint = [];
    });
    for (let i = 0; i < n; i++) {
      const index = i % 10;
      await app.click(`[data-testid="consumer-panel"] [data-testid="message-row"][data-index="${index}"]`);
      await app.until("the click's sample", () => app.eval((k) => window.__clickPaint.length > k, i), 30_000);
      await sleep(50 + Math.random() * 100);
    }
    return app.eval(() => window.__clickPaint);
  }

  /**
   * The gaps between animation frames over `ms` while something changes on screen each frame
   * (median and p95): how fast this machine lets WebKit render at all, apart from the app.
   */
  const frameGaps = (ms) =>
    app.client.executeAsyncScript(
      `const [ms, done] = arguments;
       const probe = document.body.appendChild(document.createElement("div"));
       probe.style.cssText = "position:fixed;right:0;bottom:0;width:4px;height:4px;background:#888";
       const gaps = [];
       const start = performance.now();
       let last = start;
       const step = (t) => {
         gaps.push(t - last);
         last = t;
         probe.style.opacity = String((gaps.length % 2) * 0.5 + 0.5);
         if (t - start < ms) requestAnimationFrame(step);
         else {
           probe.remove();
           gaps.sort((a, b) => a - b);
           done({ frames: gaps.length, median_ms: Math.round(gaps[Math.floor(gaps.length / 2)] * 10) / 10,
                  p95_ms: Math.round(gaps[Math.min(gaps.length - 1, Math.ceil(gaps.length * 0.95) - 1)] * 10) / 10 });
         }
       };
       requestAnimationFrame((t) => { last = t; requestAnimationFrame(step); });`,
      [ms],
    );

  const received = () =>
    app.eval(() => Number((document.querySelector('[data-testid="consumer-received"]')?.textContent ?? "").replace(/[^\d]/g, "")));

  test(`click-to-paint, consumer idle and receiving ${RATE} msg/s`, async () => {
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-queues"]');
    await app.setValue('[data-testid="queue-filter"]', QUEUE);
    await app.clickWhenReady(`[data-testid="queue-row"][data-queue="${QUEUE}"] button`);
    await app.clickWhenReady('[data-testid="consume-queue"]');
    // Automatic ack: the only way a consumer keeps receiving thousands a second without a
    // person acking them.
    await app.clickWhenReady('[data-testid="consume-ack-auto"]');
    await app.clickWhenReady('[data-testid="consume-auto-confirm"]');
    await app.click('[data-testid="consume-start"]');
    await app.until("the seeded rows", async () => (await received()) >= 20, 30_000);

    await app.eval(() => {
      window.addEventListener(
        "click",
        (e) => {
          const row = e.target instanceof Element ? e.target.closest('[data-testid="message-row"]') : null;
          if (!row) return;
          const t0 = e.timeStamp;
          // Where the time goes: waiting for the main thread (event made -> this listener),
          // the app's handlers and the frame (-> the animation frame), painting (-> the task).
          const handled = performance.now();
          const sample = { ms: null, ok: false, queued: handled - t0, frame: null, paint: null };
          // After the app's own handlers (this one bubbles last, on the window).
          window.addEventListener(
            "click",
            () => {
              sample.ok = document.querySelector('[data-testid="consumer-panel"] .row.selected')?.dataset.index === row.dataset.index;
            },
            { once: true },
          );
          requestAnimationFrame((frameAt) => {
            sample.frame = performance.now() - handled;
            const painting = performance.now();
            setTimeout(() => {
              const now = performance.now();
              sample.ms = now - t0;
              sample.paint = now - painting;
              window.__clickPaint.push(sample);
            }, 0);
            void frameAt;
          });
        },
        true,
      );
    });

    const idleFrames = await frameGaps(3000);
    const [idleCpu0, idleT0] = [cpuSeconds(-1), Date.now()];
    const idle = await measure(CLICKS);
    const idleCores = coresUsed(idleCpu0, cpuSeconds(-1), Date.now() - idleT0);
    const idleLoad = (await import("node:os")).loadavg().map((l) => Math.round(l * 100) / 100);

    publisher = spawn(
      resolve(repo, `target/${process.env.WARREN_E2E_PROFILE ?? "debug"}/warren`),
      warrenArgs("publish", "--routing-key", QUEUE, "--body", BODY, "--count", String(RATE * 600), "--rate", String(RATE)),
      { stdio: "ignore" },
    );
    // Wait for the consumer to receive at the rate before measuring.
    const warm0 = await received();
    await app.until("deliveries to flow", async () => (await received()) > warm0 + RATE, 60_000);
    const [r0, t0] = [await received(), Date.now()];
    const busyFrames = await frameGaps(3000);
    const [busyCpu0, busyT0] = [cpuSeconds(publisher.pid), Date.now()];
    const busy = await measure(CLICKS);
    const [r1, t1] = [await received(), Date.now()];
    const busyCores = coresUsed(busyCpu0, cpuSeconds(publisher.pid), Date.now() - busyT0);
    publisher.kill("SIGINT");
    publisher = null;

    const result = {
      rabbitmq: cluster.version,
      date: new Date().toISOString(),
      target_rate: RATE,
      received_rate: Math.round(((r1 - r0) * 1000) / (t1 - t0)),
      build: process.env.WARREN_E2E_PROFILE ?? "debug",
      idle: { ...stats(idle), frame_gaps: idleFrames, cores_used: idleCores, load_average: idleLoad },
      busy: { ...stats(busy), frame_gaps: busyFrames, cores_used: busyCores },
    };
    // What else the machine was doing: the figures are only comparable within one run.
    result.load_average = (await import("node:os")).loadavg().map((l) => Math.round(l * 100) / 100);
    mkdirSync(resolve(repo, "target/bench-ui-latency"), { recursive: true });
    writeFileSync(resolve(repo, `target/bench-ui-latency/result-${cluster.version}.json`), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
    assert.ok(result.idle.painted > CLICKS * 0.9 && result.busy.painted > CLICKS * 0.9, "clicks that did not select their row");
  });
});
