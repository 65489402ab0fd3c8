// What a VM's own job outputs say about it, for the status: its space and host name (from the
// agent's vacuum-agent-context.json) and its boot timeline (the stage-finish events of
// vacuum-agent.jsonl). Read only for the VMs a status page shows, bounded in size, and cached
// until the VM uploads again.

import { readJobOutput } from "../vm/joboutput-store.ts";
import { vmKey, type VmRecord } from "../vm/vm-registry.ts";

export interface TimelineStage {
  stage: string;
  state: string;
  durationMs: number | null;
  /** ISO time the stage finished. */
  at: string | null;
}

export interface VmDetails {
  space: string | null;
  hostname: string | null;
  timeline: TimelineStage[];
}

const CONTEXT_FILE = "vacuum-agent-context.json";
const TIMELINE_FILE = "vacuum-agent.jsonl";
const MAX_READ_BYTES = 4 * 1024 * 1024;
const MAX_CACHED = 10_000;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v.slice(0, 200) : null);

export function createDetailsReader(stateDir: string) {
  const cache = new Map<string, { lastOutput: number | null; details: VmDetails }>();
  return async function details(r: VmRecord): Promise<VmDetails> {
    const key = vmKey(r.machinetype, r.vmId);
    const hit = cache.get(key);
    if (hit && hit.lastOutput === r.lastOutput) return hit.details;
    const out: VmDetails = { space: null, hostname: null, timeline: [] };
    if (r.outputs > 0) {
      const context = await readJobOutput(stateDir, r.machinetype, r.vmId, CONTEXT_FILE, MAX_READ_BYTES);
      if (context) {
        try {
          const identity = (JSON.parse(Buffer.from(context).toString("utf8")) as { config?: { identity?: Record<string, unknown> } }).config?.identity ?? {};
          out.space = str(identity.space);
          out.hostname = str(identity.hostname);
        } catch {
          // Not the agent's JSON: no details from it.
        }
      }
      const log = await readJobOutput(stateDir, r.machinetype, r.vmId, TIMELINE_FILE, MAX_READ_BYTES);
      if (log) out.timeline = timelineOf(Buffer.from(log).toString("utf8"));
    }
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(key, { lastOutput: r.lastOutput, details: out });
    return out;
  };
}

/** The stage-finish events of an agent's JSON-lines log, in order; other lines are skipped. */
export function timelineOf(jsonl: string): TimelineStage[] {
  const stages: TimelineStage[] = [];
  for (const line of jsonl.split("\n")) {
    if (!line.includes("stage-finish")) continue;
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      if (e.event !== "stage-finish" && e.msg !== "stage-finish") continue;
      const stage = str(e.stage);
      if (!stage) continue;
      stages.push({ stage, state: str(e.state) ?? "?", durationMs: typeof e.durationMs === "number" ? e.durationMs : null, at: str(e.time) });
    } catch {
      // A line cut by the agent's size limit.
    }
    if (stages.length >= 100) break;
  }
  return stages;
}
