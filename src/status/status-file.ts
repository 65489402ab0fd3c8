// status.json: written atomically before and after every stage (cloud-init's status.json), so
// `agent status` (or a person over ssh) can tell at any moment what ran, what failed and why.
// healthOf maps it to cloud-init's exit codes: 0 healthy, 1 failed, 2 degraded.

import { readFileSync } from "node:fs";
import { problem, type Problem } from "../config/problem.ts";
import { redactSecrets } from "../plan/describe.ts";
import { atomicWriteSync, ensureParentDirsSync } from "../exec/atomic-write.ts";
import { dirname } from "node:path";

export type StageState = "pending" | "running" | "ok" | "failed" | "skipped" | "degraded";
export type RunState = "running" | "done" | "failed";

export interface StageStatus {
  id: string;
  state: StageState;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  error?: string;
  reason?: string;
}

export interface Status {
  version: 1;
  agentVersion: string;
  startedAt: string;
  finishedAt?: string;
  state: RunState;
  dryRun: boolean;
  stages: StageStatus[];
  problems: Problem[];
  shutdownMessage?: string;
}

export interface StatusInitial {
  agentVersion: string;
  /** The stage ids in order; stages not listed are appended when they start ("finish"). */
  stages: readonly string[];
  dryRun: boolean;
  startedAt?: Date;
  problems?: Problem[];
}

export interface StageDetail {
  error?: string;
  reason?: string;
  durationMs?: number;
}

export interface StatusWriter {
  stageStarted(id: string): void;
  stageFinished(id: string, state: "ok" | "failed" | "skipped" | "degraded", detail?: StageDetail): void;
  problems(list: readonly Problem[]): void;
  /** The end of the run; the state is "failed" when any stage failed unless given. */
  finish(end?: { state?: "done" | "failed"; shutdownMessage?: string }): void;
  current(): Status;
}

export interface StatusWriterOptions {
  now?: () => Date;
  /** Writing status.json never throws into the run; failures are reported here. */
  onWriteError?: (err: Error) => void;
}

/** path null keeps the status in memory only (a dry run changes nothing on disk). */
export function createStatusWriter(path: string | null, initial: StatusInitial, o: StatusWriterOptions = {}): StatusWriter {
  const now = o.now ?? (() => new Date());
  const status: Status = {
    version: 1,
    agentVersion: initial.agentVersion,
    startedAt: (initial.startedAt ?? now()).toISOString(),
    state: "running",
    dryRun: initial.dryRun,
    stages: initial.stages.map((id) => ({ id, state: "pending" })),
    problems: [...(initial.problems ?? [])],
  };

  // Between stages the file is only progress (rewritten ~30 times in a run): atomic, not fsynced;
  // the final state is made durable.
  const save = (durable = false): void => {
    if (path === null) return;
    try {
      // The first write comes before any stage has made the state directory.
      ensureParentDirsSync(dirname(path));
      atomicWriteSync(path, JSON.stringify(status, null, 2) + "\n", { mode: 0o644, durable });
    } catch (err) {
      o.onWriteError?.(err as Error);
    }
  };

  const stage = (id: string): StageStatus => {
    let s = status.stages.find((x) => x.id === id);
    if (!s) {
      s = { id, state: "pending" };
      status.stages.push(s);
    }
    return s;
  };

  save();
  return {
    stageStarted(id) {
      const s = stage(id);
      s.state = "running";
      s.startedAt = now().toISOString();
      delete s.finishedAt;
      delete s.durationMs;
      delete s.error;
      delete s.reason;
      save();
    },
    stageFinished(id, state, detail = {}) {
      const s = stage(id);
      const end = now();
      s.state = state;
      s.finishedAt = end.toISOString();
      s.durationMs = detail.durationMs ?? (s.startedAt ? end.getTime() - Date.parse(s.startedAt) : 0);
      if (detail.error !== undefined) s.error = redactSecrets(detail.error);
      if (detail.reason !== undefined) s.reason = redactSecrets(detail.reason);
      save();
    },
    problems(list) {
      status.problems = [...list];
      save();
    },
    finish(end = {}) {
      status.state = end.state ?? (status.stages.some((s) => s.state === "failed") ? "failed" : "done");
      status.finishedAt = now().toISOString();
      if (end.shutdownMessage !== undefined) status.shutdownMessage = end.shutdownMessage;
      save(true);
    },
    current: () => structuredClone(status),
  };
}

const STAGE_STATES: ReadonlySet<string> = new Set(["pending", "running", "ok", "failed", "skipped", "degraded"]);
const RUN_STATES: ReadonlySet<string> = new Set(["running", "done", "failed"]);

export interface StatusRead {
  status: Status | null;
  problems: Problem[];
}

/** Read and check status.json; a missing or malformed file is a problem, never a throw. */
export function readStatus(path: string): StatusRead {
  const bad = (where: string, message: string): StatusRead => ({ status: null, problems: [problem("error", "machine", where, message)] });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return bad(path, code === "ENOENT" ? "no status file: the agent has not started here" : `cannot read the status file: ${code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return bad(path, `expected JSON, found a parse error: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return bad(path, "expected a JSON object");
  const d = doc as Record<string, unknown>;
  if (d.version !== 1) return bad(`${path}: version`, `expected version 1, found ${JSON.stringify(d.version)}`);
  if (typeof d.state !== "string" || !RUN_STATES.has(d.state)) return bad(`${path}: state`, `expected running, done or failed, found ${JSON.stringify(d.state)}`);
  if (typeof d.startedAt !== "string") return bad(`${path}: startedAt`, "expected a time string");
  if (!Array.isArray(d.stages)) return bad(`${path}: stages`, "expected an array");
  for (const [i, s] of d.stages.entries()) {
    const st = s as Record<string, unknown> | null;
    if (!st || typeof st !== "object" || typeof st.id !== "string") return bad(`${path}: stages.${i}.id`, "expected a stage id");
    if (typeof st.state !== "string" || !STAGE_STATES.has(st.state)) return bad(`${path}: stages.${i}.state`, `expected a stage state, found ${JSON.stringify(st.state)}`);
  }
  if (d.problems !== undefined && !Array.isArray(d.problems)) return bad(`${path}: problems`, "expected an array");
  const status = { ...d, problems: d.problems ?? [], dryRun: d.dryRun === true, agentVersion: typeof d.agentVersion === "string" ? d.agentVersion : "unknown" } as Status;
  return { status, problems: [] };
}

/** 0 healthy (or running so far without trouble), 1 failed, 2 degraded (cloud-init status). */
export function healthOf(status: Status): 0 | 1 | 2 {
  if (status.state === "failed") return 1;
  if (status.stages.some((s) => s.state === "failed")) return 1;
  if (status.problems.some((p) => p.severity === "error")) return 1;
  if (status.problems.some((p) => p.severity === "warning")) return 2;
  // A stage skipped because it is not configured is the normal case; one skipped with an error
  // (it could not even be tried) is not.
  if (status.stages.some((s) => s.state === "degraded" || (s.state === "skipped" && s.error !== undefined))) return 2;
  return 0;
}
