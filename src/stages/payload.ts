import { problem, type Problem } from "../config/problem.ts";
import type { Context } from "../context/context.ts";
import { planCommand } from "../payloads/command.ts";
import { diracProblems, planDirac } from "../payloads/dirac/plan.ts";
import { htcondorProblems } from "../payloads/htcondor/problems.ts";
import { planHtcondorRun } from "../payloads/htcondor/plan.ts";
import type { Stage } from "./stage.ts";

/** Payload types this version can plan; the others are refused up front, never half-run. */
export function payloadProblems(ctx: Context): Problem[] {
  const type = ctx.config.payload.type;
  if (type === "command") return [];
  if (type === "dirac") return diracProblems(ctx);
  if (type === "htcondor") return htcondorProblems(ctx);
  return [problem("error", "user_data", "payload.type", `"${type}" payloads are not supported (supported: "command", "dirac", "htcondor")`, 600)];
}

export const payload: Stage = {
  id: "payload",
  title: "run the payload",
  skip: () => null,
  plan: (ctx) => {
    switch (ctx.config.payload.type) {
      case "command":
        return planCommand(ctx);
      case "dirac":
        return planDirac(ctx);
      case "htcondor":
        return planHtcondorRun(ctx);
      default:
        return [];
    }
  },
  failure: { code: 700, fatal: true, text: "Payload failed" },
};
