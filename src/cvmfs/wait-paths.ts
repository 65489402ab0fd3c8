// Waits, bounded, until every directory the payload needs exists and is non-empty: a CVMFS
// repository is mounted by autofs on first access and may take a while (first catalog download
// through the proxy), and an empty directory is what an unmounted /cvmfs/<repo> looks like.

import { readdir, stat } from "node:fs/promises";

export interface PathState {
  path: string;
  ok: boolean;
  /** Why it is not ready: "does not exist", "is empty", ...; null when ok. */
  reason: string | null;
  /** When it was first seen ready, from the start of the wait; null when never. */
  ms: number | null;
}

export interface WaitResult {
  ok: boolean;
  paths: PathState[];
  /** One line: what is ready, or what never became ready and why. */
  message: string;
}

export interface WaitOptions {
  /** Between checks; 1 s. */
  intervalMs?: number;
}

export const WAIT_INTERVAL_MS = 1_000;

async function check(path: string): Promise<string | null> {
  try {
    const st = await stat(path);
    if (!st.isDirectory()) return "is not a directory";
    return (await readdir(path)).length > 0 ? null : "is empty";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "does not exist";
    if (code === "ENOTDIR") return "does not exist (a parent is not a directory)";
    return `cannot be read: ${code ?? (err as Error).message}`;
  }
}

/** A check that does not come back in time (a hung FUSE mount blocks stat) counts as not ready. */
function bounded(path: string, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("did not answer (a hung mount?)"), Math.max(ms, 1));
  });
  return Promise.race([check(path), late]).finally(() => clearTimeout(timer));
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * Polls every path until all are ready or `timeoutMs` has passed (at least one check is always
 * made). The paths are real file system paths: the executor roots machine paths before calling.
 * Never rejects.
 */
export async function waitForRepositories(paths: readonly string[], timeoutMs: number, opts: WaitOptions = {}): Promise<WaitResult> {
  const interval = opts.intervalMs ?? WAIT_INTERVAL_MS;
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const states = new Map<string, PathState>(paths.map((p) => [p, { path: p, ok: false, reason: "not checked", ms: null }]));
  for (;;) {
    const pending = [...states.values()].filter((s) => !s.ok);
    const budget = Math.max(timeoutMs - elapsed(), interval);
    await Promise.all(
      pending.map(async (s) => {
        const reason = await bounded(s.path, budget);
        Object.assign(s, reason === null ? { ok: true, reason: null, ms: Math.round(elapsed()) } : { reason });
      }),
    );
    const left = timeoutMs - elapsed();
    if ([...states.values()].every((s) => s.ok) || left <= 0) break;
    await new Promise((r) => setTimeout(r, Math.min(interval, left)));
  }
  const all = [...states.values()];
  const missing = all.filter((s) => !s.ok);
  const message = missing.length
    ? `Not ready after ${seconds(elapsed())}: ${missing.map((s) => `${s.path} (${s.reason})`).join(", ")}`
    : all.length
      ? `ready: ${all.map((s) => `${s.path} (${seconds(s.ms!)})`).join(", ")}`
      : "nothing to wait for";
  return { ok: missing.length === 0, paths: all, message };
}
