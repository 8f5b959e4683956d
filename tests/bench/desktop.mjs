// The desktop app as a person meets it, release build against the debug build in one run (see
// tests/bench/desktop, which runs this through tests/e2e/run under Xvfb and tauri-driver):
//
// 1. Cold start: from the app process's start (its start time in /proc/<pid>/stat) to the
//    first painted frame of the home screen with its cards (the `warren:home-painted` mark the
//    page sets from a task queued in the animation frame after the cards rendered, read as
//    performance.timeOrigin + startTime) and to the frame where every card shows its health.
//    Launches alternate between the builds; before a "cold" launch the page cache is dropped
//    (root only), a "warm" launch follows it at once.
// 2. Memory: PSS and RSS (/proc/<pid>/smaps_rollup) of the app's process and every process
//    under it (WebKit's web and network processes), idle on the home screen (5 s after the
//    health painted) and with 100,000 messages of 256 bytes peeked in the inspector.
// 3. Frames while scrolling those 100,000 rows: in the page, the list's scrollTop moves every
//    animation frame (steady at a wheel's pace, a page per frame, or a jump to a random place
//    per frame, like dragging the scrollbar) and the gaps between animation frames are
//    recorded. The window's own cost per frame is measured just before, with the rows on
//    screen: the gaps while only a 4-pixel probe changes every frame.
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, cluster, openApp, repo, warren } from "../e2e/app.mjs";

const QUEUE = "release.bench.desktop";
const COUNT = Number(process.env.WARREN_BENCH_MESSAGES ?? 100_000);
const ROUNDS = Number(process.env.WARREN_BENCH_ROUNDS ?? 5);
const SCROLL_MS = Number(process.env.WARREN_BENCH_SCROLL_MS ?? 4000);
const IDLE_SETTLE_MS = 5000;
const FRAME_BUDGET_MS = 1000 / 60;
// Dropping the page cache needs root; WARREN_BENCH_DROP_CACHES=0 skips it even then.
const DROP_CACHES = process.env.WARREN_BENCH_DROP_CACHES !== "0" && process.getuid?.() === 0;

