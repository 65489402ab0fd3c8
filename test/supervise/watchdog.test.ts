import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UnexpectedSubprocessError, type CommandResult, type RunCommand } from "../../src/exec/runner.ts";
import {
  DEFAULT_WATCHDOG_MESSAGE,
  disarmWatchdog,
  parseWatchdogArgs,
  runWatchdog,
  spawnWatchdog,
  watchdogArgv,
  WATCHDOG_WHY,
  type WatchdogDeps,
} from "../../src/supervise/watchdog.ts";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";

const T0 = 1_790_000_000;
const SPOOL = "/var/spool/joboutputs";
const MESSAGE = "700 Agent did not finish before its deadline";

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), "watchdog-"));
  dirs.push(d);
  return d;
}

const messagePath = (root: string) => join(root, "var/spool/joboutputs/shutdown_message");
const actionsPath = (root: string) => join(root, "var/lib/vacuum-agent/machine-actions.jsonl");
const disarmPath = (root: string) => join(root, "var/lib/vacuum-agent/watchdog.disarm");
const records = (root: string) =>
  existsSync(actionsPath(root))
    ? readFileSync(actionsPath(root), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

/** A clock that only moves when the watchdog sleeps; `onSleep` runs before each sleep returns. */
function fakeClock(start = T0 * 1000, onSleep?: (n: number) => void) {
  let t = start;
  const sleeps: number[] = [];
  const deps: WatchdogDeps = {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
      onSleep?.(sleeps.length);
    },
    onTerminate: () => () => undefined,
  };
  return { deps, sleeps, advance: (ms: number) => (t += ms) };
}

const args = (root: string | null, at: number, extra: Partial<{ spool: string; message: string }> = {}) =>
  watchdogArgv("/usr/bin/agent", { at, root, spool: extra.spool ?? SPOOL, message: extra.message ?? MESSAGE }).slice(2);

describe("watchdogArgv / parseWatchdogArgs", () => {
  it("builds the agent's own argv with the hidden subcommand, and parses it back", () => {
    const argv = watchdogArgv("/usr/libexec/vacuum-agent", { at: 1790000000.7, root: "/tmp/r", spool: SPOOL, message: MESSAGE });
    expect(argv).toEqual(["/usr/libexec/vacuum-agent", "watchdog", "--at", "1790000000", "--root", "/tmp/r", "--spool", SPOOL, "--message", MESSAGE]);
    expect(parseWatchdogArgs(argv.slice(1))).toEqual({ args: { at: 1790000000, root: "/tmp/r", spool: SPOOL, message: MESSAGE } });
    expect(parseWatchdogArgs(argv.slice(2))).toEqual(parseWatchdogArgs(argv.slice(1)));
  });

  it("leaves --root out on a real VM and accepts --flag=value", () => {
    expect(watchdogArgv("/a", { at: 5, root: null, spool: SPOOL, message: MESSAGE })).not.toContain("--root");
    expect(parseWatchdogArgs(["--at=12", `--message=${MESSAGE}`])).toEqual({ args: { at: 12, root: null, spool: SPOOL, message: MESSAGE } });
  });

  it.each([
    ["no --at", [], "--at <unix seconds> is required"],
    ["a bad --at", ["--at", "soon"], '--at expects unix seconds, found "soon"'],
    ["a missing value", ["--at"], "--at needs a value"],
    ["an unknown flag", ["--at", "1", "--force"], 'unexpected argument "--force"; expected --at, --root, --spool or --message'],
    ["a relative spool", ["--at", "1", "--spool", "spool"], '--spool expects an absolute machine path, found "spool"'],
  ])("refuses %s", (_name, argv, error) => {
    expect(parseWatchdogArgs(argv)).toEqual({ error });
  });

  it.each([["two\nlines"], ["no code"], ["700 " + "x".repeat(200)]])("replaces an invalid message %j by the default", (message) => {
    const r = parseWatchdogArgs(["--at", "1", "--message", message]);
    expect(r).toMatchObject({ args: { message: DEFAULT_WATCHDOG_MESSAGE } });
    expect("note" in r && r.note).toContain("is not one");
    expect(DEFAULT_WATCHDOG_MESSAGE).toMatch(/^700 [ -~]+$/);
  });
});

