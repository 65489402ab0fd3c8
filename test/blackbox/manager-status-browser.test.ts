// The manager's /status page as an operator sees it: dist/manager with the shipped example
// definition and a state directory, VMs that really PUT heartbeats and job outputs with the tokens
// its metadata emulation hands out, and the page opened in Debian's chromium driven by
// playwright-core (which downloads no browser). Asserts what a person sees: the rows, states,
// codes, stale flag and boot timelines; the counts and the form narrowing the rows, with and
// without JavaScript; a hostile shutdown_message, space, stage name and DN shown as text and
// injecting nothing; and no request leaving 127.0.0.1.
import type { ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startManagerProcess } from "../support/manager-process.ts";
import { tempDir } from "./fixtures.ts";

const MANAGER = resolve("dist/manager");
const CHROMIUM = "/usr/bin/chromium";
const MT = "example-command";

const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (Debian package "chromium"; .ci/run installs it, tests never do)`
  : !existsSync(MANAGER)
    ? "dist/manager is missing (bash scripts/build.sh x64)"
    : null;
if (skip !== null) console.warn(`test/blackbox/manager-status-browser.test.ts skipped: ${skip}`);

// What VMs send that must reach the page as text: every one would fetch from outside 127.0.0.1
// (TEST-NET-3, never answered: the route below aborts anything not local) or open a dialog if it
// became markup.
const EVIL_MESSAGE = `600 <img src="http://203.0.113.9/m.png" onerror="alert(1)"><script>alert(2)</script>`;
const EVIL_SPACE = `"><iframe src="http://203.0.113.9/s"></iframe><b id="pwn">`;
const EVIL_STAGE = `<svg onload="alert(3)"></svg>`;
const EVIL_DN = `/DC=org/CN='><img src=http://203.0.113.9/dn.png>`;

interface Reply {
  status: number;
  body: string;
  type: string;
}

