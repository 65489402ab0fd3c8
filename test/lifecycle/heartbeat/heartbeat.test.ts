import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createHeartbeat, type HeartbeatOptions } from "../../../src/lifecycle/heartbeat/heartbeat.ts";
import type { PutOutcome } from "../../../src/lifecycle/joboutputs/target.ts";
import { closeHttpAgents } from "../../../src/net/http-client.ts";
import { startJobOutputsServer, type JobOutputsServer } from "../../support/joboutputs-server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../../support/tls-fixtures.ts";
import { recordLog } from "../joboutputs/log-recorder.ts";
import { fakeClock, type FakeClock } from "./fake-clock.ts";

const PROC = async (path: string) => (path === "/proc/loadavg" ? "0.10 0.20 0.30 1/99 42\n" : "1000.00 1900.00\n");
const CONTENT = "0.10 0.20 0.30 1000.00 1900.00\n";

let spool: string;
let clock: FakeClock;
beforeEach(() => {
  spool = mkdtempSync(join(tmpdir(), "heartbeat-"));
  clock = fakeClock();
});
afterEach(() => rmSync(spool, { recursive: true, force: true }));

interface FakeTarget {
  where: string;
  calls: { name: string; at: number; body: string }[];
  /** Outcome of each call, in order; the last repeats. */
  outcomes: PutOutcome[];
  /** Fake time each PUT takes. */
  takesMs: number;
  concurrent: number;
  maxConcurrent: number;
  put(name: string, body: Uint8Array, timeoutMs: number): Promise<PutOutcome>;
}

function fakeTarget(): FakeTarget {
  const t: FakeTarget = {
    where: "fake://joboutputs",
    calls: [],
    outcomes: [{ ok: true, status: 201 }],
    takesMs: 0,
    concurrent: 0,
    maxConcurrent: 0,
    async put(name, body) {
      t.concurrent++;
      t.maxConcurrent = Math.max(t.maxConcurrent, t.concurrent);
      t.calls.push({ name, at: clock.now(), body: Buffer.from(body).toString() });
      if (t.takesMs > 0) await clock.sleep(t.takesMs);
      t.concurrent--;
      return t.outcomes.length > 1 ? t.outcomes.shift()! : t.outcomes[0]!;
    },
  };
  return t;
}

const options = (o: Partial<HeartbeatOptions> = {}): HeartbeatOptions => ({
  spoolDir: spool,
  joboutputs: null,
  file: "heartbeat",
  periodSeconds: 300,
  jitterFraction: 0.1,
  perRequestTimeoutMs: 10_000,
  now: clock.now,
  setTimer: clock.setTimer,
  clearTimer: clock.clearTimer,
  random: () => 0,
  readProc: PROC,
  // In memory: real file I/O would finish outside the fake clock's steps.
  writeLocal: async () => undefined,
  log: recordLog(),
  ...o,
});

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

