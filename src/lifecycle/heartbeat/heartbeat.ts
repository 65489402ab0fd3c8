// The agent's own heartbeat: `$JOBOUTPUTS/<heartbeat_file>` at start, then every period (minus up
// to `jitterFraction` of it, so a beat is never later than the period), written locally and PUT
// where $JOBOUTPUTS is a URL. A failed PUT is logged and tried again soon once, then at the
// normal period; it never ends the run. One beat at a time: the next is scheduled only when the
// current one has finished, and each PUT ends at its own timeout, so a hung receiver delays
// beats but never piles them up. No arrays or maps grow with the number of beats.

import { posix } from "node:path";
import { atomicWrite } from "../../exec/atomic-write.ts";
import type { TlsOptions } from "../../net/http-client.ts";
import type { LogSink } from "../../status/log.ts";
import { flatName, isFlatName } from "../joboutputs/output-name.ts";
import { jobOutputsTarget, type JobOutputsTarget } from "../joboutputs/target.ts";
import { heartbeatContent, type ReadProc } from "./heartbeat-content.ts";

export type TimerHandle = unknown;

export interface HeartbeatOptions {
  spoolDir: string;
  /** $JOBOUTPUTS (URL or directory), or null to write the local file only. */
  joboutputs: string | null;
  /** More receivers of the same beat, each with its own TLS (the experiment's manager: its token in the URL). */
  alsoTo?: { joboutputs: string; tls?: TlsOptions }[];
  /** heartbeat_file, e.g. "heartbeat". */
  file: string;
  /** More names the same content is PUT to, e.g. ["vm-heartbeat"] as DIRAC VMs do. */
  extraFiles?: string[];
  /** From heartbeatPeriodSeconds(). */
  periodSeconds: number;
  /** Each interval is shortened by up to this fraction of the period; default 0.1. */
  jitterFraction?: number;
  /** After a failed PUT the next beat comes this soon (once per failure streak); default
   * min(30 s, period / 4). */
  retrySoonSeconds?: number;
  tls?: TlsOptions;
  perRequestTimeoutMs: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
  random?: () => number;
  readProc?: ReadProc;
  /** Replaces the $JOBOUTPUTS target (tests: a fake PUT). */
  target?: Pick<JobOutputsTarget, "put" | "where">;
  /** Replaces the local atomic write (tests: no fsync per beat). */
  writeLocal?: (path: string, data: Uint8Array) => Promise<void>;
  log: LogSink;
}

export interface HeartbeatStats {
  beats: number;
  /** Beats in which at least one PUT failed. */
  failedBeats: number;
  consecutiveFailures: number;
  lastBeatAt: number | null;
  lastUploadAt: number | null;
  lastError: string | null;
  /** Whether a beat is being written or uploaded now. */
  running: boolean;
  /** Whether a next beat is scheduled. */
  scheduled: boolean;
}

export interface Heartbeat {
  name: "heartbeat";
  /** The first beat (its uploads in the background), then the next scheduled; resolves once its local file is written. */
  start(): Promise<void>;
  /** One beat now (after the running one, if any); also works after stop(), for a final beat. */
  beatNow(): Promise<void>;
  /** No more scheduled beats; waits for a beat under way (bounded by its PUT timeouts). */
  stop(): Promise<void>;
  stats(): HeartbeatStats;
}

