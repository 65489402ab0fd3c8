// The final upload: every staged file PUT one by one to $JOBOUTPUTS, the shutdown_message after
// all others, with retries and back-off inside one time budget. The VM must power off whatever
// happens here, so this never throws and never waits past its budget (plus one request timeout
// at most, for a request already under way when the budget ends).
//
// Order of work: the ordinary files go in rounds (each pending file once, then a back-off, then
// the failures again), so one bad file or a server that is down costs every file the same few
// attempts instead of the first file taking the whole budget. The `last` files get their own
// reserved share of the budget, so a hanging server cannot leave no time for the shutdown_message.

import { readdir } from "node:fs/promises";
import { posix } from "node:path";
import type { TlsOptions } from "../../net/http-client.ts";
import type { LogSink } from "../../status/log.ts";
import { readBounded } from "./bounded-content.ts";
import { isFlatName } from "./output-name.ts";
import { jobOutputsTarget, type JobOutputsTarget } from "./target.ts";

export interface UploadOptions {
  spoolDir: string;
  /** $JOBOUTPUTS: an http(s) URL or a local directory. */
  joboutputs: string;
  /** Default: every regular file in spoolDir with a flat name (dot files, such as temp files and
   * the space reserve, are left out). */
  names?: string[];
  /** Uploaded after all others, in this order, e.g. ["shutdown_message"]. */
  last?: string[];
  /** Client certificate and key (Vcycle), CA directory. */
  tls?: TlsOptions;
  perRequestTimeoutMs: number;
  totalBudgetMs: number;
  /** Attempts after the first, per file. */
  retries: number;
  /** First back-off; doubles each round up to maxBackoffMs (default 30 s). */
  backoffMs: number;
  maxBackoffMs?: number;
  /** Files larger than this are sent as head + marker + tail (the spool copy is left alone);
   * default 16 MiB. */
  maxFileBytes?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log: LogSink;
}

export interface UploadResult {
  uploaded: string[];
  failed: { name: string; reason: string }[];
  /** Never attempted because the budget was spent. */
  skippedForBudget: string[];
}

const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;
/** An attempt with less time than this left cannot complete; count the budget as spent. */
const MIN_ATTEMPT_MS = 50;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function spoolFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  // Dirent does not follow symlinks: a link planted in the spool is not a regular file.
  return entries.filter((e) => e.isFile() && isFlatName(e.name)).map((e) => e.name).sort();
}

interface Pending {
  name: string;
  attempts: number;
  lastReason: string;
}

export async function uploadJobOutputs(o: UploadOptions): Promise<UploadResult> {
  const result: UploadResult = { uploaded: [], failed: [], skippedForBudget: [] };
  try {
    await upload(o, result);
  } catch (err) {
    // A defect here must not keep the VM from powering off; report it as a failure.
    o.log.error(`job outputs upload stopped by an internal error: ${(err as Error).message}`);
    const done = new Set([...result.uploaded, ...result.failed.map((f) => f.name), ...result.skippedForBudget]);
    for (const name of [...(o.names ?? []), ...(o.last ?? [])]) {
      if (!done.has(name)) result.failed.push({ name, reason: `internal error: ${(err as Error).message}` });
    }
  }
  return result;
}

