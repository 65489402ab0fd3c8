// The whole plan of a run: every stage's actions (pure), the problems that refuse a run, and the
// finishing actions for the outcome expected if everything goes well. The dry run prints exactly
// this; a real run performs exactly this.

import { hasErrors, type Problem } from "../config/problem.ts";
import type { Context } from "../context/context.ts";
import type { Action } from "./actions.ts";
import { payloadProblems } from "../stages/payload.ts";
import { credentialProblems } from "../stages/credentials.ts";
import { scratchProblems } from "../stages/scratch-disk.ts";
import { isolationProblems } from "../stages/isolation.ts";
import { STAGES } from "../stages/index.ts";
import { planFinish, type Outcome } from "../stages/finish.ts";
import type { Stage } from "../stages/stage.ts";

export interface PlannedStage {
  stage: Stage;
  /** Why the stage does not run, or null. */
  skipped: string | null;
  actions: Action[];
}

export interface Plan {
  stages: PlannedStage[];
  problems: Problem[];
  /** A fatal problem: no stage runs, the VM ends with `refusal`. */
  refusal: Outcome | null;
  /** The outcome the finish actions below are planned for. */
  expected: Outcome;
  finish: Action[];
}

export const SUCCESS: Outcome = { code: 200, text: "Payload completed" };

export function outcomeOfProblems(problems: readonly Problem[]): Outcome | null {
  const first = problems.find((p) => p.severity === "error");
  if (!first) return null;
  return { code: first.code ?? 600, text: `${first.source}: ${first.path ? first.path + ": " : ""}${first.message}` };
}

/** Problems only planning can find (they need the whole Context); validate reports them too. */
export function planProblems(ctx: Context): Problem[] {
  return [...ctx.problems, ...scratchProblems(ctx), ...credentialProblems(ctx), ...isolationProblems(ctx), ...payloadProblems(ctx)];
}

export function buildPlan(ctx: Context): Plan {
  const problems = planProblems(ctx);
  const refusal = hasErrors(problems) ? outcomeOfProblems(problems) : null;
  const stages = STAGES.map((stage): PlannedStage => {
    if (refusal) return { stage, skipped: "refused: a fatal problem (see problems)", actions: [] };
    const skipped = stage.skip(ctx);
    return { stage, skipped, actions: skipped === null ? stage.plan(ctx) : [] };
  });
  const expected = refusal ?? SUCCESS;
  return { stages, problems, refusal, expected, finish: planFinish(ctx, expected) };
}
