// Milliseconds since the process started at each step of the agent's start-up (the binary loaded,
// the metadata read, MJF read, the plan built, services started), logged with the first line of
// agent.jsonl: in a slow VM the seconds before the first stage are otherwise invisible, and the
// boot timeline (scripts/vm/timeline.ts) reports them as the agent's share.

import { performance } from "node:perf_hooks";

const marks: Record<string, number> = {};

/** Records NAME at the current time (the first record of a name wins). */
export function startupMark(name: string): void {
  if (!(name in marks)) marks[name] = Math.round(performance.now());
}

/** The marks so far, in the order they were taken. */
export function startupMarks(): Record<string, number> {
  return { ...marks };
}