describe("runWatchdog under --root", () => {
  it("sleeps in chunks until the deadline, writes the message, records the power-off", async () => {
    const root = tempRoot();
    const lines: string[] = [];
    const c = fakeClock();
    const code = await runWatchdog(args(root, T0 + 25), { ...c.deps, chunkMs: 10_000, log: (l) => lines.push(l) });
    expect(code).toBe(0);
    expect(c.sleeps).toEqual([10_000, 10_000, 5_000]);
    expect(readFileSync(messagePath(root), "utf8")).toBe(MESSAGE);
    expect(statSync(messagePath(root)).mode & 0o777).toBe(0o644);
    expect(records(root)).toEqual([
      { time: new Date((T0 + 25) * 1000).toISOString(), stage: "watchdog", action: { kind: "power-off", why: WATCHDOG_WHY, machineWide: true } },
    ]);
    expect(lines.at(-1)).toBe(`power-off recorded in ${actionsPath(root)}, not performed (--root)`);
  });

  it("keeps a shutdown_message the agent already wrote", async () => {
    const root = tempRoot();
    mkdirSync(join(root, "var/spool/joboutputs"), { recursive: true });
    writeFileSync(messagePath(root), "200 Intended work completed ok");
    const code = await runWatchdog(args(root, T0 + 1), { ...fakeClock().deps, log: () => undefined });
    expect(code).toBe(0);
    expect(readFileSync(messagePath(root), "utf8")).toBe("200 Intended work completed ok");
    expect(records(root)).toHaveLength(1);
  });

  it("writes under another --spool", async () => {
    const root = tempRoot();
    await runWatchdog(args(root, T0, { spool: "/tmp/joboutputs" }), { ...fakeClock().deps, log: () => undefined });
    expect(readFileSync(join(root, "tmp/joboutputs/shutdown_message"), "utf8")).toBe(MESSAGE);
  });

  it("after a suspend that jumps past the deadline, fires at the next check without sleeping the rest", async () => {
    const root = tempRoot();
    const c = fakeClock(T0 * 1000, (n) => {
      if (n === 1) c.advance(3600_000); // the VM was suspended for an hour during the first chunk
    });
    await runWatchdog(args(root, T0 + 600), { ...c.deps, log: () => undefined });
    expect(c.sleeps).toEqual([10_000]);
    expect(records(root)).toHaveLength(1);
  });

  it.each([
    ["present from the start", 0],
    ["appearing while it waits", 2],
  ])("a disarm file %s makes it exit doing nothing", async (_name, when) => {
    const root = tempRoot();
    const lines: string[] = [];
    const c = fakeClock(T0 * 1000, (n) => {
      if (n === when) void disarmWatchdog(root);
    });
    if (when === 0) await disarmWatchdog(root);
    const code = await runWatchdog(args(root, T0 + 60), { ...c.deps, log: (l) => lines.push(l) });
    expect(code).toBe(0);
    expect(c.sleeps).toHaveLength(when);
    expect(existsSync(messagePath(root))).toBe(false);
    expect(records(root)).toEqual([]);
    expect(lines.at(-1)).toBe(`${disarmPath(root)} exists: disarmed, exiting without powering off`);
  });

  it("a SIGTERM while waiting ends it at once, doing nothing", async () => {
    const root = tempRoot();
    let term: () => void = () => undefined;
    let unsubscribed = false;
    const lines: string[] = [];
    const done = runWatchdog(args(root, T0 + 3600), {
      now: () => T0 * 1000,
      onTerminate: (onTerm) => {
        term = onTerm;
        return () => (unsubscribed = true);
      },
      log: (l) => lines.push(l),
    });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    term();
    expect(await done).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1000); // the real 10 s sleep was cut short
    expect(unsubscribed).toBe(true);
    expect(lines.at(-1)).toBe("SIGTERM: disarmed, exiting without powering off");
    expect(existsSync(messagePath(root))).toBe(false);
    expect(records(root)).toEqual([]);
  });

  it("with the real clock: at = now + 1 s fires about a second later", async () => {
    const root = tempRoot();
    const at = Math.floor(Date.now() / 1000) + 1;
    const code = await runWatchdog(args(root, at), { onTerminate: () => () => undefined, log: () => undefined });
    expect(code).toBe(0);
    expect(Date.now()).toBeGreaterThanOrEqual(at * 1000);
    expect(readFileSync(messagePath(root), "utf8")).toBe(MESSAGE);
    expect(records(root)).toHaveLength(1);
  });

  it("bad arguments: exit 2, nothing done", async () => {
    const lines: string[] = [];
    expect(await runWatchdog(["--root", "/tmp/x"], { log: (l) => lines.push(l) })).toBe(2);
    expect(lines).toEqual(["bad arguments: --at <unix seconds> is required"]);
  });
});

