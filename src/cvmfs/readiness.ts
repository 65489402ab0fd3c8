// Whether CVMFS can serve the payload, decided before it starts: the configured proxies probed,
// then the directories the payload needs waited for. The two steps are planned as actions (so
// --dry-run shows them) of the proposed kinds `probe-cvmfs` and `wait-paths`; their shapes are
// declared here until they join the Action union, and perform* are what the executor calls.

import type { Context } from "../context/context.ts";
import type { ProbeCvmfsAction, WaitPathsAction } from "../plan/actions.ts";
export type { ProbeCvmfsAction, WaitPathsAction } from "../plan/actions.ts";
import { proxyValue } from "./default-local.ts";
import { judgeProbes, PROBE_CONNECT_TIMEOUT_MS, PROBE_TOTAL_TIMEOUT_MS, probeProxies, type ProbeOptions } from "./probe.ts";
import { parseProxySpec } from "./proxy-spec.ts";
import { waitForRepositories, type WaitOptions } from "./wait-paths.ts";

export type CvmfsReadinessAction = ProbeCvmfsAction | WaitPathsAction;

/** What the payload waits for: exactly cvmfs.wait_for (a payload names what it needs). */
export const waitedPaths = (cvmfs: Context["config"]["cvmfs"]): string[] => [...cvmfs.wait_for];

/** The readiness plan: nothing without repositories; no probe without server URLs to probe with. */
export function planCvmfsReadiness(ctx: Context): CvmfsReadinessAction[] {
  const c = ctx.config.cvmfs;
  const repositories = c.repositories ?? [];
  if (repositories.length === 0) return [];
  const out: CvmfsReadinessAction[] = [];
  if (c.server_urls?.length) {
    out.push({
      kind: "probe-cvmfs",
      proxy: proxyValue(c),
      repositories: [...repositories],
      serverUrls: [...c.server_urls],
      required: true,
      connectTimeoutMs: PROBE_CONNECT_TIMEOUT_MS,
      timeoutMs: PROBE_TOTAL_TIMEOUT_MS,
      why: "each CVMFS proxy fetches a repository manifest from a stratum-1; the unusable ones are reported",
    });
  }
  const paths = waitedPaths(c);
  if (paths.length) {
    out.push({ kind: "wait-paths", paths, timeoutMs: c.wait_seconds * 1000, why: "the CVMFS directories the payload needs, non-empty" });
  }
  return out;
}

/** The dry-run line of each (for src/plan/describe.ts). */
export function describeReadiness(a: CvmfsReadinessAction): string[] {
  if (a.kind === "probe-cvmfs") {
    return [
      `probe-cvmfs ${a.proxy}: ${a.why}`,
      `manifests of ${a.repositories.join(", ")} from ${a.serverUrls.join(" ; ")}; connect ${a.connectTimeoutMs} ms, total ${a.timeoutMs} ms per request${a.required ? "; fails when none is usable" : ""}`,
    ];
  }
  return [`wait-paths ${a.paths.join(", ")} (up to ${a.timeoutMs / 1000} s): ${a.why}`];
}

/** Executor side of probe-cvmfs: the detail to log, or an Error naming every unusable proxy. */
export async function performProbeCvmfs(a: ProbeCvmfsAction, opts: ProbeOptions = {}): Promise<{ detail: string }> {
  const { spec, problems } = parseProxySpec(a.proxy);
  if (!spec) throw new Error(`CVMFS proxy list not usable: ${problems.map((p) => p.message).join("; ")}`);
  const probes = await probeProxies(spec, a.repositories, a.serverUrls, { connectTimeoutMs: a.connectTimeoutMs, totalTimeoutMs: a.timeoutMs, ...opts });
  const verdict = judgeProbes(spec, probes);
  if (!verdict.ok && a.required) throw new Error(verdict.message);
  return { detail: verdict.message };
}

/** Executor side of wait-paths; `at` roots a machine path (--root). Messages name the machine paths. */
export async function performWaitPaths(a: WaitPathsAction, at: (machinePath: string) => string, opts: WaitOptions = {}): Promise<{ detail: string }> {
  const byRooted = new Map(a.paths.map((p) => [at(p), p]));
  const name = (rooted: string): string => byRooted.get(rooted) ?? rooted;
  const r = await waitForRepositories([...byRooted.keys()], a.timeoutMs, opts);
  if (!r.ok) {
    throw new Error(`CVMFS not ready after ${a.timeoutMs / 1000} s: ${r.paths.filter((s) => !s.ok).map((s) => `${name(s.path)} (${s.reason})`).join(", ")}`);
  }
  return { detail: r.paths.length ? `ready: ${r.paths.map((s) => `${name(s.path)} after ${s.ms} ms`).join(", ")}` : r.message };
}
