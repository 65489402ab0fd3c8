import { shutdownMessage, type ShutdownCode } from "../contract/codes.ts";
import type { Context } from "../context/context.ts";
import type { Action } from "../plan/actions.ts";
import { AGENT_PATHS } from "../status/paths.ts";

export interface Outcome {
  code: ShutdownCode;
  text: string;
}

/** Every run ends here: the shutdown_message for Vac/Vcycle, then the power-off. */
export function planFinish(ctx: Context, outcome: Outcome): Action[] {
  const actions: Action[] = [
    { kind: "mkdir", path: AGENT_PATHS.joboutputs, mode: 0o755, why: "job outputs staged for upload" },
    {
      kind: "write-file",
      path: `${AGENT_PATHS.joboutputs}/shutdown_message`,
      mode: 0o644,
      contents: shutdownMessage(outcome.code, outcome.text),
      why: "the vacuum shutdown code Vac and Vcycle read (HSF-TN-2016-04)",
    },
  ];
  if (ctx.config.lifecycle.power_off) actions.push({ kind: "power-off", why: "a vacuum VM ends by powering off" });
  return actions;
}