describe("createHeartbeat", () => {
  it("writes and PUTs the first beat at start, to every name", async () => {
    const target = fakeTarget();
    const hb = createHeartbeat(options({ target, extraFiles: ["vm-heartbeat"], writeLocal: undefined }));
    const t0 = clock.now();
    await hb.start();
    expect(readFileSync(join(spool, "heartbeat"), "utf8")).toBe(CONTENT);
    // The uploads go on after start() resolved.
    await vi.waitFor(() => expect(hb.stats().lastUploadAt).toBe(t0));
    expect(target.calls).toEqual([
      { name: "heartbeat", at: t0, body: CONTENT },
      { name: "vm-heartbeat", at: t0, body: CONTENT },
    ]);
    expect(readdirSync(spool)).toEqual(["heartbeat"]); // no temp file left
    expect(hb.stats()).toMatchObject({ beats: 1, failedBeats: 0, lastUploadAt: t0, scheduled: true });
    await hb.stop();
  });

  it("beats every period, shortened by the jitter, never later than the period", async () => {
    const target = fakeTarget();
    const randoms = [1, 0, 0.5, 0.25];
    const hb = createHeartbeat(options({ target, random: () => randoms.shift() ?? 0 }));
    await hb.start();
    await clock.advance(1200_000);
    expect(gaps(target.calls.map((c) => c.at))).toEqual([270_000, 300_000, 285_000, 292_500]);
    await hb.stop();
    expect(clock.pending()).toBe(0);
  });

  it("never overlaps beats when a PUT takes longer than the period", async () => {
    const target = fakeTarget();
    target.takesMs = 700_000;
    const hb = createHeartbeat(options({ target, jitterFraction: 0 }));
    const start = hb.start();
    await clock.advance(700_000);
    await start;
    // A beat asked for while one is under way waits for it; two such requests share one beat.
    const extraA = hb.beatNow();
    const extraB = hb.beatNow();
    expect(extraA).toBe(extraB);
    await clock.advance(3_000_000);
    await Promise.all([extraA]);
    expect(target.maxConcurrent).toBe(1);
    const starts = target.calls.map((c) => c.at);
    // Each beat starts when the previous one ended: the PUT time, never two at once.
    expect(new Set(gaps(starts))).toEqual(new Set([700_000]));
    // stop() waits for the beat under way, which ends when its PUT does.
    const stopped = hb.stop();
    await clock.advance(700_000);
    await stopped;
    expect(hb.stats()).toMatchObject({ running: false, scheduled: false });
  });

  it("logs a failed PUT, tries again soon once, then at the period, and never stops", async () => {
    const target = fakeTarget();
    const fail: PutOutcome = { ok: false, reason: "HTTP 500", retryable: true };
    const ok: PutOutcome = { ok: true, status: 201 };
    target.outcomes = [fail, fail, fail, ok, fail, ok];
    const log = recordLog();
    const hb = createHeartbeat(options({ target, jitterFraction: 0, log }));
    await hb.start();
    await clock.advance(1300_000);
    // start fails → one quick retry (fails) → the period (fails) → the period (works) → the period
    // (fails: a new streak) → one quick retry (works) → the period.
    expect(gaps(target.calls.map((c) => c.at))).toEqual([30_000, 300_000, 300_000, 300_000, 30_000, 300_000]);
    expect(hb.stats()).toMatchObject({ beats: 7, failedBeats: 4, consecutiveFailures: 0, lastError: "heartbeat: HTTP 500" });
    expect(log.lines.filter((l) => l.startsWith("warn heartbeat upload failed"))).toEqual([
      "warn heartbeat upload failed (1 in a row), trying again later: heartbeat: HTTP 500",
      "warn heartbeat upload failed (2 in a row), trying again later: heartbeat: HTTP 500",
      "warn heartbeat upload failed (3 in a row), trying again later: heartbeat: HTTP 500",
      "warn heartbeat upload failed (1 in a row), trying again later: heartbeat: HTTP 500",
    ]);
    expect(log.lines).toContain("info heartbeat upload to fake://joboutputs works again after 3 failed beat(s)");
    expect(log.lines).toContain("info heartbeat upload to fake://joboutputs works again after 1 failed beat(s)");
    await hb.stop();
  });

  it("survives a PUT that throws and a local file that cannot be written", async () => {
    const log = recordLog();
    const hb = createHeartbeat(
      options({
        log,
        target: { where: "x", put: () => Promise.reject(new Error("boom")) },
        writeLocal: () => Promise.reject(Object.assign(new Error("full"), { code: "ENOSPC" })),
      }),
    );
    await expect(hb.start()).resolves.toBeUndefined();
    expect(hb.stats()).toMatchObject({ beats: 1, failedBeats: 1, lastError: "heartbeat: request failed: boom" });
    expect(log.lines[0]).toBe(`warn cannot write the heartbeat file ${join(spool, "heartbeat")} (ENOSPC)`);
    await hb.stop();
  });

  it("stops scheduling at stop(), and still gives a final beat on request", async () => {
    const target = fakeTarget();
    const hb = createHeartbeat(options({ target }));
    await hb.start();
    await hb.stop();
    expect(clock.pending()).toBe(0);
    await clock.advance(3600_000);
    expect(target.calls).toHaveLength(1);
    await hb.beatNow();
    expect(target.calls).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });

  it("writes locally only without $JOBOUTPUTS, and warns about an unusable one", async () => {
    const log = recordLog();
    const hb = createHeartbeat(options({ joboutputs: "ftp://example/x", log, writeLocal: undefined }));
    await hb.start();
    expect(readFileSync(join(spool, "heartbeat"), "utf8")).toBe(CONTENT);
    expect(log.lines[0]).toMatch(/^warn heartbeat written locally only: .*unsupported scheme ftp/);
    await hb.stop();
  });

  it("one beat, computed and written once, goes to every receiver (the site and the manager)", async () => {
    const site = join(spool, "site");
    const manager = join(spool, "manager");
    mkdirSync(site);
    mkdirSync(manager);
    let writes = 0;
    const hb = createHeartbeat(options({ joboutputs: site, alsoTo: [{ joboutputs: manager }], writeLocal: async () => void writes++ }));
    await hb.start();
    await hb.stop();
    expect(writes).toBe(1);
    expect(readFileSync(join(site, "heartbeat"), "utf8")).toBe(CONTENT);
    expect(readFileSync(join(manager, "heartbeat"), "utf8")).toBe(CONTENT);
    expect(hb.stats()).toMatchObject({ beats: 1, failedBeats: 0 });
  });

  it("copies to a local $JOBOUTPUTS directory, and to the extra names only when it is the spool", async () => {
    const out = join(spool, "out");
    mkdirSync(out);
    const hb = createHeartbeat(options({ joboutputs: out, extraFiles: ["vm-heartbeat"], writeLocal: undefined }));
    await hb.start();
    await hb.stop();
    expect(readdirSync(out).sort()).toEqual(["heartbeat", "vm-heartbeat"]);

    const same = createHeartbeat(options({ joboutputs: spool, extraFiles: ["vm-heartbeat"], writeLocal: undefined }));
    await same.start();
    await same.stop();
    expect(readdirSync(spool).sort()).toEqual(["heartbeat", "out", "vm-heartbeat"]);
  });

  it("stays flat in memory across 10,000 beats", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const target = fakeTarget();
    // Every fifth PUT fails, so the retry path is exercised too.
    let n = 0;
    target.put = async () => (++n % 5 === 0 ? { ok: false, reason: "HTTP 503", retryable: true } : { ok: true, status: 201 });
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const hb = createHeartbeat(options({ target, log, writeLocal: async () => undefined }));
    await hb.start();
    const cycle = async (beats: number) => {
      const before = hb.stats().beats;
      while (hb.stats().beats < before + beats) await clock.advance(300_000);
    };
    await cycle(1000); // warm up
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await cycle(10_000);
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    expect(hb.stats().beats).toBeGreaterThanOrEqual(11_000);
    expect(clock.pending()).toBe(1); // one timer, never a pile
    // A leak of even 100 bytes per beat would show as 1 MB.
    expect(heapAfter - heapBefore).toBeLessThan(1024 * 1024);
    await hb.stop();
  }, 60_000);
});

