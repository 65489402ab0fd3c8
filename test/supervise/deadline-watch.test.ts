import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Deadline } from "../../src/context/deadline.ts";
import type { ShutdownTimes } from "../../src/context/mjf.ts";
import { createDeadlineWatch, describeKeyChange, fromNow, type DeadlineWatchOptions } from "../../src/supervise/deadline-watch.ts";
import { startMjfServer, type MjfServer, type MjfServerOptions } from "../support/mjf-server.ts";

const NOW = 1_790_000_000;
const H10 = NOW + 10 * 3600;
const iso = (unix: number) => new Date(unix * 1000).toISOString().replace(".000Z", "Z");

const servers: MjfServer[] = [];
const stops: (() => void)[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) s();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(opts: Partial<MjfServerOptions> = {}): Promise<MjfServer> {
  const s = await startMjfServer({
    style: "vac",
    machinefeatures: { total_cpu: "2", shutdowntime: String(H10) },
    jobfeatures: { shutdowntime_job: String(H10), jobstart_secs: String(NOW - 60), wall_limit_secs: "172800" },
    ...opts,
  });
  servers.push(s);
  return s;
}

/** Timers that fire only when the test says so: an interval of 60 s passes in no time. */
function manualTimers() {
  const scheduled: { fn: () => void; ms: number; cleared: boolean; fired: boolean }[] = [];
  return {
    scheduled,
    timers: {
      setTimeout: (fn: () => void, ms: number) => {
        const t = { fn, ms, cleared: false, fired: false };
        scheduled.push(t);
        return t;
      },
      clearTimeout: (h: unknown) => {
        (h as { cleared: boolean }).cleared = true;
      },
    },
    /** Runs the pending timer (one interval elapses) and waits for the next one to be scheduled. */
    async elapse(): Promise<void> {
      const t = scheduled.at(-1)!;
      expect(t.cleared || t.fired).toBe(false);
      t.fired = true;
      const n = scheduled.length;
      t.fn();
      await vi.waitFor(() => expect(scheduled.length).toBe(n + 1));
    },
  };
}

interface Line {
  level: string;
  msg: string;
}

function watch(extra: Partial<DeadlineWatchOptions> & Pick<DeadlineWatchOptions, "machinefeatures" | "jobfeatures">) {
  const lines: Line[] = [];
  const changes: { d: Deadline; reason: string }[] = [];
  const clock = manualTimers();
  const w = createDeadlineWatch({
    initial: {
      mf: { total_cpu: 2, shutdowntime: H10 },
      jf: { shutdowntime_job: H10, jobstart_secs: NOW - 60, wall_limit_secs: 172800 },
    },
    startedAt: NOW - 30,
    marginSeconds: 120,
    onChange: (d, reason) => changes.push({ d, reason }),
    now: () => NOW * 1000,
    timers: clock.timers,
    log: {
      info: (msg) => lines.push({ level: "info", msg }),
      warn: (msg) => lines.push({ level: "warn", msg }),
      error: (msg) => lines.push({ level: "error", msg }),
    },
    ...extra,
  });
  stops.push(() => w.stop());
  return { w, lines, changes, clock };
}

