// The watchdog: a separate process (the agent binary again, `agent watchdog …`) that powers the VM
// off at the hard deadline even when the agent was SIGKILLed, hung, or lost its cgroup. It sleeps
// in short chunks against the wall clock (a suspended VM's timers stop, the clock does not), then
// leaves a `shutdown_message` if the agent wrote none and powers off: `systemctl poweroff --force`,
// `poweroff -f`, and finally sysrq `o`. Under --root the power-off is only recorded, like every
// machine-wide action. A disarm file or a SIGTERM before the deadline makes it exit doing nothing.

import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { posix } from "node:path";
import { atomicWrite, ensureParentDirsSync } from "../exec/atomic-write.ts";
import type { CommandOverrides } from "../exec/commands.ts";
import { rootedPath } from "../exec/rooted.ts";
import { runCommand, type RunCommand } from "../exec/runner.ts";
import type { PowerOffAction } from "../plan/actions.ts";
import { actionToJson } from "../plan/describe.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import { parseWatchdogArgs, WATCHDOG_PATHS, type WatchdogArgs } from "./watchdog-args.ts";

export { DEFAULT_WATCHDOG_MESSAGE, parseWatchdogArgs, watchdogArgv, WATCHDOG_PATHS, WATCHDOG_SUBCOMMAND, type WatchdogArgs } from "./watchdog-args.ts";
export { disarmWatchdog, spawnWatchdog, type SpawnedWatchdog, type SpawnWatchdogOptions } from "./watchdog-spawn.ts";

export const WATCHDOG_WHY = "watchdog: the agent did not finish before its deadline";

export interface WatchdogDeps {
  /** Wall clock in milliseconds; Date.now when absent. */
  now?: () => number;
  /** Resolves after `ms` or as soon as `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Calls `onTerm` on SIGTERM; returns the unsubscribe. Default: process SIGTERM. */
  onTerminate?: (onTerm: () => void) => () => void;
  run?: RunCommand;
  commands?: CommandOverrides;
  /** Writes one key to /proc/sysrq-trigger. */
  writeSysrq?: (key: string) => void;
  /** One line of output; default stderr (watchdog.log or the journal). */
  log?: (line: string) => void;
  /** Longest single sleep; 10 s when absent, so the clock and the disarm file are checked often. */
  chunkMs?: number;
  /** How long a power-off command that returned gets to take the machine down before the next one. */
  settleMs?: number;
}

const POWER_OFF_TIMEOUT_MS = 30_000;

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    // Not unref'd: this timer is what keeps the watchdog alive until its deadline.
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

const processSigterm = (onTerm: () => void): (() => void) => {
  process.on("SIGTERM", onTerm);
  return () => process.off("SIGTERM", onTerm);
};

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Runs the watchdog with the arguments after `watchdog` (see parseWatchdogArgs) and resolves with
 * the process exit code: 0 disarmed or powered off (recorded under --root), 1 no way to power off
 * worked, 2 bad arguments.
 */