describe("runWatchdog on a real VM (commands injected)", () => {
  const ok = (argv: readonly string[]): CommandResult => ({ argv: [...argv], exitCode: 0, signal: null, stdout: "", stderr: "", durationMs: 1, ranAs: "root" });

  it("systemctl poweroff --force, then poweroff -f, then sysrq s and o; a late SIGTERM does not stop it", async () => {
    const spool = tempRoot();
    const calls: string[] = [];
    let term: () => void = () => undefined;
    const run: RunCommand = async (argv) => {
      calls.push(argv.join(" "));
      term(); // systemd sends SIGTERM to everything on the way down
      if (argv[0] === "systemctl") throw new Error("systemctl: Failed to connect to bus");
      return ok(argv);
    };
    const c = fakeClock();
    const code = await runWatchdog(args(null, T0 + 5, { spool }), {
      ...c.deps,
      onTerminate: (onTerm) => {
        term = onTerm;
        return () => undefined;
      },
      run,
      settleMs: 60_000,
      writeSysrq: (key) => calls.push(`sysrq ${key}`),
      log: () => undefined,
    });
    expect(calls).toEqual(["systemctl poweroff --force", "poweroff -f", "sysrq s", "sysrq o"]);
    expect(c.sleeps).toEqual([5_000, 60_000, 10_000]); // wait, settle after poweroff -f, settle after sysrq
    expect(code).toBe(1); // still alive after everything
    expect(readFileSync(join(spool, "shutdown_message"), "utf8")).toBe(MESSAGE);
  });

  it("a SIGTERM after the power-off was accepted ends the wait: systemd-shutdown must not wait for it", async () => {
    const spool = tempRoot();
    const calls: string[] = [];
    let term: () => void = () => undefined;
    const c = fakeClock();
    const code = await runWatchdog(args(null, T0 + 5, { spool }), {
      ...c.deps,
      sleep: async (ms, signal) => {
        c.sleeps.push(ms);
        c.advance(ms);
        if (ms === 60_000) {
          term(); // systemd stopping every process on the way down
          expect(signal?.aborted).toBe(true);
        }
      },
      onTerminate: (onTerm) => {
        term = onTerm;
        return () => undefined;
      },
      run: async (argv) => (calls.push(argv.join(" ")), ok(argv)),
      settleMs: 60_000,
      writeSysrq: (key) => calls.push(`sysrq ${key}`),
      log: () => undefined,
    });
    expect(code).toBe(0);
    expect(calls).toEqual(["systemctl poweroff --force"]);
  });

  it("exit 1 when even sysrq cannot be written", async () => {
    const spool = tempRoot();
    const lines: string[] = [];
    const code = await runWatchdog(args(null, T0, { spool }), {
      ...fakeClock().deps,
      run: async () => {
        throw new Error("not found");
      },
      writeSysrq: () => {
        throw new Error("EACCES");
      },
      log: (l) => lines.push(l),
    });
    expect(code).toBe(1);
    expect(lines.at(-1)).toBe("sysrq o failed: EACCES: the VM could not be powered off");
  });

  it("runs its commands through the runner, so the unit-test policy catches them", async () => {
    const spool = tempRoot();
    const lines: string[] = [];
    // The stub directory is a second safety net: even without the policy nothing real could run.
    await runWatchdog(args(null, T0, { spool }), {
      ...fakeClock().deps,
      commands: { stubDir: "/nonexistent" },
      settleMs: 0,
      writeSysrq: () => undefined,
      log: (l) => lines.push(l),
    });
    expect(lines.filter((l) => l.includes("unexpected subprocess"))).toHaveLength(2);
  });
});

