// The moving deadline. Vac (and a Vcycle space's shutdown_time) lower `shutdowntime` and
// `shutdowntime_job` while a VM runs (vacuum-platform.md 7), so the two keys are re-read every
// interval and the deadline recomputed with the same rule as at start. A key that cannot be read
// this time, or holds no valid time, keeps its last good value (a factory restart must not cancel
// a deadline); a key the provider removed is dropped. onChange fires only when the deadline moves.

import type { Deadline } from "../context/deadline.ts";
import { isoSeconds } from "../contract/unix-time.ts";
import { computeDeadline } from "../context/deadline.ts";
import { readShutdownTimes, type ShutdownKey, type ShutdownTimes, type ShutdownTimesOptions } from "../context/mjf.ts";
import type { JobFeatures, MachineFeatures } from "../context/types.ts";
import type { TlsOptions } from "../net/http-client.ts";
import type { LogSink } from "../status/log.ts";

/** setTimeout/clearTimeout, injectable so tests run an interval without waiting for it. */
export interface DeadlineWatchTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DeadlineWatchOptions {
  machinefeatures: string | null;
  jobfeatures: string | null;
  tls?: TlsOptions;
  /** Between re-reads; 60000 ms when absent (Vac itself acts once a minute). */
  intervalMs?: number;
  /** The values read at start (the context's MJF). */
  initial: { mf: MachineFeatures; jf: JobFeatures };
  /** Unix seconds when the agent started. */
  startedAt: number;
  maxWallclockSeconds?: number;
  marginSeconds: number;
  onChange(d: Deadline, reason: string): void;
  /** Milliseconds clock, for "in 5 min" in the reasons; Date.now when absent. */
  now?: () => number;
  timers?: DeadlineWatchTimers;
  log: LogSink;
  /** Per-request limits for remote MJF; connect 10 s, total 30 s when absent. */
  connectTimeoutMs?: number;
  timeoutMs?: number;
  /** The reader; readShutdownTimes when absent. */
  read?: (o: ShutdownTimesOptions) => Promise<ShutdownTimes>;
}

export interface DeadlineWatch {
  start(): void;
  stop(): void;
  current(): Deadline;
}

export const DEFAULT_DEADLINE_INTERVAL_MS = 60_000;

/** In the order reasons name them: the job's own limit first. */
const KEYS: readonly ShutdownKey[] = ["shutdowntime_job", "shutdowntime"];

const defaultTimers: DeadlineWatchTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The watch must not keep the agent alive on its own.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};