export async function runWatchdog(argv: readonly string[], deps: WatchdogDeps = {}): Promise<number> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} watchdog[${process.pid}]: ${line}\n`));
  const parsed = parseWatchdogArgs(argv);
  if ("error" in parsed) {
    log(`bad arguments: ${parsed.error}`);
    return 2;
  }
  if (parsed.note) log(parsed.note);
  const a = parsed.args;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const chunkMs = deps.chunkMs ?? 10_000;
  const disarmPath = a.root === null ? WATCHDOG_PATHS.disarm : posix.join(a.root, WATCHDOG_PATHS.disarm);
  // A path that cannot even be resolved (a symlink loop under --root) counts as "not disarmed":
  // the watchdog must fail towards powering off.
  const disarmed = (): boolean => {
    try {
      return existsSync(rootedPath(a.root, WATCHDOG_PATHS.disarm));
    } catch {
      return false;
    }
  };

  const terminated = new AbortController();
  // Aborted by a SIGTERM that comes after a power-off request was accepted: the machine is going
  // down, and systemd-shutdown waits for every process that ignores it (up to 90 s, past the deadline).
  const goingDown = new AbortController();
  let firing = false;
  let accepted = false;
  // Once firing, a SIGTERM (systemd stopping everything on the way down) must not stop the power-off.
  const unsubscribe = (deps.onTerminate ?? processSigterm)(() => {
    if (!firing) terminated.abort();
    else if (accepted) goingDown.abort();
  });
  try {
    const deadlineMs = a.at * 1000;
    log(`armed: powering off at ${iso(deadlineMs)}${a.root !== null ? ` (recorded under ${a.root})` : ""} unless ${disarmPath} appears or SIGTERM arrives`);
    for (;;) {
      if (terminated.signal.aborted) {
        log("SIGTERM: disarmed, exiting without powering off");
        return 0;
      }
      if (disarmed()) {
        log(`${disarmPath} exists: disarmed, exiting without powering off`);
        return 0;
      }
      const remaining = deadlineMs - now();
      if (remaining <= 0) break;
      // Short chunks against the wall clock: after a suspend the remaining time is recomputed.
      await sleep(Math.min(remaining, chunkMs), terminated.signal);
    }
    firing = true;
    log(`deadline ${iso(deadlineMs)} reached and the agent did not disarm the watchdog`);
    await leaveMessage(a, log);
    return await powerOff(a, deps, log, { accepted: () => (accepted = true), goingDown: goingDown.signal });
  } finally {
    unsubscribe();
  }
}

/** Writes the shutdown_message unless the agent already left one; failures only cost the message. */
async function leaveMessage(a: WatchdogArgs, log: (line: string) => void): Promise<void> {
  try {
    const path = rootedPath(a.root, posix.join(a.spool, "shutdown_message"));
    if (existsSync(path)) {
      log(`${path} already exists: left as it is`);
      return;
    }
    ensureParentDirsSync(posix.dirname(path));
    await atomicWrite(path, a.message, { mode: 0o644 });
    log(`wrote ${path}: ${a.message}`);
  } catch (err) {
    log(`cannot write the shutdown_message: ${errText(err)}; powering off anyway`);
  }
}

async function powerOff(a: WatchdogArgs, deps: WatchdogDeps, log: (line: string) => void, down: { accepted(): void; goingDown: AbortSignal }): Promise<number> {
  const action: PowerOffAction = { kind: "power-off", why: WATCHDOG_WHY };
  if (a.root !== null) {
    try {
      const path = rootedPath(a.root, AGENT_PATHS.machineActions);
      ensureParentDirsSync(posix.dirname(path));
      // The executor's record format, so `agent status` and the tests read both alike.
      appendFileSync(path, JSON.stringify({ time: new Date(deps.now?.() ?? Date.now()).toISOString(), stage: "watchdog", action: actionToJson(action) }) + "\n", {
        mode: 0o644,
      });
      log(`power-off recorded in ${path}, not performed (--root)`);
      return 0;
    } catch (err) {
      log(`cannot record the power-off: ${errText(err)}`);
      return 1;
    }
  }
  const run = deps.run ?? runCommand;
  const sleep = deps.sleep ?? defaultSleep;
  const settleMs = deps.settleMs ?? 60_000;
  for (const argv of [["systemctl", "poweroff", "--force"], ["poweroff", "-f"]]) {
    try {
      await run(argv, { timeoutMs: POWER_OFF_TIMEOUT_MS, ...(deps.commands ? { commands: deps.commands } : {}) });
      log(`${argv.join(" ")}: accepted; waiting ${Math.round(settleMs / 1000)} s for the machine to go down`);
      down.accepted();
      await sleep(settleMs, down.goingDown);
      if (down.goingDown.aborted) {
        log("SIGTERM after the power-off request: the machine is going down; exiting so it need not wait for us");
        return 0;
      }
      log(`still running ${Math.round(settleMs / 1000)} s after ${argv.join(" ")}`);
    } catch (err) {
      log(`${argv.join(" ")} failed: ${errText(err)}`);
    }
  }
  // Last resort, with no init system left to ask: sync, then power off through magic SysRq.
  const sysrq = deps.writeSysrq ?? ((key: string) => writeFileSync("/proc/sysrq-trigger", key));
  try {
    sysrq("s");
  } catch (err) {
    log(`sysrq s (sync) failed: ${errText(err)}`);
  }
  try {
    sysrq("o");
    log("sysrq o written");
  } catch (err) {
    log(`sysrq o failed: ${errText(err)}: the VM could not be powered off`);
    return 1;
  }
  // Power-off through sysrq is immediate; still being here means it did not happen.
  await sleep(Math.min(settleMs, 10_000));
  return 1;
}
