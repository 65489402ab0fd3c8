// /status.json, /status and /metrics over VMs that reported through the VM endpoints.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, type App } from "../../../src/manager/serve/app.ts";
import { createPublisher } from "../../../src/manager/serve/publisher.ts";
import { RequestCounters, requestKind } from "../../../src/manager/status/metrics.ts";
import { statusRoutes } from "../../../src/manager/status/status-routes.ts";
import { createVmService } from "../../../src/manager/vm/vm-service.ts";
import { VmRegistry } from "../../../src/manager/vm/vm-registry.ts";
import { loadTokenKey, vmToken, type TokenKey } from "../../../src/manager/vm/vm-token.ts";
import { makeDefinitionDir, type DefinitionDir } from "../serve/definition-dir.ts";

const MT = "example-command";
let defs: DefinitionDir;
let state: string;
let key: TokenKey;
let app: App;
let clock: number;

const put = (vmId: string, name: string, body: string) =>
  app.fetch(new Request(`http://m.test/vms/${MT}/${vmId}/joboutputs/${name}`, { method: "PUT", body, headers: { authorization: `Bearer ${vmToken(key, MT, vmId)}` } }));
const get = (path: string) => app.fetch(new Request(`http://m.test${path}`));

const CONTEXT = JSON.stringify({ config: { identity: { space: "vac01.example.org", hostname: "vm-01.example.org" } } });
const TIMELINE = [
  { stage: "layout", event: "stage-start" },
  { stage: "layout", state: "ok", durationMs: 3, time: "2026-03-01T10:00:01.000Z", event: "stage-finish" },
  { stage: "payload", state: "failed", durationMs: 1500, time: "2026-03-01T10:00:03.000Z", event: "stage-finish" },
].map((e) => JSON.stringify(e)).join("\n") + "\n{cut";

beforeEach(async () => {
  defs = makeDefinitionDir();
  state = mkdtempSync(join(tmpdir(), "status-"));
  key = await loadTokenKey(state);
  clock = Date.parse("2026-03-01T10:00:00Z");
  const publisher = createPublisher({ file: defs.file });
  await publisher.reload();
  const registry = new VmRegistry();
  const requests = new RequestCounters();
  const vm = createVmService({ stateDir: state, key, registry, content: publisher.current, now: () => clock });
  const status = statusRoutes({ registry, stateDir: state, content: publisher.current, requests, reloads: publisher.reloads, now: () => clock });
  app = createApp({ content: publisher.current, vm, routes: [status], observe: (p, s) => requests.add(requestKind(p), s) });
});
afterEach(() => {
  defs.cleanup();
  rmSync(state, { recursive: true, force: true });
});

