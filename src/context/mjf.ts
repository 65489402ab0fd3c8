// readMjf(): Machine/Job Features at the locations the configuration names, typed and checked
// (TN02 + the deviations of vacuum-platform.md 3.3). readShutdownTimes(): the cheap re-read of
// the two keys that can move while the VM runs, for the supervision loop.

import { problem, type Problem } from "../config/problem.ts";
import type { TlsOptions } from "../net/http-client.ts";
import { safeUrl } from "../net/http-error.ts";
import { KEYS, parseValue, type MjfDirectory } from "./mjf/keys.ts";
import { locationKind, readKeys, type FetchSettings, type KeyRead } from "./mjf/location.ts";
import type { JobFeatures, MachineFeatures, MjfResult, MjfSourceKind } from "./types.ts";

export interface MjfOptions {
  machinefeatures: string | null;
  jobfeatures: string | null;
  tls?: TlsOptions;
  /** Remote (Vcycle HTTPS) MJF: connect 10 s, whole request 30 s. */
  connectTimeoutMs?: number;
  timeoutMs?: number;
  /**
   * Keep re-reading while a location's core keys are missing, for this long: Vcycle writes most
   * keys only after its cloud call returns, so a fast first boot sees 404s (pass 120000 then).
   */
  retryMissingForMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Keys both Vac and Vcycle always write; while one is missing the location is taken as not yet
 * complete. Keys that providers never write (grace_secs*, max_swap_bytes…) must not be here,
 * or every first boot would wait for the whole retry window.
 */
const CORE_KEYS: Readonly<Record<MjfDirectory, readonly string[]>> = {
  machinefeatures: ["total_cpu"],
  jobfeatures: ["wall_limit_secs"],
};

const RETRY_PAUSES_MS = [1000, 2000, 4000, 8000, 10000];

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function readMjf(opts: MjfOptions): Promise<MjfResult> {
  const settings = fetchSettings(opts);
  const problems: Problem[] = [];
  const [mf, jf] = await Promise.all([
    readDirectory("machinefeatures", opts.machinefeatures, settings, opts, problems),
    readDirectory("jobfeatures", opts.jobfeatures, settings, opts, problems),
  ]);
  return {
    machinefeatures: { ...mf, values: mf.values as MachineFeatures },
    jobfeatures: { ...jf, values: jf.values as JobFeatures },
    problems,
  };
}

interface DirectoryResult {
  location: string | null;
  kind: MjfSourceKind | null;
  values: Record<string, number | string>;
  raw: Record<string, string>;
}

async function readDirectory(
  dir: MjfDirectory,
  location: string | null,
  settings: FetchSettings,
  opts: MjfOptions,
  problems: Problem[],
): Promise<DirectoryResult> {
  const empty = { location, kind: null, values: {}, raw: {} };
  if (location === null || location.trim() === "") return { ...empty, location: null };
  const kind = locationKind(location);
  if (kind === null) {
    problems.push(problem("warning", dir, safeUrl(location), "expected an absolute directory (/...) or an http:// or https:// URL; not read"));
    return empty;
  }

  const keys = Object.keys(KEYS[dir]);
  const reads = await readKeys(location, keys, settings);
  const retryMs = opts.retryMissingForMs ?? 0;
  if (retryMs > 0) {
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? defaultSleep;
    const until = now() + retryMs;
    for (let pass = 0; CORE_KEYS[dir].some((k) => reads[k]!.state !== "value") && now() < until; pass++) {
      await sleep(Math.min(RETRY_PAUSES_MS[Math.min(pass, RETRY_PAUSES_MS.length - 1)]!, Math.max(0, until - now())));
      const again = keys.filter((k) => reads[k]!.state !== "value");
      Object.assign(reads, await readKeys(location, again, settings));
    }
  }

  const values: Record<string, number | string> = {};
  const raw: Record<string, string> = {};
  for (const key of keys) {
    const read = reads[key]!;
    if (read.state !== "value") continue;
    raw[key] = read.text;
    const parsed = parseValue(dir, key, KEYS[dir][key]!, read.text);
    if ("value" in parsed) values[key] = parsed.value;
    else if ("problem" in parsed) problems.push(parsed.problem);
  }
  const failure = locationFailure(dir, location, reads);
  if (failure) problems.push(failure);
  return { location, kind, values, raw };
}

/** One warning per location for keys that could not be read (not for absent keys). */
function locationFailure(dir: MjfDirectory, location: string, reads: Record<string, KeyRead>): Problem | null {
  const failed = Object.entries(reads).filter((e): e is [string, { state: "failed"; reason: string }] => e[1].state === "failed");
  if (failed.length === 0) return null;
  const total = Object.keys(reads).length;
  const first = failed[0]![1].reason;
  const message =
    failed.length === total
      ? `cannot be read: ${first}; no ${dir} values`
      : `${failed.length} of ${total} keys cannot be read (${failed.map(([k]) => k).join(", ")}): ${first}`;
  return problem("warning", dir, safeUrl(location), message);
}

export interface ShutdownTimesOptions {
  machinefeatures: string | null;
  jobfeatures: string | null;
  tls?: TlsOptions;
  connectTimeoutMs?: number;
  timeoutMs?: number;
}

export type ShutdownKey = "shutdowntime" | "shutdowntime_job";

export interface ShutdownTimes {
  /** Present when the key holds a valid time now; absent when the provider has none (or it is invalid). */
  shutdowntime?: number;
  shutdowntime_job?: number;
  /** Keys that could not be read this time (unreachable, 5xx): keep the last good value for them. */
  unreadable: ShutdownKey[];
  problems: Problem[];
}

/** Re-reads only shutdowntime and shutdowntime_job (they can be lowered while the VM runs). */
export async function readShutdownTimes(opts: ShutdownTimesOptions): Promise<ShutdownTimes> {
  const settings = fetchSettings(opts);
  const out: ShutdownTimes = { unreadable: [], problems: [] };
  const one = async (dir: MjfDirectory, location: string | null, key: ShutdownKey) => {
    if (!location || locationKind(location) === null) return;
    const read = (await readKeys(location, [key], settings))[key]!;
    if (read.state === "failed") {
      out.unreadable.push(key);
      out.problems.push(problem("warning", dir, key, `cannot be re-read: ${read.reason}; keeping the last known value`));
      return;
    }
    if (read.state === "absent") return;
    const parsed = parseValue(dir, key, KEYS[dir][key]!, read.text);
    if ("value" in parsed && typeof parsed.value === "number") out[key] = parsed.value;
    else if ("problem" in parsed) out.problems.push(parsed.problem);
  };
  await Promise.all([one("machinefeatures", opts.machinefeatures, "shutdowntime"), one("jobfeatures", opts.jobfeatures, "shutdowntime_job")]);
  out.unreadable.sort();
  return out;
}

function fetchSettings(opts: { tls?: TlsOptions; connectTimeoutMs?: number; timeoutMs?: number }): FetchSettings {
  return {
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    timeoutMs: opts.timeoutMs ?? 30_000,
    ...(opts.tls ? { tls: opts.tls } : {}),
  };
}