const BUILDS = [
  { name: "release", app: process.env.WARREN_APP ?? resolve(repo, "target/release/warren-app") },
  // The peer: the debug build, or another build to compare with (WARREN_BENCH_PEER, a path).
  { name: process.env.WARREN_BENCH_PEER ? "peer" : "debug", app: process.env.WARREN_BENCH_PEER ?? resolve(repo, "target/debug/warren-app") },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round1 = (v) => (v === null || v === undefined ? null : Math.round(v * 10) / 10);
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Every process as { pid, ppid, comm, exe } (exe null when unreadable). */
function processes() {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      let exe = null;
      try {
        exe = readlinkSync(`/proc/${d}/exe`);
      } catch {
        // a kernel thread or gone
      }
      out.push({ pid: Number(d), ppid: Number(fields[1]), comm, exe, startTicks: Number(fields[19]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The running processes of the app at `path` (normally one). */
function appProcesses(path) {
  const real = realpathSync(path);
  return processes().filter((p) => p.exe === real);
}

/** When process `p` started, in epoch milliseconds (10 ms resolution: /proc counts ticks). */
function startedAt(p) {
  const tick = 100; // USER_HZ on Linux
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const bootEpochMs = Date.now() - uptime * 1000;
  return bootEpochMs + (p.startTicks * 1000) / tick;
}

function rollup(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { pss: kib("Pss"), rss: kib("Rss") };
}

/**
 * PSS and RSS (MiB) of the app's process and every process under it, summed and by process
 * name (WebKitWebProcess, WebKitNetworkProcess, ...).
 */
function memory(path) {
  const all = processes();
  const roots = all.filter((p) => p.exe === realpathSync(path));
  assert.equal(roots.length, 1, `one ${path} running, not ${roots.length}`);
  const tree = [roots[0]];
  for (let i = 0; i < tree.length; i++) for (const c of all.filter((p) => p.ppid === tree[i].pid)) tree.push(c);
  const byName = {};
  let pss = 0;
  let rss = 0;
  for (const p of tree) {
    let m;
    try {
      m = rollup(p.pid);
    } catch {
      continue;
    }
    const name = p === roots[0] ? "app" : p.comm;
    byName[name] ??= { pss_mib: 0, rss_mib: 0 };
    byName[name].pss_mib = round1(byName[name].pss_mib + m.pss / 1024);
    byName[name].rss_mib = round1(byName[name].rss_mib + m.rss / 1024);
    pss += m.pss;
    rss += m.rss;
  }
  return { pss_mib: round1(pss / 1024), rss_mib: round1(rss / 1024), processes: byName };
}

async function waitGone(path) {
  const deadline = Date.now() + 20_000;
  while (appProcesses(path).length > 0) {
    if (Date.now() > deadline) throw new Error(`${path} still runs 20 s after its session closed`);
    await sleep(100);
  }
}

/** Reads a paint mark as epoch ms, or null while the page has not set it. */
const markAt = (app, name) =>
  app.eval((n) => {
    const m = performance.getEntriesByName(n)[0];
    return m ? performance.timeOrigin + m.startTime : null;
  }, name);

/** One launch of `build`: times to the painted home screen, and its idle memory when asked. */
async function launch(build, kind, withMemory) {
  await waitGone(build.app);
  if (kind === "cold") execSync("sync; echo 3 > /proc/sys/vm/drop_caches", { shell: "/bin/sh" });
  const asked = Date.now();
  const app = await openApp(build.app);
  try {
    const session = Date.now();
    const [proc] = appProcesses(build.app);
    assert.ok(proc, "the app's process");
    const spawned = startedAt(proc);
    const home = await app.until("the home screen's painted mark", () => markAt(app, "warren:home-painted"), 60_000);
    const health = await app.until("the cards' health painted", () => markAt(app, "warren:home-health-painted"), 60_000);
    const fcp = await app.eval(() => {
      const e = performance.getEntriesByName("first-contentful-paint")[0];
      return e ? performance.timeOrigin + e.startTime : null;
    });
    const card = await app.text('[data-testid="cluster-card"][data-profile="local-demo"]');
    assert.match(card ?? "", /local-demo/, "the home screen shows the saved cluster");
    const r = {
      build: build.name,
      kind,
      // spawn: the app process's start; asked: the WebDriver session asked for.
      spawn_after_ask_ms: Math.round(spawned - asked),
      session_ms: Math.round(session - spawned),
      first_contentful_paint_ms: fcp === null ? null : Math.round(fcp - spawned),
      home_painted_ms: Math.round(home - spawned),
      health_painted_ms: Math.round(health - spawned),
      load_average: load(),
    };
    if (withMemory) {
      await sleep(IDLE_SETTLE_MS);
      r.idle_memory = memory(build.app);
    }
    return r;
  } finally {
    await app.close();
  }
}

/** The gaps between animation frames over `ms` while only a 4-pixel probe changes each frame. */
const probeFrames = (app, ms) =>
  app.client.executeAsyncScript(
    `const [ms, done] = arguments;
     const probe = document.body.appendChild(document.createElement("div"));
     probe.style.cssText = "position:fixed;right:0;bottom:0;width:4px;height:4px;background:#888";
     const gaps = [];
     let start = null, last = null;
     const step = (t) => {
       if (start === null) start = t; else gaps.push(t - last);
       last = t;
       probe.style.opacity = String((gaps.length % 2) * 0.5 + 0.5);
       if (t - start < ms) requestAnimationFrame(step); else { probe.remove(); done(gaps); }
     };
     requestAnimationFrame(step);`,
    [ms],
  );

/**
 * Scrolls the message list every animation frame for `ms` and returns the gaps between frames
 * and how many frames were painted with rows still loading. `mode`: "steady" (`step` px a
 * frame, turning at either end), "page" (a viewport a frame) or "jump" (a random place).
 */
const scrollFrames = (app, mode, step, ms) =>
  app.client.executeAsyncScript(
    `const [mode, step, ms, done] = arguments;
     const list = document.querySelector('[data-testid="message-list"]');
     const max = list.scrollHeight - list.clientHeight;
     let pos = max / 2, dir = 1;
     const gaps = [];
     let start = null, last = null, loading = 0, rowsSeen = new Set();
     const tick = (t) => {
       if (start === null) start = t;
       else {
         gaps.push(t - last);
         // What the frame just painted: rows still waiting for their block.
         if (list.querySelector('[data-testid="message-row-pending"]')) loading++;
       }
       last = t;
       if (t - start >= ms) { done({ gaps, loading, rows_seen: rowsSeen.size, max }); return; }
       const row = list.querySelector('[data-testid="message-row"]');
       if (row) rowsSeen.add(row.dataset.position);
       if (mode === "jump") pos = Math.random() * max;
       else {
         const by = mode === "page" ? list.clientHeight : step;
         if (pos + by * dir > max || pos + by * dir < 0) dir = -dir;
         pos += by * dir;
       }
       list.scrollTop = pos;
       requestAnimationFrame(tick);
     };
     requestAnimationFrame(tick);`,
    [mode, step, ms],
  );

function frameStats(gaps) {
  return {
    frames: gaps.length,
    median_ms: round1(percentile(gaps, 50)),
    p95_ms: round1(percentile(gaps, 95)),
    max_ms: round1(Math.max(...gaps)),
    fps: round1(gaps.length / (gaps.reduce((a, b) => a + b, 0) / 1000)),
    over_budget_pct: round1((100 * gaps.filter((g) => g > FRAME_BUDGET_MS).length) / gaps.length),
  };
}

/** Opens `build`, peeks the queue, and measures memory and frames while scrolling. */
async function peekAndScroll(build) {
  await waitGone(build.app);
  const app = await openApp(build.app);
  try {
    await app.until("the home screen", () => markAt(app, "warren:home-health-painted"), 60_000);
    await sleep(IDLE_SETTLE_MS);
    const idle = memory(build.app);
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-browse"]');
    await app.until("the browse form", () => app.eval(() => !!document.querySelector('[data-testid="peek-queue"]')));
    await app.setValue('[data-testid="peek-queue"]', QUEUE);
    await app.setValue('[data-testid="peek-count"]', String(COUNT));
    const t0 = Date.now();
    await app.click('[data-testid="peek-start"]');
    const want = new RegExp(`${COUNT.toLocaleString("en-US")} messages`);
    await app.until(
      `the inspection of ${COUNT} messages`,
      () => app.eval((w) => new RegExp(w).test(document.querySelector('[data-testid="inspection-summary"]')?.textContent ?? ""), want.source),
      300_000,
    );
    const peekMs = Date.now() - t0;
    await app.until("the first rows", () => app.eval(() => document.querySelectorAll('[data-testid="message-row"]').length > 0));
    await sleep(IDLE_SETTLE_MS);
    const peeked = memory(build.app);

    const machine = frameStats(await probeFrames(app, 3000));
    const scroll = {};
    for (const [mode, step] of [
      ["steady", 48],
      ["page", 0],
      ["jump", 0],
    ]) {
      const r = await scrollFrames(app, mode, step, SCROLL_MS);
      scroll[mode] = { ...frameStats(r.gaps), loading_frames_pct: round1((100 * r.loading) / r.gaps.length), step_px: step || null };
    }
    await sleep(IDLE_SETTLE_MS);
    const scrolled = memory(build.app);
    return {
      build: build.name,
      peek_ms: peekMs,
      memory: { idle, peeked, after_scrolling: scrolled },
      frames: { machine, ...scroll },
      load_average: load(),
    };
  } finally {
    await app.close();
  }
}

describe("the desktop app, release and debug builds", () => {
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });
  after(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  test("cold start, memory, and frames while scrolling 100,000 rows", async () => {
    const result = {
      date: new Date().toISOString(),
      rabbitmq: cluster.version,
      rounds: ROUNDS,
      messages: COUNT,
      page_cache_dropped: DROP_CACHES,
      load_average_start: load(),
      launches: [],
    };
    // Cold start and idle memory: the builds alternate, so load spikes hit both.
    for (let i = 0; i < ROUNDS; i++) {
      for (const build of BUILDS) {
        if (DROP_CACHES) result.launches.push(await launch(build, "cold", false));
        result.launches.push(await launch(build, "warm", true));
      }
    }
    // 100,000 messages of 256 bytes, each with its sequence number in the body.
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
    const pad = "x".repeat(256 - '{"n": 100000, "pad": ""}'.length);
    const summary = JSON.parse(warren("publish", "-k", QUEUE, "--body", `{"n": {{seq}}, "pad": "${pad}"}`, "--count", String(COUNT), "--json"));
    assert.equal(summary.confirmed, COUNT);
    result.inspector = [];
    for (const build of BUILDS) result.inspector.push(await peekAndScroll(build));
    result.load_average_end = load();

    result.summary = {};
    for (const build of BUILDS) {
      const mine = result.launches.filter((l) => l.build === build.name);
      const med = (kind, key) => {
        const v = mine.filter((l) => l.kind === kind).map((l) => l[key]);
        return v.length ? percentile(v, 50) : null;
      };
      const idle = mine.filter((l) => l.idle_memory).map((l) => l.idle_memory.pss_mib);
      result.summary[build.name] = {
        cold_home_ms: med("cold", "home_painted_ms"),
        cold_health_ms: med("cold", "health_painted_ms"),
        warm_home_ms: med("warm", "home_painted_ms"),
        warm_health_ms: med("warm", "health_painted_ms"),
        warm_home_min_ms: Math.min(...mine.filter((l) => l.kind === "warm").map((l) => l.home_painted_ms)),
        idle_pss_mib: percentile(idle, 50),
      };
    }
    mkdirSync(resolve(repo, "target/bench-desktop"), { recursive: true });
    writeFileSync(resolve(repo, "target/bench-desktop/result.json"), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result.summary, null, 2));
    // Both builds measured every figure.
    for (const b of result.inspector) assert.ok(b.frames.steady.frames > 0 && b.memory.peeked.pss_mib > 0, b.build);
  });
});