function send(url: string, init: { method?: string; body?: string; token?: string } = {}): Promise<Reply> {
  return new Promise((done, reject) => {
    const headers = init.token ? { authorization: `Bearer ${init.token}` } : {};
    const req = httpRequest(url, { method: init.method ?? "GET", headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => done({ status: res.statusCode!, body, type: String(res.headers["content-type"]) }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const jsonl = (...events: object[]) => events.map((e) => JSON.stringify({ time: "2026-03-01T10:00:00.000Z", level: "info", ...e })).join("\n") + "\n";
const finish = (stage: string, durationMs: number, state = "ok", error?: string) => ({ event: "stage-finish", msg: "stage-finish", stage, state, durationMs, ...(error ? { error } : {}) });
const context = (space: string) => JSON.stringify({ config: { identity: { space, hostname: `${space}-vm` } } });

let proc: ChildProcess | null = null;
let url = "";
let browser: Browser | null = null;
const requests: string[] = [];
const dialogs: string[] = [];

/** A browser context that logs every request it makes and lets only 127.0.0.1 through. */
async function newContext(javaScriptEnabled: boolean): Promise<BrowserContext> {
  const ctx = await browser!.newContext({ javaScriptEnabled });
  await ctx.route("**/*", (route) => {
    const u = route.request().url();
    requests.push(u);
    return new URL(u).hostname === "127.0.0.1" ? route.continue() : route.abort("blockedbyclient");
  });
  ctx.on("page", (p) => p.on("dialog", (d) => (dialogs.push(d.message()), void d.dismiss())));
  return ctx;
}

// The page's own global, for functions run inside chromium (this project's tsconfig has no DOM
// library; declared here, in this module only).
declare const window: { getComputedStyle(e: unknown): { backgroundColor: string } };
const background = (l: ReturnType<Page["locator"]>) => l.evaluate((e) => window.getComputedStyle(e).backgroundColor);
/** innerText with runs of white space (cells are separated by tabs) as one space. */
const texts = async (l: ReturnType<Page["locator"]>) => (await l.allInnerTexts()).map((t) => t.trim().split(/\s+/).join(" "));

const rowOf = (page: Page, vmId: string) => page.locator(`tr.vm[data-vm="${vmId}"]`);
const shownIds = async (page: Page) => (await page.locator("tr.vm").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-vm")))).sort();

describe.skipIf(skip !== null)("the manager's status page in chromium", () => {
  beforeAll(async () => {
    const state = tempDir("manager-status-");
    // A VM the manager knew before this start: its last heartbeat two hours old (stale), and the
    // client-certificate DN of its last upload, hostile. As vm-state-file.ts writes them.
    const hour = 3_600_000;
    writeFileSync(
      join(state, "vm-state.jsonl"),
      JSON.stringify({ machinetype: MT, vmId: "vm-stale", firstSeen: Date.now() - 3 * hour, lastHeartbeat: Date.now() - 2 * hour, heartbeat: "0.1 0.1 0.1 3600 10", lastOutput: null, outputs: 0, shutdownMessage: null, shutdownAt: null, metadataAt: null, dn: EVIL_DN }) + "\n",
    );
    const m = await startManagerProcess([resolve("examples/manager/definition.json"), "--http", "--state", state]);
    proc = m.proc;
    url = m.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Each VM learns its token from the metadata emulation, as a VM would, then PUTs with it.
    const vm = async (vmId: string, outputs: [name: string, body: string][]) => {
      const meta = JSON.parse((await send(`${url}/vms/${MT}/${vmId}/metadata/openstack/latest/meta_data.json`)).body) as { meta: { joboutputs: string } };
      const token = decodeURIComponent(new URL(meta.meta.joboutputs).password);
      for (const [name, body] of outputs) expect((await send(`${url}/vms/${MT}/${vmId}/joboutputs/${name}`, { method: "PUT", body, token })).status).toBe(201);
    };
    await vm("vm-new", []);
    await vm("vm-run", [
      ["heartbeat", "0.5 0.4 0.3 120 100"],
      ["vacuum-agent-context.json", context("vac02.example.org")],
      ["vacuum-agent.jsonl", jsonl(finish("layout", 4), finish("accounts", 30), { event: "stage-start", stage: "payload" })],
    ]);
    await vm("vm-done", [
      ["heartbeat", "0.5 0.4 0.3 120 100"],
      ["vacuum-agent-context.json", context("vac01.example.org")],
      ["vacuum-agent.jsonl", jsonl(finish("layout", 3), finish("accounts", 40), finish("payload", 1234), finish("finish", 5))],
      ["shutdown_message", "200 Payload completed"],
    ]);
    await vm("vm-fail", [
      ["heartbeat", "0.5 0.4 0.3 120 100"],
      ["vacuum-agent.jsonl", jsonl(finish("layout", 3), finish("payload", 65_000, "failed", "command exited with code 3"))],
      ["shutdown_message", "700 Payload command exited with code 3"],
    ]);
    await vm("vm-evil", [
      ["vacuum-agent-context.json", context(EVIL_SPACE)],
      ["vacuum-agent.jsonl", jsonl(finish(EVIL_STAGE, 10, "failed", EVIL_MESSAGE))],
      ["shutdown_message", EVIL_MESSAGE],
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
  });

  it("with JavaScript off: the rows, states, heartbeat ages, codes and boot timelines", async () => {
    const ctx = await newContext(false);
    const page = await ctx.newPage();
    const res = await page.goto(`${url}/status`);
    expect(res!.status()).toBe(200);
    expect(await page.title()).toBe("vacuum manager: VMs");
    expect(await shownIds(page)).toEqual(["vm-done", "vm-evil", "vm-fail", "vm-new", "vm-run", "vm-stale"]);
    const states = Object.fromEntries(await page.locator("tr.vm").evaluateAll((rows) => rows.map((r) => [r.getAttribute("data-vm"), r.querySelector(".state")!.textContent])));
    expect(states).toEqual({ "vm-new": "starting", "vm-run": "running", "vm-done": "finished", "vm-fail": "finished", "vm-evil": "finished", "vm-stale": "stale" });
    // The state pill is coloured: running green, stale orange.
    expect(await background(rowOf(page, "vm-run").locator(".state"))).toBe("rgb(46, 125, 50)");
    expect(await background(rowOf(page, "vm-stale").locator(".state"))).toBe("rgb(230, 81, 0)");

    // Heartbeat ages, human readable; the stale VM flagged.
    expect(await rowOf(page, "vm-run").locator("td.hb").innerText()).toMatch(/^\d+ s ago$/);
    expect(await rowOf(page, "vm-stale").locator("td.hb").innerText()).toBe("2 h ago ⚠ stale");
    expect(await rowOf(page, "vm-stale").locator("td.hb").getAttribute("title")).toContain("older than heartbeat_seconds (600 s)");
    expect(await rowOf(page, "vm-new").locator("td.hb").innerText()).toBe("none yet");

    // Space, codes and messages.
    expect(await rowOf(page, "vm-done").locator("td.space").innerText()).toBe("vac01.example.org");
    expect(await rowOf(page, "vm-done").locator("td.vm").innerText()).toBe("vm-done\nvac01.example.org-vm");
    expect(await rowOf(page, "vm-done").locator("td.message").innerText()).toBe("200 Payload completed");
    expect(await rowOf(page, "vm-fail").locator("td.message .code").innerText()).toBe("700");
    expect(await rowOf(page, "vm-fail").locator("td.message .code").getAttribute("title")).toBe("agent-problem: Error related to job agent or application within VM");
    expect(await rowOf(page, "vm-fail").locator("td.message").innerText()).toBe("700 Payload command exited with code 3");

    // Boot timelines: one bar segment per stage, the longest the widest; the durations table opens
    // on a click (a <details>, no script).
    const done = rowOf(page, "vm-done");
    expect(await done.locator(".bar .seg").evaluateAll((s) => s.map((e) => e.getAttribute("title")))).toEqual(["layout: ok, 3 ms", "accounts: ok, 40 ms", "payload: ok, 1.2 s", "finish: ok, 5 ms"]);
    const widths = await done.locator(".bar .seg").evaluateAll((s) => s.map((e) => e.getBoundingClientRect().width));
    expect(Math.max(...widths)).toBe(widths[2]);
    expect(widths[2]!).toBeGreaterThan(widths[1]! * 5);
    expect(await done.locator("summary").innerText()).toBe("4 stages · 1.3 s");
    await expect.poll(() => done.locator("table.stages").isVisible()).toBe(false);
    await done.locator("summary").click();
    expect(await done.locator("table.stages").isVisible()).toBe(true);
    expect(await texts(done.locator("table.stages tbody tr"))).toEqual([
      "layout ok 3 ms",
      "accounts ok 40 ms",
      "payload ok 1.2 s",
      "finish ok 5 ms",
    ]);
    expect(await rowOf(page, "vm-fail").locator("summary").innerText()).toBe("2 stages · 1 min 5 s · failed at payload");
    expect(await background(rowOf(page, "vm-fail").locator(".seg.failed"))).toBe("rgb(211, 47, 47)");
    expect(await rowOf(page, "vm-run").locator("summary").innerText()).toBe("3 stages · 34 ms · in payload");
    expect(await rowOf(page, "vm-new").locator("td.timeline").innerText()).toBe("no timeline uploaded");

    // The counts at the top.
    const counts = await texts(page.locator("#counts tr"));
    expect(counts).toEqual(["machinetype starting running stale finished all", `${MT} 1 1 1 3 6`, "all 1 1 1 3 6"]);
    await ctx.close();
  });

  it("with JavaScript off: a count link and the form narrow the rows, and the filters stay in the URL", async () => {
    const ctx = await newContext(false);
    const page = await ctx.newPage();
    await page.goto(`${url}/status`);
    // The "finished" count of the totals row.
    await page.locator("#counts tfoot td").nth(3).locator("a").click();
    await page.waitForURL(/state=finished/);
    expect(new URL(page.url()).search).toBe("?state=finished");
    expect(await shownIds(page)).toEqual(["vm-done", "vm-evil", "vm-fail"]);
    expect(await page.locator("#shown").innerText()).toBe(`3 of 3 VMs with state finished, newest activity first`);
    expect(await page.locator("#counts td.current").innerText()).toBe("3");
    // The page reloads itself at the same URL, so the filter survives the refresh.
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe("30");

    // Stop the reloading: the filter is kept.
    await page.getByRole("link", { name: "stop" }).click();
    await page.waitForURL(/refresh=0/);
    expect(new URL(page.url()).search).toBe("?state=finished&refresh=0");
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);

    // The form: its selects show the current filter; choosing machinetype and state and submitting.
    expect(await page.locator('select[name="state"]').inputValue()).toBe("finished");
    await page.locator('select[name="machinetype"]').selectOption(MT);
    await page.locator('select[name="state"]').selectOption("running");
    await page.getByRole("button", { name: "filter" }).click();
    await page.waitForURL(/state=running/);
    expect(new URL(page.url()).searchParams.toString()).toBe(`machinetype=${MT}&state=running&refresh=0`);
    expect(await shownIds(page)).toEqual(["vm-run"]);

    // The JSON link carries the same filter.
    const json = await send(new URL((await page.locator("#json").getAttribute("href"))!, page.url()).href);
    expect(json.type).toBe("application/json");
    expect((JSON.parse(json.body) as { vms: { vmId: string }[] }).vms.map((v) => v.vmId)).toEqual(["vm-run"]);
    expect(new URL((await page.locator("#metrics").getAttribute("href"))!, page.url()).pathname).toBe("/metrics");

    // "clear" drops the filters but keeps the refresh choice.
    await page.getByRole("link", { name: "clear" }).click();
    await page.waitForURL((u) => u.search === "?refresh=0");
    expect(await page.locator("tr.vm").count()).toBe(6);
    await ctx.close();
  });

  it("with JavaScript on: hostile values are shown as text and inject nothing; nothing is fetched from outside 127.0.0.1", async () => {
    const ctx = await newContext(true);
    const page = await ctx.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && consoleErrors.push(m.text())));
    await page.goto(`${url}/status`);
    await page.waitForLoadState("networkidle");
    const evil = rowOf(page, "vm-evil");
    expect(await evil.locator("td.message").innerText()).toBe(EVIL_MESSAGE);
    expect(await evil.locator("td.space").innerText()).toBe(EVIL_SPACE);
    expect(await evil.locator(".bar .seg").getAttribute("title")).toBe(`${EVIL_STAGE}: failed, 10 ms`);
    expect(await evil.locator("summary").innerText()).toBe(`1 stage · 10 ms · failed at ${EVIL_STAGE}`);
    expect(await rowOf(page, "vm-stale").locator(".dn").innerText()).toBe(EVIL_DN);
    // The page's elements are its own: no image, script, frame, svg or injected id anywhere.
    expect(await page.locator("img, script, iframe, svg, #pwn, [onerror], [onload]").count()).toBe(0);
    expect(await page.locator("td.message > *").evaluateAll((els) => [...new Set(els.map((e) => `${e.tagName} ${e.getAttribute("class")}`))].sort())).toEqual(["SPAN code", "SPAN code good"]);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
    // Every request, in this test and the others: the page and nothing else, all from the manager.
    expect(requests.length).toBeGreaterThanOrEqual(6);
    expect(requests.filter((u) => new URL(u).hostname !== "127.0.0.1")).toEqual([]);
    expect([...new Set(requests.map((u) => new URL(u).pathname))].sort()).toEqual(["/status"]);
    await ctx.close();
  });
});