describe("heartbeats to real receivers", () => {
  let f: TlsFixtures;
  const servers: JobOutputsServer[] = [];
  beforeAll(async () => (f = await makeTlsFixtures()));
  afterAll(() => f.cleanup());
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await closeHttpAgents();
  });
  const receiver = async (o: Parameters<typeof startJobOutputsServer>[0]) => {
    const s = await startJobOutputsServer(o);
    servers.push(s);
    return s;
  };

  it("PUTs to Vac (201) with Content-Length", async () => {
    const vac = await receiver({ style: "vac" });
    const hb = createHeartbeat(options({ joboutputs: vac.url, extraFiles: ["vm-heartbeat"] }));
    await hb.start();
    await hb.beatNow();
    await hb.stop();
    expect(vac.requests.map((q) => [q.name, q.status, q.contentLength])).toEqual([
      ["heartbeat", 201, String(CONTENT.length)],
      ["vm-heartbeat", 201, String(CONTENT.length)],
      ["heartbeat", 201, String(CONTENT.length)],
      ["vm-heartbeat", 201, String(CONTENT.length)],
    ]);
    expect(vac.files.get("heartbeat")!.toString()).toBe(CONTENT);
  });

  it("PUTs to Vcycle (200) over HTTPS with the client certificate", async () => {
    const s = await receiver({ style: "vcycle", tls: { ca: f.caPem, cert: f.serverCertPem, key: f.serverKeyPem, dnPrefix: "/O=vacuum-agent tests" } });
    const hb = createHeartbeat(options({ joboutputs: s.url, tls: { caDir: f.caDir, cert: f.clientCertPem, key: f.clientKeyPem } }));
    await hb.start();
    await hb.stop();
    expect(s.requests.map((q) => [q.name, q.status])).toEqual([["heartbeat", 200]]);
    expect(hb.stats()).toMatchObject({ failedBeats: 0 });
  });

  it("ends a beat to a hanging receiver at the per-request timeout", async () => {
    const vac = await receiver({ style: "vac", failWith: "hang" });
    const hb = createHeartbeat(options({ joboutputs: vac.url, perRequestTimeoutMs: 300, writeLocal: undefined }));
    const t0 = Date.now();
    await hb.start();
    // start() does not wait for the hanging PUT: the stages go on; the local file is there.
    expect(Date.now() - t0).toBeLessThan(250);
    expect(existsSync(join(spool, "heartbeat"))).toBe(true);
    expect(hb.stats()).toMatchObject({ beats: 1, failedBeats: 0, running: true });
    await vi.waitFor(() => expect(hb.stats().failedBeats).toBe(1), { timeout: 2000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(hb.stats()).toMatchObject({ lastError: expect.stringMatching(/^heartbeat: timeout: no complete answer within 300 ms/) });
    await hb.stop();
  });
});

describe("createHeartbeat with a bad period", () => {
  it.each([[0], [-1], [Number.NaN]])("period %s falls back to 300 s instead of a tight loop", async (period) => {
    const clock = fakeClock();
    const calls: number[] = [];
    const hb = createHeartbeat({
      spoolDir: "/nonexistent",
      joboutputs: null,
      file: "heartbeat",
      periodSeconds: period,
      jitterFraction: 0,
      perRequestTimeoutMs: 1000,
      now: clock.now,
      setTimer: clock.setTimer,
      clearTimer: clock.clearTimer,
      readProc: PROC,
      writeLocal: async () => void calls.push(clock.now()),
      log: recordLog(),
    });
    await hb.start();
    await clock.advance(600_000);
    await hb.stop();
    expect(gaps(calls)).toEqual([300_000, 300_000]);
  });
});