describe("createDeadlineWatch", () => {
  it("reference case 9: shutdowntime_job lowered from now+10 h to now+5 min is noticed within one interval", async () => {
    const s = await serve();
    const { w, changes, clock } = watch({ machinefeatures: s.machinefeaturesUrl, jobfeatures: s.jobfeaturesUrl });
    expect(w.current().deadline).toBe(H10);
    w.start();
    expect(clock.scheduled.map((t) => t.ms)).toEqual([60_000]);

    await clock.elapse();
    expect(changes).toEqual([]);

    s.set("jobfeatures", "shutdowntime_job", String(NOW + 300));
    await clock.elapse(); // the very next interval
    expect(changes).toHaveLength(1);
    expect(changes[0]!.reason).toBe(`shutdowntime_job lowered from ${iso(H10)} to ${iso(NOW + 300)} (in 5 min)`);
    expect(changes[0]!.d).toMatchObject({ deadline: NOW + 300, effective: NOW + 180, marginSeconds: 120 });
    expect(w.current()).toEqual(changes[0]!.d);
    expect(clock.scheduled.map((t) => t.ms)).toEqual([60_000, 60_000, 60_000]);

    await clock.elapse();
    expect(changes).toHaveLength(1); // unchanged since: no second call
  });

  it("with real timers, a lowered value is noticed within about one interval", async () => {
    const s = await serve({ style: "vcycle" });
    const changes: Deadline[] = [];
    const w = createDeadlineWatch({
      machinefeatures: s.machinefeaturesUrl,
      jobfeatures: s.jobfeaturesUrl,
      intervalMs: 100,
      initial: { mf: { shutdowntime: H10 }, jf: { shutdowntime_job: H10 } },
      startedAt: NOW,
      marginSeconds: 0,
      onChange: (d) => changes.push(d),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    stops.push(() => w.stop());
    w.start();
    const t0 = Date.now();
    s.set("machinefeatures", "shutdowntime", String(NOW + 300));
    await vi.waitFor(() => expect(changes.map((d) => d.deadline)).toEqual([NOW + 300]), { timeout: 2000, interval: 10 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  // The agent started at NOW-30 with max_wallclock_seconds 20 h + 30 s: that limit is NOW + 20 h.
  it.each([
    ["raised", String(NOW + 20 * 3600), `shutdowntime_job raised from ${iso(H10)} to ${iso(NOW + 20 * 3600)} (in 20 h)`],
    ["removed", null, `shutdowntime_job removed (was ${iso(H10)})`],
  ])("shutdowntime_job %s: the deadline follows and onChange says why", async (_name, value, reason) => {
    const s = await serve();
    s.set("machinefeatures", "shutdowntime", null);
    const { w, changes, clock } = watch({
      machinefeatures: s.machinefeaturesUrl,
      jobfeatures: s.jobfeaturesUrl,
      initial: { mf: {}, jf: { shutdowntime_job: H10 } },
      maxWallclockSeconds: 20 * 3600 + 30,
    });
    s.set("jobfeatures", "shutdowntime_job", value);
    w.start();
    await clock.elapse();
    expect(changes.map((c) => [c.d.deadline, c.reason])).toEqual([[NOW + 20 * 3600, reason]]);
    expect(changes[0]!.d.candidates.map((c) => c.source)).toEqual(
      value === null ? ["agent start + lifecycle.max_wallclock_seconds"] : ["jobfeatures shutdowntime_job", "agent start + lifecycle.max_wallclock_seconds"],
    );
  });

  it("a lowered shutdowntime that stays later than shutdowntime_job moves nothing (logged, no onChange)", async () => {
    const s = await serve();
    s.set("jobfeatures", "shutdowntime_job", String(NOW + 3600));
    const { w, changes, clock, lines } = watch({
      machinefeatures: s.machinefeaturesUrl,
      jobfeatures: s.jobfeaturesUrl,
      initial: { mf: { shutdowntime: H10 }, jf: { shutdowntime_job: NOW + 3600 } },
    });
    s.set("machinefeatures", "shutdowntime", String(NOW + 7200));
    w.start();
    await clock.elapse();
    expect(changes).toEqual([]);
    expect(w.current().deadline).toBe(NOW + 3600);
    expect(w.current().candidates).toContainEqual({ source: "machinefeatures shutdowntime", at: NOW + 7200 });
    expect(lines.at(-1)).toEqual({
      level: "info",
      msg: `deadline watch: shutdowntime lowered from ${iso(H10)} to ${iso(NOW + 7200)} (in 2 h); the deadline stays ${iso(NOW + 3600)}`,
    });
  });

  it("keeps the last good value while MJF cannot be read, warning once", async () => {
    const s = await serve();
    const { w, changes, clock, lines } = watch({ machinefeatures: s.machinefeaturesUrl, jobfeatures: s.jobfeaturesUrl, connectTimeoutMs: 200, timeoutMs: 300 });
    w.start();
    s.set("jobfeatures", "shutdowntime_job", String(NOW + 600));
    await clock.elapse();
    expect(changes.map((c) => c.d.deadline)).toEqual([NOW + 600]);
    await s.close();
    servers.splice(0);
    await clock.elapse();
    await clock.elapse();
    expect(changes).toHaveLength(1);
    expect(w.current().deadline).toBe(NOW + 600);
    const warnings = lines.filter((l) => l.level === "warn" && l.msg.includes("cannot be re-read"));
    expect(warnings.map((l) => l.msg.replace(/http:\S+/, "URL")).sort()).toEqual([
      "deadline watch: jobfeatures shutdowntime_job: cannot be re-read: URL connection refused; keeping the last known value (logged once)",
      "deadline watch: machinefeatures shutdowntime: cannot be re-read: URL connection refused; keeping the last known value (logged once)",
    ]);
  });

  it.each([
    ["an empty file (caught mid-write)", ""],
    ["garbage", "soon"],
  ])("keeps the last good value when the key holds %s", async (_name, text) => {
    const s = await serve();
    const { w, changes, clock, lines } = watch({ machinefeatures: s.machinefeaturesUrl, jobfeatures: s.jobfeaturesUrl, initial: { mf: {}, jf: { shutdowntime_job: H10 } } });
    s.set("machinefeatures", "shutdowntime", null);
    s.set("jobfeatures", "shutdowntime_job", text);
    w.start();
    await clock.elapse();
    expect(changes).toEqual([]);
    expect(w.current().deadline).toBe(H10);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
  });

  it("re-reads local MJF directories too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deadline-watch-"));
    dirs.push(dir);
    const jf = join(dir, "jobfeatures");
    const mf = join(dir, "machinefeatures");
    mkdirSync(jf);
    mkdirSync(mf);
    writeFileSync(join(jf, "shutdowntime_job"), `${H10}\n`);
    const { w, changes, clock } = watch({ machinefeatures: mf, jobfeatures: jf, initial: { mf: {}, jf: { shutdowntime_job: H10 } } });
    w.start();
    await clock.elapse();
    expect(changes).toEqual([]);
    writeFileSync(join(mf, "shutdowntime"), `${NOW + 900}\n`);
    await clock.elapse();
    expect(changes.map((c) => [c.d.deadline, c.reason])).toEqual([[NOW + 900, `shutdowntime appeared: ${iso(NOW + 900)} (in 15 min)`]]);
  });

  it("without any MJF location start() schedules nothing", () => {
    const { w, clock, lines } = watch({ machinefeatures: null, jobfeatures: null });
    w.start();
    expect(clock.scheduled).toEqual([]);
    expect(lines).toEqual([{ level: "info", msg: "deadline watch: no MJF location, nothing to re-read" }]);
    expect(w.current().deadline).toBe(H10);
  });

  it("stop() cancels the next read, and a read in flight changes nothing", async () => {
    let release: (r: ShutdownTimes) => void = () => undefined;
    const reads: number[] = [];
    const { w, changes, clock } = watch({
      machinefeatures: "/nonexistent/mf",
      jobfeatures: "/nonexistent/jf",
      read: () => {
        reads.push(reads.length);
        return new Promise((r) => (release = r));
      },
    });
    w.start();
    clock.scheduled[0]!.fn();
    expect(reads).toEqual([0]);
    w.stop();
    release({ shutdowntime_job: NOW + 60, unreadable: [], problems: [] });
    await new Promise((r) => setTimeout(r, 20));
    expect(changes).toEqual([]);
    expect(w.current().deadline).toBe(H10);
    expect(clock.scheduled).toHaveLength(1);
  });

  it("a change handler that throws is logged and the watch goes on", async () => {
    let n = 0;
    const { w, clock, lines } = watch({
      machinefeatures: "/x",
      jobfeatures: "/y",
      read: async () => ({ shutdowntime_job: NOW + 600 - n++ * 60, unreadable: [], problems: [] }),
      onChange: () => {
        throw new Error("boom");
      },
    });
    w.start();
    await clock.elapse();
    await clock.elapse();
    expect(lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual([
      "deadline watch: the change handler failed: boom",
      "deadline watch: the change handler failed: boom",
    ]);
    expect(w.current().deadline).toBe(NOW + 540);
  });
});

describe("describeKeyChange / fromNow", () => {
  it.each([
    ["shutdowntime_job", H10, H10, null],
    ["shutdowntime_job", H10, NOW + 300, `shutdowntime_job lowered from ${iso(H10)} to ${iso(NOW + 300)} (in 5 min)`],
    ["shutdowntime", NOW + 60, NOW + 90, `shutdowntime raised from ${iso(NOW + 60)} to ${iso(NOW + 90)} (in 90 s)`],
    ["shutdowntime", undefined, NOW - 7200, `shutdowntime appeared: ${iso(NOW - 7200)} (2 h ago)`],
    ["shutdowntime", NOW, undefined, `shutdowntime removed (was ${iso(NOW)})`],
  ] as const)("%s %s -> %s", (key, before, after, text) => {
    expect(describeKeyChange(key, before, after, NOW * 1000)).toBe(text);
  });

  it.each([
    [NOW + 5, "in 5 s"],
    [NOW + 119, "in 119 s"],
    [NOW + 300, "in 5 min"],
    [NOW + 36000, "in 10 h"],
    [NOW + 5400 * 3, "in 4.5 h"],
    [NOW - 600, "10 min ago"],
  ])("fromNow(%i)", (t, text) => expect(fromNow(t, NOW * 1000)).toBe(text));
});
