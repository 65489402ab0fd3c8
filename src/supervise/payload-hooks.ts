// What the supervisor does to a running payload besides watching it: the readiness probe (is the
// HTCondor startd in the collector yet?) and the drain steps before its stop (DIRAC's drain file,
// `condor_off -peaceful`). Both are planned data on the run-payload action; this module performs them.

import { dirname } from "node:path";
import type { CommandOverrides } from "../exec/commands.ts";
import { atomicWrite, ensureParentDirsSync } from "../exec/atomic-write.ts";
import { rootedPath } from "../exec/rooted.ts";
import { rootedInvocation } from "../exec/rooted-invocation.ts";
import type { RunCommand } from "../exec/runner.ts";
import type { DrainStep, ReadinessProbe } from "../plan/actions.ts";

export interface HookDeps {
  root: string | null;
  run: RunCommand;
  commands?: CommandOverrides;
  privileged?: boolean;
  log?: { info(msg: string): void; warn(msg: string): void };
}

/**
 * Runs the probe every intervalMs until its stdout matches `expect` (true), the time is up (false)
 * or `signal` aborts (the payload ended first: true, nothing to report). An abort returns at once,
 * even with a probe command in flight: a collector that does not answer holds condor_status up to
 * its timeout (30 s), and the payload's end must not wait for it. That command is left to its own
 * timeout.
 */
export async function probeReady(p: ReadinessProbe, d: HookDeps & { signal: AbortSignal; now: () => number }): Promise<boolean> {
  if (d.signal.aborted) return true;
  const until = d.now() + p.timeoutSeconds * 1000;
  const expect = new RegExp(p.expect, "m");
  // One listener for the whole probe (not one per try: a 300 s probe would pile up 300).
  let onAbort = () => {};
  const ended = new Promise<"ended">((resolve) => (onAbort = () => resolve("ended")));
  d.signal.addEventListener("abort", onAbort, { once: true });
  let last = "";
  try {
    while (!d.signal.aborted) {
      const { argv, user, env } = rootedInvocation(d.root, p.argv, p.user, p.env);
      try {
        const running = d.run(argv, {
          timeoutMs: Math.max(1000, Math.min(30_000, until - d.now())),
          ...(user !== undefined ? { user } : {}),
          ...(env ? { env } : {}),
          ...(d.commands ? { commands: d.commands } : {}),
          ...(d.privileged !== undefined ? { privileged: d.privileged } : {}),
        });
        // Abandoned when the payload ends first: its later failure is nobody's to handle.
        running.catch(() => {});
        const r = await Promise.race([running, ended]);
        if (r === "ended") break;
        if (expect.test(r.stdout)) {
          d.log?.info(`payload ready: ${p.why}`);
          return true;
        }
        last = "no match yet";
      } catch (err) {
        last = (err as Error).message;
      }
      if (d.now() + p.intervalMs > until) {
        d.log?.warn(`payload not ready after ${p.timeoutSeconds} s (${p.why}): ${last}`);
        return d.signal.aborted;
      }
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([ended, new Promise<void>((resolve) => (t = setTimeout(resolve, p.intervalMs)))]);
      clearTimeout(t);
    }
    return true;
  } finally {
    d.signal.removeEventListener("abort", onAbort);
  }
}

/** One drain step; a failure is logged, never fatal: the stop at the deadline still comes. */
export async function performDrainStep(step: DrainStep, d: HookDeps): Promise<void> {
  try {
    if (step.do.kind === "create-file") {
      const path = rootedPath(d.root, step.do.path);
      ensureParentDirsSync(dirname(path));
      await atomicWrite(path, step.do.contents, { mode: 0o644 });
    } else {
      const { argv, user, env } = rootedInvocation(d.root, step.do.argv, step.do.user, step.do.env);
      await d.run(argv, {
        timeoutMs: step.do.timeoutSeconds * 1000,
        ...(user !== undefined ? { user } : {}),
        ...(env ? { env } : {}),
        ...(d.commands ? { commands: d.commands } : {}),
        ...(d.privileged !== undefined ? { privileged: d.privileged } : {}),
      });
    }
    d.log?.info(`drain: ${step.why}`);
  } catch (err) {
    d.log?.warn(`drain step failed (${step.why}): ${(err as Error).message}`);
  }
}