export function createHeartbeat(o: HeartbeatOptions): Heartbeat {
  const now = o.now ?? Date.now;
  const setTimer = o.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = o.clearTimer ?? ((h: TimerHandle) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const random = o.random ?? Math.random;
  const writeLocal = o.writeLocal ?? ((path: string, data: Uint8Array) => atomicWrite(path, data, { mode: 0o644 }));
  // A period that is not a positive number would beat in a tight loop or never; use the maximum.
  const periodSeconds = Number.isFinite(o.periodSeconds) && o.periodSeconds > 0 ? Math.max(1, o.periodSeconds) : 300;
  const periodMs = periodSeconds * 1000;
  const jitter = Math.min(0.5, Math.max(0, o.jitterFraction ?? 0.1));
  const retrySoonMs = (o.retrySoonSeconds ?? Math.min(30, periodSeconds / 4)) * 1000;

  const safe = (name: string): string => {
    if (isFlatName(name)) return name;
    o.log.warn(`heartbeat name ${JSON.stringify(name)} is not a flat name; using ${flatName(name)}`);
    return flatName(name);
  };
  const file = safe(o.file);
  const names = [...new Set([file, ...(o.extraFiles ?? []).map(safe)])];
  const localPath = posix.join(o.spoolDir, file);

  // Every receiver of the beat; `skipFile` where $JOBOUTPUTS is the spool itself (the local write is the upload).
  const targets: { target: Pick<JobOutputsTarget, "put" | "where">; skipFile: boolean }[] = o.target ? [{ target: o.target, skipFile: false }] : [];
  const receivers = o.target ? (o.alsoTo ?? []) : [...(o.joboutputs !== null ? [{ joboutputs: o.joboutputs, ...(o.tls ? { tls: o.tls } : {}) }] : []), ...(o.alsoTo ?? [])];
  for (const r of receivers) {
    const t = jobOutputsTarget(r.joboutputs, r.tls ? { tls: r.tls } : {});
    if ("problem" in t) o.log.warn(`heartbeat ${receivers.length > 1 ? "not sent to one receiver" : "written locally only"}: ${t.problem}`);
    else targets.push({ target: t, skipFile: t.kind === "directory" && posix.resolve(t.dir ?? "") === posix.resolve(o.spoolDir) });
  }
  const where = targets.map((t) => t.target.where).join(" and ");

  const s = { beats: 0, failedBeats: 0, consecutiveFailures: 0, lastBeatAt: null as number | null, lastUploadAt: null as number | null, lastError: null as string | null };
  let timer: TimerHandle | null = null;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  let started = false;
  let stopped = false;
  let retriedSoon = false;
  /** Resolves start(): called once the first beat's local file is written. */
  let firstWritten: (() => void) | null = null;

  /** One beat; resolves to whether every PUT succeeded (true without a target). Never rejects. */
  async function beat(): Promise<boolean> {
    s.beats++;
    s.lastBeatAt = now();
    let bytes: Uint8Array;
    try {
      bytes = Buffer.from(await heartbeatContent(o.readProc));
    } catch {
      bytes = Buffer.from("0.0 0.0 0.0 0.0 0.0\n");
    }
    try {
      await writeLocal(localPath, bytes);
    } catch (err) {
      // Only the PUT reaches the host on Vac and Vcycle; a full disk must not stop it.
      o.log.warn(`cannot write the heartbeat file ${localPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    firstWritten?.();
    firstWritten = null;
    if (targets.length === 0) return true;
    let failure: string | null = null;
    for (const { target, skipFile } of targets) {
      for (const name of names) {
        if (skipFile && name === file) continue;
        let outcome;
        try {
          outcome = await target.put(name, bytes, o.perRequestTimeoutMs);
        } catch (err) {
          outcome = { ok: false as const, reason: `request failed: ${(err as Error).message}`, retryable: true };
        }
        if (!outcome.ok) failure ??= `${targets.length > 1 ? `${target.where}/` : ""}${name}: ${outcome.reason}`;
      }
    }
    if (failure === null) {
      if (s.consecutiveFailures > 0) o.log.info(`heartbeat upload to ${where} works again after ${s.consecutiveFailures} failed beat(s)`);
      else if (s.lastUploadAt === null) o.log.info(`heartbeat uploaded to ${where}, next every ${periodSeconds} s at most`);
      s.consecutiveFailures = 0;
      s.lastUploadAt = now();
      return true;
    }
    s.failedBeats++;
    s.consecutiveFailures++;
    s.lastError = failure;
    o.log.warn(`heartbeat upload failed (${s.consecutiveFailures} in a row), trying again later: ${failure}`);
    return false;
  }

  function schedule(beatStartedAt: number, ok: boolean): void {
    if (stopped) return;
    let interval = periodMs * (1 - jitter * random());
    if (ok) retriedSoon = false;
    else if (!retriedSoon) {
      retriedSoon = true;
      interval = Math.min(interval, retrySoonMs);
    }
    // Measured from the start of the beat, so a slow PUT does not stretch the period.
    const delay = Math.max(0, Math.round(interval - (now() - beatStartedAt)));
    if (timer !== null) clearTimer(timer);
    timer = setTimer(() => {
      timer = null;
      // A beat asked for meanwhile is under way or waiting; it schedules the next when done.
      if (running === null && queued === null) void runBeat();
    }, delay);
  }

  function runBeat(): Promise<void> {
    const startedAt = now();
    const p = beat()
      .catch(() => false)
      .then((ok) => {
        running = null;
        schedule(startedAt, ok);
      });
    running = p;
    return p;
  }

  function beatNow(): Promise<void> {
    if (queued) return queued;
    if (running) {
      queued = running.then(() => {
        queued = null;
        return runBeat();
      });
      return queued;
    }
    return runBeat();
  }

  return {
    name: "heartbeat",
    async start() {
      if (started) return;
      started = true;
      // Waits for the first beat's local file only; its uploads go on in the background: a slow
      // or unreachable $JOBOUTPUTS must not hold back the stages (a PUT may take its whole timeout).
      await new Promise<void>((resolve) => {
        firstWritten = resolve;
        void beatNow().finally(resolve);
      });
    },
    beatNow,
    async stop() {
      stopped = true;
      if (timer !== null) {
        clearTimer(timer);
        timer = null;
      }
      await (queued ?? running ?? Promise.resolve());
    },
    stats: () => ({ ...s, running: running !== null, scheduled: timer !== null }),
  };
}
