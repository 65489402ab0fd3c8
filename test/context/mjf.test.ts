import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedUrl } from "../support/closed-port.ts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readMjf, readShutdownTimes } from "../../src/context/mjf.ts";
import { closeHttpAgents } from "../../src/net/http-client.ts";
import { startMjfServer, type MjfServer, type MjfServerOptions } from "../support/mjf-server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../support/tls-fixtures.ts";

const UUID = "6f1c3b2a-9d4e-4f7a-8b1c-2d3e4f5a6b7c";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function mjfDirs(mf: Record<string, string> | null, jf: Record<string, string> | null) {
  const root = await mkdtemp(join(tmpdir(), "mjf-"));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const write = async (name: string, files: Record<string, string> | null) => {
    if (files === null) return;
    await mkdir(join(root, name));
    for (const [k, v] of Object.entries(files)) await writeFile(join(root, name, k), v);
  };
  await write("machinefeatures", mf);
  await write("jobfeatures", jf);
  return { machinefeatures: join(root, "machinefeatures"), jobfeatures: join(root, "jobfeatures") };
}

async function serve(opts: MjfServerOptions): Promise<MjfServer> {
  const s = await startMjfServer(opts);
  cleanups.push(() => s.close());
  return s;
}


describe("readMjf value parsing (from a directory)", () => {
  it.each([
    ["jobfeatures", "allocated_cpu", "4\n", 4, null],
    ["machinefeatures", "hs06", "40.0", 40, null],
    ["jobfeatures", "hs06_job", "1.0", 1, null],
    ["jobfeatures", "hs06_job", "12.5\n", 12.5, null],
    ["machinefeatures", "shutdowntime", "  1700000000 \n", 1700000000, null],
    ["machinefeatures", "total_cpu", "1.0", undefined, 'expected an integer (processors), got "1.0"; ignored'],
    ["jobfeatures", "jobstart_secs", UUID, undefined, `expected an integer (Unix seconds), got "${UUID}"; ignored`],
    ["jobfeatures", "wall_limit_secs", "-5", undefined, 'expected an integer (seconds), got "-5"; ignored'],
    ["jobfeatures", "max_rss_bytes", "", undefined, "expected an integer (bytes), got an empty value; ignored"],
    ["machinefeatures", "hs06", "fast", undefined, 'expected a number (HS06), got "fast"; ignored'],
    ["jobfeatures", "job_id", UUID, UUID, null],
    ["jobfeatures", "job_id", "two words", undefined, 'expected printable ASCII without spaces, got "two words"; ignored'],
    ["jobfeatures", "shutdowntime_job", "x".repeat(60), undefined, `expected an integer (Unix seconds), got "${"x".repeat(40)}…"; ignored`],
  ] as const)("%s/%s = %j -> %j", async (dir, key, text, value, warning) => {
    const locations = await mjfDirs(dir === "machinefeatures" ? { [key]: text } : {}, dir === "jobfeatures" ? { [key]: text } : {});
    const r = await readMjf(locations);
    expect((r[dir].values as Record<string, unknown>)[key]).toBe(value);
    expect(r[dir].raw[key]).toBe(text.trim());
    expect(r.problems).toEqual(warning === null ? [] : [{ severity: "warning", source: dir, path: key, message: warning }]);
  });

  it("reads every TN02 key and keeps legacy keys raw only", async () => {
    const locations = await mjfDirs(
      { total_cpu: "8", hs06: "80.0", shutdowntime: "1700086400", grace_secs: "300", phys_cores: "8", log_cores: "8", jobslots: "1" },
      {
        allocated_cpu: "8\n", hs06_job: "80.0", shutdowntime_job: "1700086400", grace_secs_job: "120", jobstart_secs: "1700000000",
        job_id: "vm-1", wall_limit_secs: "86400", cpu_limit_secs: "691200", max_rss_bytes: "17179869184", max_swap_bytes: "0",
        scratch_limit_bytes: "100000000000", cpufactor_lrms: "1.0", mem_limit_MB: "17179", allocated_CPU: "8\n",
      },
    );
    const r = await readMjf(locations);
    expect(r.problems).toEqual([]);
    expect(r.machinefeatures).toEqual({
      location: locations.machinefeatures,
      kind: "directory",
      values: { total_cpu: 8, hs06: 80, shutdowntime: 1700086400, grace_secs: 300, phys_cores: 8, log_cores: 8, jobslots: 1 },
      raw: { total_cpu: "8", hs06: "80.0", shutdowntime: "1700086400", grace_secs: "300", phys_cores: "8", log_cores: "8", jobslots: "1" },
    });
    expect(r.jobfeatures.values).toEqual({
      allocated_cpu: 8, hs06_job: 80, shutdowntime_job: 1700086400, grace_secs_job: 120, jobstart_secs: 1700000000, job_id: "vm-1",
      wall_limit_secs: 86400, cpu_limit_secs: 691200, max_rss_bytes: 17179869184, max_swap_bytes: 0, scratch_limit_bytes: 100000000000,
    });
    expect(r.jobfeatures.raw).toMatchObject({ cpufactor_lrms: "1.0", mem_limit_MB: "17179", allocated_CPU: "8" });
  });
});