describe("spawnWatchdog", () => {
  it("prefers systemd-run on a real VM, with its own transient unit", async () => {
    const calls: string[][] = [];
    const run: RunCommand = async (argv) => {
      calls.push([...argv]);
      return { argv: [...argv], exitCode: 0, signal: null, stdout: "", stderr: "", durationMs: 1, ranAs: "root" };
    };
    const argv = watchdogArgv("/usr/bin/agent", { at: T0, root: null, spool: SPOOL, message: MESSAGE });
    const root = tempRoot(); // only for the stale disarm file: pretend this is "/"
    const s = await spawnWatchdog(argv, { root, systemdRun: "/usr/bin/systemd-run", run, spawn: async () => expect.fail("no detached spawn") });
    expect(s).toEqual({ how: "systemd-run", unit: `vacuum-agent-watchdog-${process.pid}` });
    expect(calls).toEqual([["/usr/bin/systemd-run", `--unit=vacuum-agent-watchdog-${process.pid}`, "--collect", "--quiet", "--", ...argv]]);
  });

  it.each([
    ["systemd-run fails", MESSAGE, true],
    ['an argument holds "$" (systemd would expand it)', "700 cost $HOME", false],
  ])("falls back to a detached spawn when %s", async (_name, message, ranSystemd) => {
    const root = tempRoot();
    let systemdRan = false;
    const spawned: { argv: string[]; outputPath?: string }[] = [];
    const s = await spawnWatchdog(watchdogArgv("/usr/bin/agent", { at: T0, root: null, spool: SPOOL, message }), {
      root,
      systemdRun: "/usr/bin/systemd-run",
      run: async () => {
        systemdRan = true;
        throw new Error("Failed to start transient service unit");
      },
      spawn: async (argv, o) => {
        spawned.push({ argv: [...argv], ...(o.outputPath ? { outputPath: o.outputPath } : {}) });
        return { pid: 4242, ranAs: "root" };
      },
    });
    expect(systemdRan).toBe(ranSystemd);
    expect(s).toEqual({ how: "detached", pid: 4242 });
    expect(spawned[0]!.outputPath).toBe(join(root, "var/log/vacuum-agent/watchdog.log"));
    expect(existsSync(join(root, "var/log/vacuum-agent"))).toBe(true);
  });

  it("is caught by the subprocess policy of unit tests", async () => {
    const root = tempRoot();
    await expect(spawnWatchdog(["/usr/bin/agent", "watchdog", "--at", "1"], { root })).rejects.toThrow(UnexpectedSubprocessError);
  });
});