async function upload(o: UploadOptions, result: UploadResult): Promise<void> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  const deadline = now() + o.totalBudgetMs;

  let names: string[];
  if (o.names) {
    names = [...new Set(o.names)];
  } else {
    try {
      names = await spoolFiles(o.spoolDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      o.log.error(`cannot list the job outputs spool ${o.spoolDir} (${code})`);
      for (const name of o.last ?? []) result.failed.push({ name, reason: `cannot list ${o.spoolDir} (${code})` });
      return;
    }
  }
  const bad = names.filter((n) => !isFlatName(n));
  for (const name of bad) result.failed.push({ name, reason: "not a flat name ([A-Za-z0-9._-], no leading dot, no /)" });
  const valid = names.filter(isFlatName);
  const lastOnes = (o.last ?? []).filter((n, i, all) => valid.includes(n) && all.indexOf(n) === i);
  const regular = valid.filter((n) => !lastOnes.includes(n));
  if (regular.length + lastOnes.length === 0) return;

  const target = jobOutputsTarget(o.joboutputs, { ...(o.tls ? { tls: o.tls } : {}) });
  if ("problem" in target) {
    o.log.error(`job outputs not uploaded: ${target.problem}`);
    for (const name of [...regular, ...lastOnes]) result.failed.push({ name, reason: target.problem });
    return;
  }
  if (target.kind === "directory" && posix.resolve(target.dir ?? "") === posix.resolve(o.spoolDir)) {
    // $JOBOUTPUTS is the spool itself: the files are already where the host reads them.
    result.uploaded.push(...regular, ...lastOnes);
    return;
  }
  o.log.info(`uploading ${regular.length + lastOnes.length} job output(s) to ${target.where}`);

  const reserve = lastOnes.length > 0 ? Math.min(o.totalBudgetMs / 2, o.perRequestTimeoutMs * lastOnes.length) : 0;
  const ctx: Rounds = { o, target, result, now, sleep };
  await sendInRounds(ctx, regular, deadline - reserve);
  for (const name of lastOnes) await sendInRounds(ctx, [name], deadline);
}

interface Rounds {
  o: UploadOptions;
  target: JobOutputsTarget;
  result: UploadResult;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

async function sendInRounds(c: Rounds, names: string[], until: number): Promise<void> {
  const { o, result, now } = c;
  let pending: Pending[] = names.map((name) => ({ name, attempts: 0, lastReason: "" }));
  const spent = (p: Pending) => {
    if (p.attempts === 0) result.skippedForBudget.push(p.name);
    else result.failed.push({ name: p.name, reason: `${p.lastReason} (upload budget spent after ${p.attempts} attempt(s))` });
  };
  for (let round = 0; pending.length > 0; round++) {
    const again: Pending[] = [];
    for (const p of pending) {
      const remaining = until - now();
      if (remaining < MIN_ATTEMPT_MS) {
        spent(p);
        continue;
      }
      const outcome = await attempt(c, p, Math.min(o.perRequestTimeoutMs, remaining));
      if (outcome === "done") continue;
      if (outcome === "retry" && p.attempts <= o.retries) again.push(p);
      else result.failed.push({ name: p.name, reason: `${p.lastReason} (after ${p.attempts} attempt(s))` });
    }
    if (again.length === 0) return;
    const delay = Math.min(o.backoffMs * 2 ** round, o.maxBackoffMs ?? 30_000);
    if (now() + delay + MIN_ATTEMPT_MS > until) {
      for (const p of again) spent(p);
      return;
    }
    await c.sleep(delay);
    pending = again;
  }
}

async function attempt(c: Rounds, p: Pending, timeoutMs: number): Promise<"done" | "retry" | "give-up"> {
  const { o, result } = c;
  let body: Uint8Array;
  try {
    // Read at each attempt rather than held across back-offs: only one file is in memory at once.
    body = (await readBounded(posix.join(o.spoolDir, p.name), o.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES)).bytes;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    p.lastReason = `cannot read ${p.name} from the spool (${code})`;
    p.attempts++;
    o.log.warn(`job output ${p.name} not uploaded: ${p.lastReason}`);
    return "give-up";
  }
  p.attempts++;
  const outcome = await c.target.put(p.name, body, timeoutMs);
  if (outcome.ok) {
    result.uploaded.push(p.name);
    o.log.info(`uploaded job output ${p.name}`, { bytes: body.byteLength, attempts: p.attempts });
    return "done";
  }
  p.lastReason = outcome.reason;
  o.log.warn(`upload of job output ${p.name} failed: ${outcome.reason}`, { attempt: p.attempts });
  return outcome.retryable ? "retry" : "give-up";
}