describe("readMjf locations", () => {
  it("reads nothing and reports nothing without locations", async () => {
    const r = await readMjf({ machinefeatures: null, jobfeatures: null });
    expect(r).toEqual({
      machinefeatures: { location: null, kind: null, values: {}, raw: {} },
      jobfeatures: { location: null, kind: null, values: {}, raw: {} },
      problems: [],
    });
  });

  it("gives one warning for a missing directory, not one per key", async () => {
    const locations = await mjfDirs({ total_cpu: "2" }, null);
    const r = await readMjf(locations);
    expect(r.machinefeatures.values).toEqual({ total_cpu: 2 });
    expect(r.jobfeatures).toMatchObject({ kind: "directory", values: {} });
    expect(r.problems).toEqual([
      { severity: "warning", source: "jobfeatures", path: locations.jobfeatures, message: `cannot be read: ${locations.jobfeatures} does not exist; no jobfeatures values` },
    ]);
  });

  it("refuses a location that is neither a directory nor a URL", async () => {
    const r = await readMjf({ machinefeatures: "etc/machinefeatures", jobfeatures: null });
    expect(r.problems).toEqual([
      { severity: "warning", source: "machinefeatures", path: "etc/machinefeatures", message: "expected an absolute directory (/...) or an http:// or https:// URL; not read" },
    ]);
  });

  it("reads Vac-style HTTP MJF: every key fetched, HTML 404 pages are absent keys (case 10)", async () => {
    const s = await serve({ style: "vac", machinefeatures: { total_cpu: "4", hs06: "40.0" }, jobfeatures: { allocated_cpu: "4\n", jobstart_secs: "1700000000", wall_limit_secs: "86400" } });
    const r = await readMjf({ machinefeatures: s.machinefeaturesUrl, jobfeatures: `${s.jobfeaturesUrl}/`, connectTimeoutMs: 1000, timeoutMs: 2000 });
    expect(r.problems).toEqual([]);
    expect(r.machinefeatures).toMatchObject({ kind: "url", values: { total_cpu: 4, hs06: 40 } });
    expect(r.jobfeatures.values).toEqual({ allocated_cpu: 4, jobstart_secs: 1700000000, wall_limit_secs: 86400 });
    expect(r.machinefeatures.raw).not.toHaveProperty("shutdowntime");
    expect(s.requests.filter((q) => q.path.startsWith("/machinefeatures/"))).toHaveLength(7);
    expect(s.requests.filter((q) => q.path.startsWith("/jobfeatures/"))).toHaveLength(16);
    expect(s.requests.every((q) => !q.path.includes("//"))).toBe(true);
  });

  it("gives one warning for an unreachable URL", async () => {
    const url = `${await closedUrl()}/machinefeatures`;
    const r = await readMjf({ machinefeatures: url, jobfeatures: null, connectTimeoutMs: 500, timeoutMs: 1000 });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ severity: "warning", source: "machinefeatures", path: url });
    expect(r.problems[0]!.message).toMatch(/^cannot be read: .*connection refused; no machinefeatures values$/);
  });

  it("treats a 500 as a failure to read, not as absent", async () => {
    const s = await serve({ style: "vac", jobfeatures: { wall_limit_secs: "10" }, failWith: { jobfeatures: 500 } });
    const r = await readMjf({ machinefeatures: null, jobfeatures: s.jobfeaturesUrl, connectTimeoutMs: 1000, timeoutMs: 2000 });
    expect(r.jobfeatures.values).toEqual({});
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/answered HTTP 500/);
  });
});

describe("readMjf over HTTPS (Vcycle style, client certificate)", () => {
  let pki: TlsFixtures;
  let s: MjfServer;
  beforeAll(async () => {
    pki = await makeTlsFixtures();
    s = await startMjfServer({
      style: "vcycle",
      tls: { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, requestCert: true },
      machinefeatures: { total_cpu: "2", shutdowntime: "1700003600" },
      jobfeatures: { jobstart_secs: UUID, wall_limit_secs: "86400", cpu_limit_secs: "86400", allocated_CPU: "2" },
    });
  });
  afterAll(async () => {
    await closeHttpAgents();
    await s.close();
    await pki.cleanup();
  });

  it("reads values with the CA directory and client certificate; a UUID in jobstart_secs is a warning (Vcycle 03.00)", async () => {
    const r = await readMjf({
      machinefeatures: s.machinefeaturesUrl,
      jobfeatures: s.jobfeaturesUrl,
      tls: { caDir: pki.caDir, cert: pki.clientCertPem, key: pki.clientKeyPem },
      connectTimeoutMs: 2000,
      timeoutMs: 5000,
    });
    expect(r.machinefeatures.values).toEqual({ total_cpu: 2, shutdowntime: 1700003600 });
    expect(r.jobfeatures.values).toEqual({ wall_limit_secs: 86400, cpu_limit_secs: 86400 });
    expect(r.jobfeatures.raw).toMatchObject({ jobstart_secs: UUID, allocated_CPU: "2" });
    expect(r.problems).toEqual([
      { severity: "warning", source: "jobfeatures", path: "jobstart_secs", message: `expected an integer (Unix seconds), got "${UUID}"; ignored` },
    ]);
  });

  it("reports an untrusted server once per location", async () => {
    const r = await readMjf({
      machinefeatures: s.machinefeaturesUrl,
      jobfeatures: null,
      tls: { caDir: pki.wrongCaDir, cert: pki.clientCertPem, key: pki.clientKeyPem },
      connectTimeoutMs: 2000,
      timeoutMs: 5000,
    });
    expect(r.machinefeatures.values).toEqual({});
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/^cannot be read: .*TLS failure/);
  });
});

