// When the startd stops taking jobs and how long running jobs may stay: the VM's deadline turned
// into HTCondor's terms, glideinWMS style (pilots.md 7: retire before die, both from the wall time):
//
//   stopAt      the effective deadline (deadline minus lifecycle.deadline_margin_seconds): the
//               supervisor's SIGTERM to condor_master, SIGKILL kill_grace_seconds later
//   retireAt    stopAt - drain lead: START turns false (a clause `time() < retireAt`) and
//               `condor_off -peaceful` is sent, so running jobs finish and the master then exits
//   gracefulAt  stopAt - graceful lead: `condor_off -graceful`, jobs get what remains of
//               MaxJobRetirementTime, then are vacated: the VM still ends with its logs uploaded
//
// The drain lead is cut to half the VM's lifetime (a 1 h lead on a 40 min VM would drain at once);
// the graceful lead never exceeds the drain lead. MAXJOBRETIREMENTTIME is $JOBFEATURES/wall_limit_secs
// (VMCondor), cut to what is left between the agent's start and gracefulAt; 172800 s (VMCondor's)
// when neither is known.

import type { Context } from "../../context/context.ts";
import { htcondorSettings } from "./settings.ts";

/** VMCondor's MAXJOBRETIREMENTTIME when no wall limit is known. */
export const DEFAULT_RETIREMENT_SECONDS = 172_800;

export interface HtcondorLifetime {
  stopAt: number | null;
  retireAt: number | null;
  /** Seconds before stopAt of the peaceful and the graceful drain (null without a deadline). */
  peacefulLead: number | null;
  gracefulLead: number | null;
  maxJobRetirementSeconds: number;
}

export function htcondorLifetime(ctx: Context): HtcondorLifetime {
  const s = htcondorSettings(ctx);
  const stopAt = ctx.deadline.effective;
  const wall = ctx.mjf?.jobfeatures.values.wall_limit_secs;
  const wallOk = wall !== undefined && wall > 0 ? wall : undefined;
  if (stopAt === null) {
    return { stopAt: null, retireAt: null, peacefulLead: null, gracefulLead: null, maxJobRetirementSeconds: wallOk ?? DEFAULT_RETIREMENT_SECONDS };
  }
  const life = Math.max(0, stopAt - ctx.startedAt);
  const peacefulLead = Math.min(s.drain_seconds, Math.floor(life / 2));
  const gracefulLead = Math.min(s.graceful_drain_seconds, peacefulLead);
  const untilGraceful = Math.max(0, life - gracefulLead);
  return {
    stopAt,
    retireAt: stopAt - peacefulLead,
    peacefulLead,
    gracefulLead,
    maxJobRetirementSeconds: Math.min(wallOk ?? untilGraceful, untilGraceful),
  };
}
