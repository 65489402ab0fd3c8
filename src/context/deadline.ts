// The VM's deadline: the earliest of every limit that is known (MJF-PY's rule, vacuum-platform.md
// 3.3 item 4, plus the configured max_wallclock_seconds). jobstart_secs + wall_limit_secs only
// counts when both are numbers (Vcycle writes a UUID into jobstart_secs). No limit => unknown.

import type { JobFeatures, MachineFeatures } from "./types.ts";

export interface DeadlineCandidate {
  source: string;
  /** Unix seconds. */
  at: number;
}

export interface Deadline {
  /** Unix seconds of the earliest limit, or null when nothing gives one. */
  deadline: number | null;
  /** deadline - marginSeconds: when the agent starts winding down; null with no deadline. */
  effective: number | null;
  marginSeconds: number;
  /** Every limit that was known, in the order checked. */
  candidates: DeadlineCandidate[];
}

export interface DeadlineOptions {
  /** Unix seconds when the agent started. */
  startedAt: number;
  maxWallclockSeconds?: number;
  marginSeconds: number;
}

const known = (n: number | undefined): n is number => typeof n === "number" && Number.isFinite(n);

export function computeDeadline(mf: MachineFeatures, jf: JobFeatures, opts: DeadlineOptions): Deadline {
  const candidates: DeadlineCandidate[] = [];
  if (known(jf.shutdowntime_job)) candidates.push({ source: "jobfeatures shutdowntime_job", at: jf.shutdowntime_job });
  if (known(mf.shutdowntime)) candidates.push({ source: "machinefeatures shutdowntime", at: mf.shutdowntime });
  if (known(jf.jobstart_secs) && known(jf.wall_limit_secs)) {
    candidates.push({ source: "jobfeatures jobstart_secs + wall_limit_secs", at: jf.jobstart_secs + jf.wall_limit_secs });
  }
  if (known(opts.maxWallclockSeconds) && opts.maxWallclockSeconds > 0) {
    candidates.push({ source: "agent start + lifecycle.max_wallclock_seconds", at: opts.startedAt + opts.maxWallclockSeconds });
  }
  const deadline = candidates.length === 0 ? null : Math.min(...candidates.map((c) => c.at));
  return { deadline, effective: deadline === null ? null : deadline - opts.marginSeconds, marginSeconds: opts.marginSeconds, candidates };
}
