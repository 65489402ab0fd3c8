// Performs a Plan: stage by stage through the one executor, status.json before and after each
// stage, a timeline in the log, and always the finishing actions (shutdown_message, power-off),
// whatever failed before them.

import { shutdownMessage, type ShutdownCode } from "../contract/codes.ts";
import type { Context } from "../context/context.ts";
import type { Plan } from "../plan/plan.ts";
import { SUCCESS } from "../plan/plan.ts";
import { planFinish, type Outcome } from "../stages/finish.ts";
import type { Action } from "../plan/actions.ts";
import { payloadOutcome } from "../supervise/outcome.ts";
import type { PayloadResult } from "../supervise/payload-process.ts";

export interface ActionResultLike {
  ok: boolean;
  error?: string;
  /** The failure's own shutdown code, which wins over the stage's. */
  code?: ShutdownCode;
  payload?: PayloadResult;
  action?: Action;
}

export interface EngineDeps {
  apply(actions: Plan["finish"], stageId: string): Promise<ActionResultLike[]>;
  stageStarted(id: string): void;
  stageFinished(id: string, state: "ok" | "failed" | "skipped" | "degraded", detail: { error?: string; reason?: string; durationMs?: number }): void;
  /** Called after the last stage, before the finish: background services stop here. */
  beforeFinish?(): Promise<void>;
  /** Called once the shutdown_message is written and before the power-off: the last chance to save state. */
  beforePowerOff(result: RunResult): void | Promise<void>;
  log: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void; error(msg: string, fields?: Record<string, unknown>): void };
  now: () => number;
  /** A stop request (signal, preemption) that arrived before a stage started: skip it, end with 100. */
  stopRequested?: () => string | null;
}

export interface RunResult {
  outcome: Outcome;
  shutdownMessage: string;
  failedStages: string[];
  degradedStages: string[];
  finishOk: boolean;
}

export async function executePlan(ctx: Context, plan: Plan, deps: EngineDeps): Promise<RunResult> {
  let outcome: Outcome | null = plan.refusal;
  let payloadSucceeded: Outcome | null = null;
  const failedStages: string[] = [];
  const degradedStages: string[] = [];
  for (const { stage, skipped, actions } of plan.stages) {
    deps.stageStarted(stage.id);
    const stopReason = outcome === null ? (deps.stopRequested?.() ?? null) : null;
    if (stopReason !== null) outcome = { code: 100, text: `Stopped before ${stage.id}: ${stopReason}` };
    if (skipped !== null || outcome !== null) {
      const reason = skipped ?? (stopReason !== null ? `stop requested: ${stopReason}` : "an earlier stage failed");
      deps.log.info(`stage ${stage.id}: skipped (${reason})`);
      deps.stageFinished(stage.id, "skipped", { reason, durationMs: 0 });
      continue;
    }
    const t0 = deps.now();
    deps.log.info(`stage ${stage.id}: ${stage.title}: ${actions.length} action(s)`);
    let results: ActionResultLike[];
    try {
      results = await deps.apply(actions, stage.id);
    } catch (err) {
      results = [{ ok: false, error: err instanceof Error ? err.message : String(err) }];
    }
    const failed = results.find((r) => !r.ok);
    const durationMs = deps.now() - t0;
    // A payload that ran decides the outcome by how it ended (src/supervise/outcome.ts).
    const ran = results.find((r) => r.payload);
    if (!failed && ran?.payload) {
      const action = ran.action?.kind === "run-payload" ? ran.action : null;
      const o = payloadOutcome(action?.name ?? stage.id, ran.payload, action?.outcome);
      deps.log[o.code === 200 || o.code === 100 ? "info" : "error"](`payload ended: ${o.code} ${o.text}`);
      // 100 (stopped at the deadline or on request) is not a failure of the VM: degraded.
      const state = o.code === 200 ? "ok" : o.code === 100 ? "degraded" : "failed";
      deps.stageFinished(stage.id, state, { durationMs, ...(o.code === 200 ? {} : { error: `${o.code} ${o.text}` }) });
      if (state === "failed") failedStages.push(stage.id);
      if (state === "degraded") degradedStages.push(stage.id);
      outcome = o.code === 200 ? null : o;
      if (o.code === 200) payloadSucceeded = o;
      continue;
    }
    if (!failed) {
      deps.stageFinished(stage.id, "ok", { durationMs });
      continue;
    }
    const error = failed.error ?? "failed";
    if (stage.fatalWhen?.(ctx) ?? stage.failure.fatal) {
      failedStages.push(stage.id);
      deps.log.error(`stage ${stage.id} failed: ${error}`);
      deps.stageFinished(stage.id, "failed", { error, durationMs });
      outcome = { code: failed.code ?? stage.failure.code, text: `${stage.failure.text}: ${error}` };
    } else {
      degradedStages.push(stage.id);
      deps.log.warn(`stage ${stage.id} failed, going on: ${error}`);
      deps.stageFinished(stage.id, "degraded", { error, durationMs });
    }
  }
  const final = outcome ?? payloadSucceeded ?? SUCCESS;
  const message = shutdownMessage(final.code, final.text);
  deps.log.info(`finishing: ${message}`);
  try {
    await deps.beforeFinish?.();
  } catch (err) {
    deps.log.warn(`before finish: ${(err as Error).message}`);
  }
  deps.stageStarted("finish");
  const t0 = deps.now();
  const finish = planFinish(ctx, final);
  const powerOff = finish.filter((a) => a.kind === "power-off");
  const before = finish.filter((a) => a.kind !== "power-off");
  let finishResults = await applySafely(deps, before);
  let finishFailed = finishResults.find((r) => !r.ok);
  deps.stageFinished("finish", finishFailed ? "failed" : "ok", { durationMs: deps.now() - t0, ...(finishFailed ? { error: finishFailed.error ?? "failed" } : {}) });
  const result: RunResult = { outcome: final, shutdownMessage: message, failedStages, degradedStages, finishOk: !finishFailed };
  try {
    await deps.beforePowerOff(result);
  } catch (err) {
    deps.log.warn(`before power-off: ${(err as Error).message}`);
  }
  if (powerOff.length > 0) {
    // Whatever failed before, the VM must still power off (a reboot would end it on Vac too, but
    // leaves no trace of why).
    finishResults = await applySafely(deps, powerOff);
    finishFailed = finishResults.find((r) => !r.ok);
    if (finishFailed) {
      deps.log.error(`power-off failed: ${finishFailed.error ?? "failed"}`);
      result.finishOk = false;
    }
  }
  return result;
}

async function applySafely(deps: EngineDeps, actions: Plan["finish"]): Promise<ActionResultLike[]> {
  try {
    return await deps.apply(actions, "finish");
  } catch (err) {
    return [{ ok: false, error: err instanceof Error ? err.message : String(err) }];
  }
}
