// The window's security policy, in force in the real app: inline and injected script does not
// run, nothing is fetched from elsewhere, and a message written to attack the viewer (markup
// with script in its body, a header and its routing key) is shown as text, never run.
// src-tauri/security_policy.rs holds the configuration itself to its strict form; this checks
// that the webview really applies it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, cluster, onlyOn, openApp } from "./app.mjs";

// The policy is the app's, not the broker's: checked once, on 3.x.
describe("the window's security policy", { skip: onlyOn("3.0", "4.0", "the policy does not depend on the broker") }, () => {
  const QUEUE = "e2e.hostile";
  const ATTACK = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script>`;
  let app;
  before(async () => {
    await api("DELETE", `queues/%2F/${QUEUE}`);
    await api("PUT", `queues/%2F/${QUEUE}`, { durable: true, auto_delete: false, arguments: {} });
    await api("POST", "exchanges/%2F/amq.default/publish", {
      routing_key: QUEUE,
      properties: { content_type: "text/html", headers: { "x-note": ATTACK }, message_id: ATTACK },
      payload: ATTACK,
      payload_encoding: "string",
    });
    app = await openApp();
  });
  after(async () => {
    await app?.close();
    await api("DELETE", `queues/%2F/${QUEUE}`);
  });

  test("inline, injected and remote script, remote fetches and eval are refused", async () => {
    const apiUrl = `http://127.0.0.1:${cluster.nodes[0].api}/api/overview`;
    const result = await app.client.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       const violations = [];
       document.addEventListener("securitypolicyviolation", (e) => violations.push(e.effectiveDirective));
       const s = document.createElement("script");
       s.textContent = "window.__inline = true";
       document.body.appendChild(s);
       const img = document.createElement("img");
       img.src = "http://127.0.0.1:9/beacon.png";
       document.body.appendChild(img);
       let evalRan = false;
       try { evalRan = eval("true"); } catch (e) { evalRan = false; }
       fetch(arguments[0]).then(() => "fetched", (e) => "refused").then((f) =>
         setTimeout(() => done({ inline: window.__inline === true, evalRan, fetch: f, violations }), 300));`,
      [apiUrl],
    );
    assert.equal(result.inline, false, "an inline script ran");
    assert.equal(result.evalRan, false, "eval ran");
    assert.equal(result.fetch, "refused", "the page reached the management API directly");
    for (const directive of ["script-src-elem", "img-src", "connect-src"]) {
      assert.ok(
        result.violations.some((v) => v.startsWith(directive.split("-").slice(0, 2).join("-"))),
        `no ${directive} violation reported: ${JSON.stringify(result.violations)}`,
      );
    }
  });

  test("a message made to attack the viewer is shown as text", async () => {
    await app.clickWhenReady('[data-testid="cluster-card"][data-profile="local-demo"] [data-testid="open-cluster"]');
    await app.clickWhenReady('[data-testid="tab-queues"]');
    await app.setValue('[data-testid="queue-filter"]', QUEUE);
    const row = `[data-testid="queue-row"][data-queue="${QUEUE}"]`;
    await app.clickWhenReady(`${row} button`);
    await app.clickWhenReady('[data-testid="browse-queue"]');
    await app.clickWhenReady('[data-testid="peek-start"]');
    await app.clickWhenReady('[data-testid="message-row"][data-position="1"]', 30_000);
    const shown = await app.until("the hostile message's detail", () =>
      app.eval(() => {
        const d = document.querySelector('[data-testid="message-detail"]');
        const body = d?.querySelector('[data-testid="message-body"]')?.textContent ?? "";
        return body.includes("<script>") ? { body, text: d.textContent, pwned: window.__pwned ?? null, scripts: d.querySelectorAll("script, img[src='x']").length } : null;
      }),
    );
    assert.equal(shown.pwned, null, "markup from the message ran");
    assert.equal(shown.scripts, 0, "markup from the message became elements");
    assert.ok(shown.body.includes(ATTACK), "the body is shown as the text it is");
    assert.ok(shown.text.includes("onerror"), "the header value is shown as text");
  });
});
