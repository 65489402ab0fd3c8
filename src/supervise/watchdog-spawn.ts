// Starting the watchdog so that nothing that ends the agent ends it too. On a real VM booted with
// systemd it becomes a transient unit (systemd-run): its own cgroup, so neither a SIGKILL to the
// agent's process group nor systemd stopping cloud-final.service (KillMode=control-group) reaches
// it. Otherwise, and under --root, it is spawned in its own session (setsid) with its output in
// watchdog.log and unref'd. Both go through the runner, so unit tests that forbid subprocesses
// catch it.

import { existsSync, rmSync } from "node:fs";
import { posix } from "node:path";
import { atomicWriteSync, ensureParentDirsSync } from "../exec/atomic-write.ts";
import type { CommandOverrides } from "../exec/commands.ts";
import { rootedPath } from "../exec/rooted.ts";
import { runCommand, spawnDetached, type RunCommand, type SpawnDetached } from "../exec/runner.ts";
import type { LogSink } from "../status/log.ts";
import { WATCHDOG_PATHS } from "./watchdog-args.ts";

export interface SpawnedWatchdog {
  how: "systemd-run" | "detached";
  /** The process id of a detached watchdog. */
  pid?: number;
  /** The transient unit of a watchdog started by systemd-run. */
  unit?: string;
}

export interface SpawnWatchdogOptions {
  root: string | null;
  log?: LogSink;
  /** systemd-run to use; by default found when the machine runs systemd and root is null. null: never. */
  systemdRun?: string | null;
  run?: RunCommand;
  spawn?: SpawnDetached;
  commands?: CommandOverrides;
}

const SYSTEMD_RUN_TIMEOUT_MS = 30_000;
const SYSTEMD_RUN_PATHS = ["/usr/bin/systemd-run", "/bin/systemd-run"];

/** systemd-run, when PID 1 is systemd (sd_booted(): /run/systemd/system exists) and it is installed. */
export function findSystemdRun(): string | null {
  if (!existsSync("/run/systemd/system")) return null;
  return SYSTEMD_RUN_PATHS.find((p) => existsSync(p)) ?? null;
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Starts the watchdog `argv` (from watchdogArgv) fully detached from the agent. */
export async function spawnWatchdog(argv: readonly string[], o: SpawnWatchdogOptions): Promise<SpawnedWatchdog> {
  // A disarm file left by an earlier run would make the new watchdog exit at once.
  rmSync(rootedPath(o.root, WATCHDOG_PATHS.disarm), { force: true });

  const systemdRun = o.systemdRun !== undefined ? o.systemdRun : o.root === null ? findSystemdRun() : null;
  if (systemdRun !== null) {
    const unit = `vacuum-agent-watchdog-${process.pid}`;
    // systemd expands $VAR in a unit's command line (before v254 always): keep the message intact.
    if (argv.some((arg) => arg.includes("$"))) {
      o.log?.warn(`watchdog: an argument contains "$", which systemd-run would expand; starting it detached instead`);
    } else {
      try {
        await (o.run ?? runCommand)([systemdRun, `--unit=${unit}`, "--collect", "--quiet", "--", ...argv], {
          timeoutMs: SYSTEMD_RUN_TIMEOUT_MS,
          ...(o.commands ? { commands: o.commands } : {}),
        });
        o.log?.info(`watchdog: started as the transient unit ${unit}`, { unit });
        return { how: "systemd-run", unit };
      } catch (err) {
        o.log?.warn(`watchdog: systemd-run failed (${errText(err)}); starting it detached instead`);
      }
    }
  }

  const logPath = rootedPath(o.root, WATCHDOG_PATHS.log);
  let outputPath: string | undefined = logPath;
  try {
    ensureParentDirsSync(posix.dirname(logPath));
  } catch (err) {
    o.log?.warn(`watchdog: cannot create the directory of ${logPath} (${errText(err)}); its output is discarded`);
    outputPath = undefined;
  }
  const d = await (o.spawn ?? spawnDetached)(argv, { ...(outputPath ? { outputPath } : {}), ...(o.commands ? { commands: o.commands } : {}) });
  o.log?.info(`watchdog: started detached, pid ${d.pid}${outputPath ? `, output in ${outputPath}` : ""}`, { pid: d.pid });
  return { how: "detached", pid: d.pid };
}

/**
 * Stops a waiting watchdog at a normal end: the disarm file (which any watchdog of this root
 * honours within one chunk), then SIGTERM to its process or `systemctl stop` of its unit. Never throws.
 */
export async function disarmWatchdog(
  root: string | null,
  started?: SpawnedWatchdog,
  o: { log?: LogSink; run?: RunCommand; commands?: CommandOverrides } = {},
): Promise<void> {
  const path = rootedPath(root, WATCHDOG_PATHS.disarm);
  try {
    ensureParentDirsSync(posix.dirname(path));
    atomicWriteSync(path, `disarmed by pid ${process.pid} at ${new Date().toISOString()}\n`, { mode: 0o644 });
  } catch (err) {
    o.log?.warn(`watchdog: cannot write ${path}: ${errText(err)}`);
  }
  if (started?.pid !== undefined) {
    try {
      process.kill(started.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  if (started?.unit !== undefined) {
    try {
      await (o.run ?? runCommand)(["systemctl", "stop", "--no-block", started.unit], { timeoutMs: 30_000, ...(o.commands ? { commands: o.commands } : {}) });
    } catch (err) {
      o.log?.warn(`watchdog: cannot stop ${started.unit}: ${errText(err)}`);
    }
  }
  o.log?.info("watchdog: disarmed");
}