// The real thing, with the TypeScript source run by bun instead of the compiled binary: a shell
// wrapper named `agent` stands in for the binary (`agent watchdog …`, `agent fake-agent …`).
describe("a detached watchdog process", () => {
  const bun = resolve("node_modules/.bin/bun");
  const src = resolve("src/supervise/watchdog.ts");

  function fakeAgent(): { dir: string; exe: string } {
    const dir = tempRoot();
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `import { runWatchdog, spawnWatchdog, watchdogArgv } from ${JSON.stringify(src)};
const [sub, ...rest] = process.argv.slice(2);
if (sub === "watchdog") process.exit(await runWatchdog(rest));
if (sub === "fake-agent") {
  // Like the agent: start the watchdog, then hang until killed.
  const [exe, root, at] = rest;
  const s = await spawnWatchdog(watchdogArgv(exe, { at: Number(at), root, spool: "/var/spool/joboutputs", message: "700 fake agent hung" }), { root });
  process.stdout.write(JSON.stringify(s) + "\\n");
  setInterval(() => undefined, 1000);
}
`,
    );
    const exe = join(dir, "agent");
    writeFileSync(exe, `#!/bin/sh\nexec ${JSON.stringify(bun)} ${JSON.stringify(entry)} "$@"\n`);
    chmodSync(exe, 0o755);
    return { dir, exe };
  }

  /** The session id of a process (field 6 of /proc/<pid>/stat). */
  const sessionOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[3]);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").startsWith("Z");
    } catch {
      return false;
    }
  };

  it.skipIf(!existsSync(resolve("node_modules/.bin/bun")))("survives a SIGKILL to the agent's whole process group and records the power-off", async () => {
    const { exe } = fakeAgent();
    const root = tempRoot();
    const at = Math.floor(Date.now() / 1000) + 3;
    const agent = spawn(exe, ["fake-agent", exe, root, String(at)], { detached: true, stdio: ["ignore", "pipe", "inherit"] });
    pids.push(agent.pid!);
    let out = "";
    agent.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    await vi.waitFor(() => expect(out).toContain("\n"), { timeout: 10_000 });
    const started = JSON.parse(out) as { how: string; pid: number };
    pids.push(started.pid);
    expect(started.how).toBe("detached");
    expect(sessionOf(started.pid)).toBe(started.pid); // its own session, not the agent's
    expect(sessionOf(started.pid)).not.toBe(sessionOf(agent.pid!));

    process.kill(-agent.pid!, "SIGKILL");
    await vi.waitFor(() => expect(alive(agent.pid!)).toBe(false));
    expect(alive(started.pid)).toBe(true);

    await vi.waitFor(() => expect(records(root)).toHaveLength(1), { timeout: 10_000, interval: 100 });
    expect(Date.now()).toBeGreaterThanOrEqual(at * 1000);
    expect(records(root)[0]).toMatchObject({ stage: "watchdog", action: { kind: "power-off", why: WATCHDOG_WHY } });
    expect(readFileSync(messagePath(root), "utf8")).toBe("700 fake agent hung");
    const log = readFileSync(join(root, "var/log/vacuum-agent/watchdog.log"), "utf8");
    expect(log).toContain("armed: powering off at");
    expect(log).toContain("power-off recorded in");
  });

  it.skipIf(!existsSync(resolve("node_modules/.bin/bun")))("disarmWatchdog stops a waiting watchdog with SIGTERM; nothing is recorded", async () => {
    allowSubprocess(["agent"]);
    const { exe } = fakeAgent();
    const root = tempRoot();
    const at = Math.floor(Date.now() / 1000) + 3600;
    const s = await spawnWatchdog(watchdogArgv(exe, { at, root, spool: SPOOL, message: MESSAGE }), { root });
    pids.push(s.pid!);
    const logPath = join(root, "var/log/vacuum-agent/watchdog.log");
    await vi.waitFor(() => expect(existsSync(logPath) && readFileSync(logPath, "utf8")).toContain("armed"), { timeout: 10_000 });
    await disarmWatchdog(root, s);
    await vi.waitFor(() => expect(alive(s.pid!)).toBe(false), { timeout: 5000 });
    expect(readFileSync(logPath, "utf8")).toContain("SIGTERM: disarmed, exiting without powering off");
    expect(records(root)).toEqual([]);
    expect(existsSync(disarmPath(root))).toBe(true);
  });

  it.skipIf(!existsSync(resolve("node_modules/.bin/bun")))("honours the disarm file at its deadline, and a new spawn clears a stale one", async () => {
    allowSubprocess(["agent"]);
    const { exe } = fakeAgent();
    const root = tempRoot();
    await disarmWatchdog(root); // stale, from an earlier run
    const at = Math.floor(Date.now() / 1000) + 2;
    const s = await spawnWatchdog(watchdogArgv(exe, { at, root, spool: SPOOL, message: MESSAGE }), { root });
    pids.push(s.pid!);
    expect(existsSync(disarmPath(root))).toBe(false);
    const logPath = join(root, "var/log/vacuum-agent/watchdog.log");
    await vi.waitFor(() => expect(existsSync(logPath) && readFileSync(logPath, "utf8")).toContain("armed"), { timeout: 10_000 });
    await disarmWatchdog(root); // no pid: only the file, seen when the sleep ends at the deadline
    await vi.waitFor(() => expect(alive(s.pid!)).toBe(false), { timeout: 10_000, interval: 50 });
    expect(Date.now()).toBeGreaterThanOrEqual(at * 1000);
    expect(readFileSync(join(root, "var/log/vacuum-agent/watchdog.log"), "utf8")).toContain("exists: disarmed");
    expect(records(root)).toEqual([]);
  });
});
