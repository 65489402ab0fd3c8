// What a VM's own job outputs say about it, for the status: its space and host name (from the
// agent's vacuum-agent-context.json) and its boot timeline (the stage events of
// vacuum-agent.jsonl). Read only for the VMs a status page shows, bounded in size, and cached
// until the VM uploads again.

import { readJobOutput } from "../vm/joboutput-store.ts";
import { vmKey, type VmRecord } from "../vm/vm-registry.ts";

export interface TimelineStage {
  stage: string;
  /** The agent's stage state (ok, failed, skipped, degraded), or "running" when it only started. */
  state: string;
  durationMs: number | null;
  /** ISO time the stage finished. */
  at: string | null;
  /** The stage's error, first 200 characters, when it failed. */
  error: string | null;
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
const MAX_STAGES = 100;

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

/**
 * The stages of an agent's JSON-lines log, in order: each finished stage, and a stage that started
 * without finishing (the VM is in it, or was powered off in it) as "running". Other lines are skipped.
 */
export function timelineOf(jsonl: string): TimelineStage[] {
  const stages: TimelineStage[] = [];
  const open = new Map<string, TimelineStage>();
  for (const line of jsonl.split("\n")) {
    if (!line.includes("stage-")) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line cut by the agent's size limit or a power-off
    }
    if (e === null || typeof e !== "object") continue;
    const kind = e.event ?? e.msg;
    const stage = str(e.stage);
    if (!stage || (kind !== "stage-start" && kind !== "stage-finish")) continue;
    if (kind === "stage-start") {
      if (open.has(stage) || stages.length >= MAX_STAGES) continue;
      const s: TimelineStage = { stage, state: "running", durationMs: null, at: null, error: null };
      open.set(stage, s);
      stages.push(s);
      continue;
    }
    const finished: TimelineStage = {
      stage,
      state: str(e.state) ?? "?",
      durationMs: typeof e.durationMs === "number" && Number.isFinite(e.durationMs) && e.durationMs >= 0 ? e.durationMs : null,
      at: str(e.time),
      error: str(e.error),
    };
    const started = open.get(stage);
    if (started) {
      Object.assign(started, finished);
      open.delete(stage);
    } else if (stages.length < MAX_STAGES) {
      stages.push(finished);
    }
  }
  return stages;
}