describe("readMjf retry of missing keys (Vcycle writes most keys after its cloud call)", () => {
  it("re-reads until the core keys appear", async () => {
    const s = await serve({ style: "vcycle", machinefeatures: { shutdowntime: "1700003600" }, jobfeatures: {} });
    const sleeps: number[] = [];
    const r = await readMjf({
      machinefeatures: s.machinefeaturesUrl,
      jobfeatures: s.jobfeaturesUrl,
      retryMissingForMs: 120_000,
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) {
          s.set("machinefeatures", "total_cpu", "4");
          s.set("jobfeatures", "wall_limit_secs", "86400");
          s.set("jobfeatures", "jobstart_secs", "1700000000");
        }
      },
    });
    expect(r.problems).toEqual([]);
    expect(r.machinefeatures.values).toEqual({ shutdowntime: 1700003600, total_cpu: 4 });
    expect(r.jobfeatures.values).toEqual({ wall_limit_secs: 86400, jobstart_secs: 1700000000 });
    // Each directory waits 1 s before its first re-read (the two directories are read concurrently).
    expect(sleeps.filter((ms) => ms === 1000)).toHaveLength(2);
    // The second pass re-reads only what was missing: shutdowntime is fetched once.
    expect(s.requests.filter((q) => q.path.endsWith("/shutdowntime"))).toHaveLength(1);
  });

  it("stops retrying when the window is over", async () => {
    const locations = await mjfDirs({}, {});
    let clock = 0;
    const sleeps: number[] = [];
    const r = await readMjf({
      ...locations,
      retryMissingForMs: 20_000,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    expect(r.machinefeatures.values).toEqual({});
    // Both directories wait in parallel; each pauses 1, 2, 4, 8 s then the last 5 s of the window.
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20_000);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(10_000);
  });

  it("does not retry by default", async () => {
    const s = await serve({ style: "vac", machinefeatures: {} });
    await readMjf({ machinefeatures: s.machinefeaturesUrl, jobfeatures: null, sleep: async () => expect.unreachable("no sleep without retryMissingForMs") });
    expect(s.requests).toHaveLength(7);
  });
});

describe("readShutdownTimes", () => {
  it("re-reads only shutdowntime and shutdowntime_job and sees a lowered value (case 9)", async () => {
    const s = await serve({ style: "vac", machinefeatures: { shutdowntime: "1700036000", total_cpu: "1" }, jobfeatures: { shutdowntime_job: "1700036000" } });
    const opts = { machinefeatures: s.machinefeaturesUrl, jobfeatures: s.jobfeaturesUrl, connectTimeoutMs: 1000, timeoutMs: 2000 };
    expect(await readShutdownTimes(opts)).toEqual({ shutdowntime: 1700036000, shutdowntime_job: 1700036000, unreadable: [], problems: [] });
    s.set("jobfeatures", "shutdowntime_job", "1700000300\n");
    expect(await readShutdownTimes(opts)).toMatchObject({ shutdowntime_job: 1700000300 });
    expect(s.requests.map((q) => q.path).sort()).toEqual([
      "/jobfeatures/shutdowntime_job", "/jobfeatures/shutdowntime_job", "/machinefeatures/shutdowntime", "/machinefeatures/shutdowntime",
    ]);
  });

  it("tells an absent key (404) from an unreadable one (keep the last good value)", async () => {
    const s = await serve({ style: "vcycle", machinefeatures: {} });
    const r = await readShutdownTimes({ machinefeatures: s.machinefeaturesUrl, jobfeatures: `${await closedUrl()}/jobfeatures`, connectTimeoutMs: 500, timeoutMs: 1000 });
    expect(r.shutdowntime).toBeUndefined();
    expect(r.shutdowntime_job).toBeUndefined();
    expect(r.unreadable).toEqual(["shutdowntime_job"]);
    expect(r.problems).toEqual([
      { severity: "warning", source: "jobfeatures", path: "shutdowntime_job", message: expect.stringMatching(/connection refused; keeping the last known value$/) },
    ]);
  });

  it("reads shutdown times from directories", async () => {
    const locations = await mjfDirs({ shutdowntime: "1700000000\n" }, { shutdowntime_job: "soon" });
    const r = await readShutdownTimes(locations);
    expect(r).toEqual({
      shutdowntime: 1700000000,
      unreadable: [],
      problems: [{ severity: "warning", source: "jobfeatures", path: "shutdowntime_job", message: 'expected an integer (Unix seconds), got "soon"; ignored' }],
    });
  });
});
