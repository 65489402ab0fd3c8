// The payload as a supervised child process: output to files, its own process group, stopped
// (SIGTERM to the group, SIGKILL after a grace) at the deadline, on a stop request (a signal to the
// agent, a preemption notice) or when it makes no progress. Children that ignore SIGTERM die with
// the group's SIGKILL; children left behind by a payload that exited are ended the same way.

import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { SHUTDOWN_MESSAGE_PATTERN } from "../contract/codes.ts";
import type { CommandOverrides } from "../exec/commands.ts";
import { ensureParentDirsSync } from "../exec/atomic-write.ts";
import { rootedPath } from "../exec/rooted.ts";
import { prepare, runCommand, type RunCommand } from "../exec/runner.ts";
import { performDrainStep, probeReady } from "./payload-hooks.ts";
import { rootedInvocation } from "../exec/rooted-invocation.ts";
import type { RunPayloadAction } from "../plan/actions.ts";
import { dirname } from "node:path";

export interface PayloadControl {
  /** Aborted when the agent must stop the payload; `reason` (a string) says why. */
  stop: AbortSignal;
  /** The current effective deadline in Unix seconds, or null; it may move earlier while running. */
  stopAt(): number | null;
  /** A shorter SIGTERM-to-SIGKILL grace once a stop was requested (the host waits 30 s at most). */
  graceSeconds?(): number | null;
}

export type PayloadEnd =
  | { kind: "exited"; exitCode: number }
  | { kind: "signaled"; signal: string }
  | { kind: "deadline"; at: number }
  | { kind: "stopped"; reason: string }
  | { kind: "stalled"; staleSeconds: number }
  | { kind: "failed-to-start"; error: string }
  /** The readiness probe never succeeded in time; the payload was stopped (code and text from the probe). */
  | { kind: "not-ready"; code: 500 | 600 | 700; text: string };

export interface PayloadResult {
  end: PayloadEnd;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  ranAs: string;
  note?: string;
  /** A valid `NNN text` line the payload wrote to its message file. */
  ownMessage?: string;
  /** What the action's outcome rule reads (the tails of its files, by machine path), for the payload type's own outcome function. */
  evidence?: Record<string, string>;
}

/** The end of a log is where a pilot's verdict is; a history of thousands of jobs needs no more either. */
const EVIDENCE_MAX_BYTES = 8 * 1024 * 1024;