describe("status", () => {
  it("status.json: each VM's space, state, heartbeat age, shutdown_message and boot timeline", async () => {
    await put("vm-a", "heartbeat", "0 0 0 1 1");
    await put("vm-a", "vacuum-agent-context.json", CONTEXT);
    await put("vm-a", "vacuum-agent.jsonl", TIMELINE);
    await put("vm-a", "shutdown_message", "700 Payload command exited with code 3");
    clock += 5_000;
    await put("vm-b", "heartbeat", "0 0 0 1 1");
    clock += 60_000;
    await put("vm-c", "payload-stdout.log", "x");
    clock += 700_000;
    const doc = (await (await get("/status.json")).json()) as { total: number; vms: Record<string, unknown>[] };
    expect(doc.total).toBe(3);
    expect(doc.vms.map((v) => [v.vmId, v.state])).toEqual([["vm-c", "starting"], ["vm-b", "stale"], ["vm-a", "finished"]]);
    expect(doc.vms[2]).toMatchObject({
      machinetype: MT,
      space: "vac01.example.org",
      hostname: "vm-01.example.org",
      shutdownMessage: "700 Payload command exited with code 3",
      shutdownCode: 700,
      heartbeatAgeSeconds: 765,
      staleAfterSeconds: 600,
      timeline: [
        { stage: "layout", state: "ok", durationMs: 3, at: "2026-03-01T10:00:01.000Z", error: null },
        { stage: "payload", state: "failed", durationMs: 1500, at: "2026-03-01T10:00:03.000Z", error: null },
      ],
    });
    const filtered = (await (await get("/status.json?state=stale&limit=5")).json()) as { vms: { vmId: string }[] };
    expect(filtered.vms.map((v) => v.vmId)).toEqual(["vm-b"]);
  });

  it("a heartbeat within heartbeat_seconds is running", async () => {
    await put("vm-r", "heartbeat", "x");
    clock += 599_000;
    const doc = (await (await get("/status.json")).json()) as { vms: { state: string }[] };
    expect(doc.vms[0]!.state).toBe("running");
  });

  it("the HTML page escapes what VMs sent, and says by its CSP that it runs and loads nothing", async () => {
    await put("vm-x", "shutdown_message", "600 <script>alert(1)</script>");
    const res = await get("/status");
    const page = await res.text();
    expect(page).toContain('<span class="code" title="grid-problem: Grid-wide problem with job agent or application within VM">600</span> &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain("<script>");
    expect(page).toContain('<tr class="vm" data-vm="vm-x" data-machinetype="example-command" data-state="finished">');
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("status.json: counts of all VMs by state and machinetype, whatever the filter", async () => {
    await put("vm-a", "heartbeat", "x");
    await put("vm-b", "heartbeat", "x");
    await put("vm-c", "shutdown_message", "200 Payload completed");
    const doc = (await (await get("/status.json?state=finished")).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      filter: { machinetype: null, state: "finished" },
      total: 1,
      shown: 1,
      counts: { all: 3, states: { starting: 0, running: 2, stale: 0, finished: 1 }, machinetypes: { [MT]: { starting: 0, running: 2, stale: 0, finished: 1 } } },
    });
    // A machinetype nobody filters by, or a state that does not exist, lists nothing.
    expect(((await (await get("/status.json?machinetype=other")).json()) as { total: number }).total).toBe(0);
    expect(((await (await get("/status.json?state=bogus")).json()) as { total: number }).total).toBe(0);
  });

  it.each([
    ["/status/", "../status"],
    ["/status/?state=stale&refresh=0&junk=1", "../status?state=stale&refresh=0"],
  ])("%s redirects to the page its relative links are made for", async (path, location) => {
    const res = await get(path);
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(location);
    expect(new URL(location, `http://m.test${path}`).pathname).toBe("/status");
  });

  it.each(["/status", "/status.json", "/metrics"])("HEAD %s: the headers without the body; POST: 405", async (path) => {
    await put("vm-a", "heartbeat", "x");
    const head = await app.fetch(new Request(`http://m.test${path}`, { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await head.text()).toBe("");
    expect((await app.fetch(new Request(`http://m.test${path}`, { method: "POST", body: "x" }))).status).toBe(405);
  });

  it("metrics: VMs by machinetype and state, finished by code, requests by kind", async () => {
    await put("vm-a", "heartbeat", "x");
    await put("vm-b", "shutdown_message", "200 Payload completed");
    await get("/pipes/example.pipe");
    await get("/nothing");
    const text = await (await get("/metrics")).text();
    expect(text).toContain(`vacuum_manager_vms{machinetype="${MT}",state="running"} 1`);
    expect(text).toContain(`vacuum_manager_vms{machinetype="${MT}",state="stale"} 0`);
    expect(text).toContain(`vacuum_manager_vms_finished{machinetype="${MT}",code="200"} 1`);
    expect(text).toContain('vacuum_manager_requests_total{kind="joboutputs",status="201"} 2');
    expect(text).toContain('vacuum_manager_requests_total{kind="pipe",status="200"} 1');
    expect(text).toContain('vacuum_manager_requests_total{kind="other",status="404"} 1');
    expect(text).toContain('vacuum_manager_reloads_total{result="ok"} 1');
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [0-9.e+-]+)$/);
  });
});