/** `in 5 min`, `2 h ago`: how far a time is from now, for people reading the log. */
export function fromNow(unix: number, nowMs: number): string {
  const s = Math.round(unix - nowMs / 1000);
  const a = Math.abs(s);
  const amount = a < 120 ? `${a} s` : a < 7200 ? `${Math.round(a / 60)} min` : `${(a / 3600).toFixed(1).replace(/\.0$/, "")} h`;
  return s >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** What happened to one key between two reads, or null when nothing did. */
export function describeKeyChange(key: ShutdownKey, before: number | undefined, after: number | undefined, nowMs: number): string | null {
  if (before === after) return null;
  const at = (t: number) => `${isoSeconds(t)} (${fromNow(t, nowMs)})`;
  if (before === undefined) return `${key} appeared: ${at(after!)}`;
  if (after === undefined) return `${key} removed (was ${isoSeconds(before)})`;
  return `${key} ${after < before ? "lowered" : "raised"} from ${isoSeconds(before)} to ${at(after)}`;
}

export function createDeadlineWatch(o: DeadlineWatchOptions): DeadlineWatch {
  const intervalMs = o.intervalMs ?? DEFAULT_DEADLINE_INTERVAL_MS;
  const timers = o.timers ?? defaultTimers;
  const now = o.now ?? Date.now;
  const read = o.read ?? readShutdownTimes;
  const deadlineOpts = {
    startedAt: o.startedAt,
    marginSeconds: o.marginSeconds,
    ...(o.maxWallclockSeconds !== undefined ? { maxWallclockSeconds: o.maxWallclockSeconds } : {}),
  };
  const readOpts: ShutdownTimesOptions = {
    machinefeatures: o.machinefeatures,
    jobfeatures: o.jobfeatures,
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  };

  const values: { mf: MachineFeatures; jf: JobFeatures } = { mf: { ...o.initial.mf }, jf: { ...o.initial.jf } };
  let deadline = computeDeadline(values.mf, values.jf, deadlineOpts);
  let running = false;
  let handle: unknown = null;
  const reported = new Set<string>();

  const warnOnce = (message: string): void => {
    if (reported.has(message)) return;
    reported.add(message);
    o.log.warn(`deadline watch: ${message} (logged once)`);
  };

  const valueOf = (key: ShutdownKey): number | undefined => (key === "shutdowntime" ? values.mf.shutdowntime : values.jf.shutdowntime_job);

  function setValue(key: ShutdownKey, v: number | undefined): void {
    if (key === "shutdowntime") {
      if (v === undefined) delete values.mf.shutdowntime;
      else values.mf.shutdowntime = v;
    } else if (v === undefined) delete values.jf.shutdowntime_job;
    else values.jf.shutdowntime_job = v;
  }

  /** Applies one read; returns what changed, one phrase per key. */
  function apply(r: ShutdownTimes): string[] {
    for (const p of r.problems) warnOnce(`${p.source} ${p.path}: ${p.message}`);
    // A value that cannot be parsed (an empty file caught mid-write) keeps the last good one too:
    // only a key the provider really removed may take a deadline away.
    const troubled = new Set(r.problems.map((p) => p.path));
    const changes: string[] = [];
    for (const key of KEYS) {
      if (r.unreadable.includes(key) || (r[key] === undefined && troubled.has(key))) continue;
      const before = valueOf(key);
      const after = r[key];
      const change = describeKeyChange(key, before, after, now());
      if (change === null) continue;
      setValue(key, after);
      changes.push(change);
    }
    return changes;
  }

  async function tick(): Promise<void> {
    handle = null;
    if (!running) return;
    let r: ShutdownTimes | null = null;
    try {
      r = await read(readOpts);
    } catch (err) {
      warnOnce(`re-reading MJF failed: ${err instanceof Error ? err.message : String(err)}; keeping the last known values`);
    }
    if (!running) return;
    if (r) {
      const changes = apply(r);
      if (changes.length > 0) {
        const next = computeDeadline(values.mf, values.jf, deadlineOpts);
        const moved = next.deadline !== deadline.deadline;
        deadline = next;
        const reason = changes.join("; ");
        if (moved) {
          const to = next.deadline === null ? "none" : `${isoSeconds(next.deadline)} (${fromNow(next.deadline, now())})`;
          o.log.warn(`deadline watch: ${reason}; the deadline is now ${to}`, { deadline: next.deadline, effective: next.effective });
          try {
            o.onChange(next, reason);
          } catch (err) {
            o.log.error(`deadline watch: the change handler failed: ${err instanceof Error ? err.message : String(err)}`);
          }
        } else {
          o.log.info(`deadline watch: ${reason}; the deadline stays ${deadline.deadline === null ? "none" : isoSeconds(deadline.deadline)}`);
        }
      }
    }
    if (running) handle = timers.setTimeout(() => void tick(), intervalMs);
  }

  return {
    start() {
      if (running) return;
      if (!o.machinefeatures && !o.jobfeatures) {
        o.log.info("deadline watch: no MJF location, nothing to re-read");
        return;
      }
      running = true;
      o.log.info(`deadline watch: re-reading shutdowntime and shutdowntime_job every ${Math.round(intervalMs / 1000)} s`);
      handle = timers.setTimeout(() => void tick(), intervalMs);
    },
    stop() {
      running = false;
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
    },
    current: () => deadline,
  };
}