function readTail(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const length = Math.min(size, EVIDENCE_MAX_BYTES);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf.toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readEvidence(a: RunPayloadAction, at: (p: string) => string): Record<string, string> | undefined {
  if (!a.outcome) return undefined;
  const paths = a.outcome.kind === "dirac-pilot-log" ? a.outcome.logPaths : [a.outcome.historyPath, ...a.outcome.logPaths];
  return Object.fromEntries(paths.map((p) => [p, readTail(at(p))]));
}

export interface PayloadOptions {
  root: string | null;
  privileged?: boolean;
  commands?: CommandOverrides;
  control?: PayloadControl;
  /** Milliseconds clock; Date.now by default. */
  now?: () => number;
  /** How often deadlines, stop requests and liveness are checked. */
  pollMs?: number;
  /** Runs the readiness probe and drain commands; runCommand by default. */
  runCommand?: RunCommand;
  log?: { info(msg: string): void; warn(msg: string): void };
}

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runPayload(a: RunPayloadAction, o: PayloadOptions): Promise<PayloadResult> {
  const now = o.now ?? Date.now;
  // Deadlines and liveness need no finer grain; a stop request wakes the loop at once.
  const pollMs = o.pollMs ?? 5000;
  const stopped = new Promise<void>((resolve) => {
    if (o.control?.stop.aborted) resolve();
    else o.control?.stop.addEventListener("abort", () => resolve(), { once: true });
  });
  const at = (p: string) => rootedPath(o.root, p);
  const started = now();
  const { argv, user, note: rootNote, env: plannedEnv } = rootedInvocation(o.root, a.argv, a.user, a.env ?? {});
  const env = { ...plannedEnv };
  if (a.messageFile) env.VACUUM_SHUTDOWN_MESSAGE_FILE = at(a.messageFile);

  let prepared;
  let out: number | undefined;
  let err: number | undefined;
  try {
    prepared = prepare(argv, { ...(user !== undefined ? { user } : {}), env, ...(o.privileged !== undefined ? { privileged: o.privileged } : {}), ...(o.commands ? { commands: o.commands } : {}) });
    for (const p of [a.stdoutPath, a.stderrPath]) ensureParentDirsSync(dirname(at(p)));
    out = openSync(at(a.stdoutPath), "a", 0o644);
    err = a.stderrPath === a.stdoutPath ? out : openSync(at(a.stderrPath), "a", 0o644);
  } catch (e) {
    return { end: { kind: "failed-to-start", error: (e as Error).message }, exitCode: null, signal: null, durationMs: now() - started, ranAs: "nobody" };
  }

  const child = spawn(prepared.argv[0]!, prepared.argv.slice(1), {
    cwd: a.cwd ? at(a.cwd) : undefined,
    env: prepared.env,
    detached: true, // its own process group: signals reach every child it starts
    stdio: ["ignore", out, err],
  });
  closeSync(out);
  if (err !== out) closeSync(err);

  const exited = new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
    child.once("error", (e) => resolve({ code: null, signal: null, error: e.message }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  let done: { code: number | null; signal: string | null; error?: string } | null = null;
  void exited.then((r) => (done = r));

  // Liveness: the newest growth of any watched file.
  const sizes = new Map<string, number>();
  let lastGrowth = now();
  const grew = (): boolean => {
    let any = false;
    for (const p of a.liveness?.paths ?? []) {
      let size = -1;
      try {
        size = statSync(at(p)).size;
      } catch {
        // not there yet
      }
      if (size !== (sizes.get(p) ?? -1)) any = true;
      sizes.set(p, size);
    }
    return any;
  };
  grew();

  const run = o.runCommand ?? runCommand;
  const hookDeps = { root: o.root, run, ...(o.commands ? { commands: o.commands } : {}), ...(o.privileged !== undefined ? { privileged: o.privileged } : {}), ...(o.log ? { log: o.log } : {}) };
  // Readiness: polled beside the supervision loop; a probe that never succeeds ends the payload.
  let notReady: { code: 500 | 600 | 700; text: string } | null = null;
  const probeStop = new AbortController();
  let wake: (() => void) | null = null;
  const woken = () => new Promise<void>((r) => (wake = r));
  const readiness = a.ready
    ? probeReady(a.ready, { ...hookDeps, signal: probeStop.signal, now }).then((ok) => {
        if (!ok && !probeStop.signal.aborted) {
          notReady = a.ready!.failure;
          wake?.();
        }
      })
    : Promise.resolve();
  // Drain steps: each once, `leadSeconds` before the (possibly moving) stopAt.
  const drained = new Set<number>();
  const drainDue = async (t: number, stopAt: number | null) => {
    if (stopAt === null) return;
    for (const [i, step] of (a.drain ?? []).entries()) {
      if (drained.has(i) || t / 1000 < stopAt - step.leadSeconds) continue;
      drained.add(i);
      await performDrainStep(step, hookDeps);
    }
  };

  let end: PayloadEnd | null = null;
  while (done === null) {
    await Promise.race([exited, sleep(pollMs), stopped, woken()]);
    if (done !== null) break;
    const t = now();
    const stopAt = o.control?.stopAt() ?? a.stopAt;
    if (a.liveness && grew()) lastGrowth = t;
    if (!o.control?.stop.aborted) await drainDue(t, stopAt);
    if (notReady !== null) end = { kind: "not-ready", ...(notReady as { code: 500 | 600 | 700; text: string }) };
    else if (o.control?.stop.aborted) end = { kind: "stopped", reason: String(o.control.stop.reason ?? "stop requested") };
    else if (stopAt !== null && t / 1000 >= stopAt) end = { kind: "deadline", at: stopAt };
    else if (a.liveness && t - lastGrowth >= a.liveness.staleSeconds * 1000) end = { kind: "stalled", staleSeconds: a.liveness.staleSeconds };
    if (end && child.pid !== undefined) {
      signalGroup(child.pid, "SIGTERM");
      const grace = Math.min(a.killGraceSeconds, o.control?.graceSeconds?.() ?? a.killGraceSeconds);
      const graceEnd = now() + grace * 1000;
      while (done === null && now() < graceEnd) await Promise.race([exited, sleep(Math.min(pollMs, 200))]);
      signalGroup(child.pid, "SIGKILL");
      await exited;
      break;
    }
  }
  probeStop.abort();
  await readiness;
  const r = (done ?? (await exited)) as { code: number | null; signal: string | null; error?: string };
  // Whatever the payload left running in its group goes with it.
  if (child.pid !== undefined && signalGroup(child.pid, "SIGTERM")) {
    await sleep(200);
    signalGroup(child.pid, "SIGKILL");
  }
  if (!end) {
    if (r.error) end = { kind: "failed-to-start", error: r.error };
    else if (r.code !== null) end = { kind: "exited", exitCode: r.code };
    else end = { kind: "signaled", signal: r.signal ?? "unknown" };
  }
  let ownMessage: string | undefined;
  if (a.messageFile) {
    try {
      const line = readFileSync(at(a.messageFile), "utf8").split("\n")[0]!.trim();
      if (SHUTDOWN_MESSAGE_PATTERN.test(line)) ownMessage = line.slice(0, 200);
    } catch {
      // none written
    }
  }
  const note = [prepared.note, rootNote].filter(Boolean).join("; ") || undefined;
  const evidence = readEvidence(a, at);
  return {
    ...(evidence ? { evidence } : {}),
    end,
    exitCode: r.code,
    signal: r.signal,
    durationMs: now() - started,
    ranAs: prepared.ranAs,
    ...(note ? { note } : {}),
    ...(ownMessage ? { ownMessage } : {}),
  };
}
