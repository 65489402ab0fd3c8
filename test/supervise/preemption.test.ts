import { afterEach, describe, expect, it, vi } from "vitest";
import { createPreemptionWatch, type PreemptionNotice, type PreemptionProvider, type PreemptionWatchOptions } from "../../src/supervise/preemption.ts";
import { startMetadataServer, type MetadataServer, type MetadataServerOptions } from "../support/metadata-server.ts";

const SPOT_PATH = "/latest/meta-data/spot/instance-action";
const GCE_PATH = "/computeMetadata/v1/instance/preempted";

const servers: MetadataServer[] = [];
const watches: { stop(): void }[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.stop();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(opts: MetadataServerOptions): Promise<MetadataServer> {
  const s = await startMetadataServer(opts);
  servers.push(s);
  return s;
}

interface Line {
  level: string;
  msg: string;
}

function watch(provider: PreemptionProvider, url: string, extra: Partial<PreemptionWatchOptions> = {}) {
  const lines: Line[] = [];
  const notices: PreemptionNotice[] = [];
  const w = createPreemptionWatch({
    provider,
    baseUrl: url,
    gceBaseUrl: url,
    intervalMs: 20,
    onNotice: (n) => notices.push(n),
    log: {
      info: (msg) => lines.push({ level: "info", msg }),
      warn: (msg) => lines.push({ level: "warn", msg }),
      error: (msg) => lines.push({ level: "error", msg }),
    },
    ...extra,
  });
  watches.push(w);
  return { w, lines, notices };
}

const count = (s: MetadataServer, path: string, method = "GET") => s.requests.filter((r) => r.path === path && r.method === method).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("createPreemptionWatch: EC2 spot instance-action", () => {
  it("uses one IMDSv2 token for every poll and reports the notice once, then stops polling", async () => {
    const s = await serve({ variant: "ec2", imdsv2: "required" });
    const { w, notices, lines } = watch("ec2", s.url);
    w.start();
    await vi.waitFor(() => expect(count(s, SPOT_PATH)).toBeGreaterThanOrEqual(3));
    expect(notices).toEqual([]);

    s.setPreemption({ action: "terminate", time: "2026-11-22T10:00:00Z" });
    await vi.waitFor(() => expect(notices).toHaveLength(1));
    expect(notices[0]).toEqual({ provider: "ec2", text: "EC2 spot interruption: terminate at 2026-11-22T10:00:00Z", at: "2026-11-22T10:00:00Z" });

    const polls = count(s, SPOT_PATH);
    await sleep(120);
    expect(count(s, SPOT_PATH)).toBe(polls);
    expect(notices).toHaveLength(1);
    expect(count(s, "/latest/api/token", "PUT")).toBe(1);
    expect(s.requests.filter((r) => r.path === SPOT_PATH).every((r) => typeof r.headers["x-aws-ec2-metadata-token"] === "string")).toBe(true);
    expect(lines.filter((l) => l.level !== "info")).toEqual([{ level: "warn", msg: "preemption notice: EC2 spot interruption: terminate at 2026-11-22T10:00:00Z" }]);
  });

  it("asks for a new token before the old one's TTL runs out", async () => {
    const s = await serve({ variant: "ec2", imdsv2: "required" });
    let clock = 1_000_000;
    const { w, notices } = watch("ec2", s.url, { now: () => clock });
    w.start();
    await vi.waitFor(() => expect(count(s, SPOT_PATH)).toBeGreaterThanOrEqual(2));
    expect(count(s, "/latest/api/token", "PUT")).toBe(1);
    clock += 6 * 3600 * 1000 - 5 * 60 * 1000; // 5 minutes before the 6 h TTL
    await vi.waitFor(() => expect(count(s, "/latest/api/token", "PUT")).toBe(2));
    s.setPreemption({ action: "stop", time: "2026-11-22T10:02:00Z" });
    await vi.waitFor(() => expect(notices.map((n) => n.text)).toEqual(["EC2 spot interruption: stop at 2026-11-22T10:02:00Z"]));
  });

  it("replaces a token the service stopped accepting (401), logging that once", async () => {
    const s = await serve({ variant: "ec2", imdsv2: "required", tokenLifetimeMs: 30 });
    const { w, lines, notices } = watch("ec2", s.url);
    w.start();
    await vi.waitFor(() => expect(count(s, "/latest/api/token", "PUT")).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    s.setPreemption({ action: "hibernate", time: "2026-11-22T10:00:00Z" });
    await vi.waitFor(() => expect(notices).toHaveLength(1), { timeout: 5000 });
    const warnings = lines.filter((l) => l.level === "warn" && l.msg.includes("401"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("answered 401 Unauthorized to our IMDSv2 token");
  });

  it("falls back to IMDSv1 when the token PUT is refused (Vac's 501), without asking again every poll", async () => {
    const s = await serve({ variant: "ec2", imdsv2: "unavailable" });
    const { w, notices, lines } = watch("ec2", s.url);
    w.start();
    await vi.waitFor(() => expect(count(s, SPOT_PATH)).toBeGreaterThanOrEqual(3));
    s.setPreemption('{"action":"terminate","time":"2026-11-22T10:00:00Z"}');
    await vi.waitFor(() => expect(notices).toHaveLength(1));
    expect(count(s, "/latest/api/token", "PUT")).toBe(1);
    expect(s.requests.filter((r) => r.path === SPOT_PATH).some((r) => r.headers["x-aws-ec2-metadata-token"] !== undefined)).toBe(false);
    expect(lines.filter((l) => l.level === "warn" && !l.msg.startsWith("preemption notice"))).toEqual([]);
  });

  it.each([
    ["not JSON", "<html>maintenance</html>", "answered 200 with something that is not JSON"],
    ["an unknown action", '{"action":"reboot","time":"2026-11-22T10:00:00Z"}', "without an action of terminate, stop or hibernate"],
    ["JSON null", "null", "without an action of terminate, stop or hibernate"],
  ])("treats a 200 answer with %s as no notice and says so once", async (_name, body, reason) => {
    const s = await serve({ variant: "ec2", spotInstanceAction: body });
    const { w, notices, lines } = watch("ec2", s.url);
    w.start();
    await vi.waitFor(() => expect(count(s, SPOT_PATH)).toBeGreaterThanOrEqual(4));
    expect(notices).toEqual([]);
    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(reason);
  });
});

describe("createPreemptionWatch: GCE preempted", () => {
  it("sends Metadata-Flavor, ignores FALSE and reports TRUE once", async () => {
    const s = await serve({ variant: "gce" });
    const { w, notices } = watch("gce", s.url);
    w.start();
    await vi.waitFor(() => expect(count(s, GCE_PATH)).toBeGreaterThanOrEqual(3));
    expect(notices).toEqual([]);
    s.setPreemption(true);
    await vi.waitFor(() => expect(notices).toEqual([{ provider: "gce", text: "GCE instance preempted" }]));
    const polls = count(s, GCE_PATH);
    await sleep(100);
    expect(count(s, GCE_PATH)).toBe(polls);
    expect(s.requests.every((r) => r.headers["metadata-flavor"] === "Google")).toBe(true);
  });

  it("polls the GCE base URL, not the EC2 one", async () => {
    const gce = await serve({ variant: "gce", preempted: true });
    const ec2 = await serve({ variant: "ec2" });
    const { w, notices } = watch("gce", ec2.url, { gceBaseUrl: `${gce.url}/` });
    w.start();
    await vi.waitFor(() => expect(notices).toHaveLength(1));
    expect(ec2.requests).toEqual([]);
  });
});

describe("createPreemptionWatch: failures", () => {
  it.each([
    ["ec2", "HTTP 500", { variant: "error500" as const }, "answered HTTP 500"],
    ["gce", "HTTP 500", { variant: "error500" as const }, "answered HTTP 500"],
    ["gce", "a server that is not GCE (404)", { variant: "openstack" as const }, "answered HTTP 404"],
    ["ec2", "a hung server", { variant: "hang" as const }, "no complete answer within 150 ms"],
  ])("%s with %s: no notice, one warning, polling goes on", async (provider, _name, opts, reason) => {
    const s = await serve(opts);
    const { w, notices, lines } = watch(provider as "ec2" | "gce", s.url, { connectTimeoutMs: 100, timeoutMs: 150 });
    w.start();
    const path = provider === "ec2" ? SPOT_PATH : GCE_PATH;
    await vi.waitFor(() => expect(count(s, path)).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    expect(notices).toEqual([]);
    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(reason);
  });

  it("a refused connection is logged once and never throws", async () => {
    const s = await serve({ variant: "ec2" });
    const url = s.url;
    await s.close();
    servers.splice(0);
    const { w, notices, lines } = watch("ec2", url);
    w.start();
    await sleep(150);
    expect(notices).toEqual([]);
    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("connection refused");
  });

  it("a notice handler that throws is logged, not thrown", async () => {
    const s = await serve({ variant: "gce", preempted: true });
    const { w, lines } = watch("gce", s.url, {
      onNotice: () => {
        throw new Error("boom");
      },
    });
    w.start();
    await vi.waitFor(() => expect(lines.some((l) => l.level === "error")).toBe(true));
    expect(lines.find((l) => l.level === "error")!.msg).toBe("preemption watch: the notice handler failed: boom");
  });
});

describe("createPreemptionWatch: start and stop", () => {
  it.each(["vac", "openstack", "config-drive", null] as const)("%s: start() polls nothing and says so", async (provider) => {
    const s = await serve({ variant: "ec2", spotInstanceAction: { action: "terminate", time: "2026-11-22T10:00:00Z" } });
    const { w, notices, lines } = watch(provider, s.url);
    w.start();
    await sleep(80);
    expect(s.requests).toEqual([]);
    expect(notices).toEqual([]);
    expect(lines).toEqual([{ level: "info", msg: `preemption watch: not polling (${provider ?? "no metadata service"} announces no preemption)` }]);
  });

  it("stop() ends polling: a later notice is never reported", async () => {
    const s = await serve({ variant: "gce" });
    const { w, notices } = watch("gce", s.url);
    w.start();
    await vi.waitFor(() => expect(count(s, GCE_PATH)).toBeGreaterThanOrEqual(2));
    w.stop();
    await sleep(30); // a poll in flight may still land
    const polls = count(s, GCE_PATH);
    s.setPreemption(true);
    await sleep(100);
    expect(count(s, GCE_PATH)).toBe(polls);
    expect(notices).toEqual([]);
  });

  it("an aborted signal stops the watch", async () => {
    const s = await serve({ variant: "gce" });
    const ac = new AbortController();
    const { w } = watch("gce", s.url, { signal: ac.signal });
    w.start();
    await vi.waitFor(() => expect(count(s, GCE_PATH)).toBeGreaterThanOrEqual(1));
    ac.abort();
    await sleep(30);
    const polls = count(s, GCE_PATH);
    await sleep(100);
    expect(count(s, GCE_PATH)).toBe(polls);
  });

  it("polls on the injected timers at the configured interval", async () => {
    const s = await serve({ variant: "gce" });
    const scheduled: { fn: () => void; ms: number }[] = [];
    const { w } = watch("gce", s.url, {
      intervalMs: 5000,
      timers: { setTimeout: (fn, ms) => scheduled.push({ fn, ms }), clearTimeout: () => undefined },
    });
    w.start();
    expect(scheduled.map((t) => t.ms)).toEqual([0]);
    scheduled[0]!.fn();
    await vi.waitFor(() => expect(scheduled.map((t) => t.ms)).toEqual([0, 5000]));
    expect(count(s, GCE_PATH)).toBe(1);
  });
});
