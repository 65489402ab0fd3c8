import { shutdownMessage } from "../contract/codes.ts";
import type { Context } from "../context/context.ts";
import type { Stage } from "./stage.ts";

/** How long before the hard deadline the watchdog powers off: Vac destroys the VM at the deadline. */
export const WATCHDOG_LEAD_SECONDS = 60;

export function watchdogAt(ctx: Context): number | null {
  const d = ctx.deadline.deadline;
  if (d === null) return null;
  // Never earlier than a few seconds after the start: a deadline already (nearly) passed still gets
  // the agent's own, orderly finish first.
  return Math.max(ctx.startedAt + 10, d - WATCHDOG_LEAD_SECONDS);
}

/** A process of its own that ends the VM even if the agent is killed or hangs. */
export const watchdog: Stage = {
  id: "watchdog",
  title: "watchdog for the hard deadline",
  skip: (ctx) => (ctx.config.lifecycle.power_off ? (watchdogAt(ctx) === null ? "no deadline known" : null) : "lifecycle.power_off is false"),
  plan: (ctx) => [
    {
      kind: "start-watchdog",
      at: watchdogAt(ctx)!,
      message: shutdownMessage(700, "Agent did not finish before its deadline; the watchdog powered the VM off"),
      why: `power off ${WATCHDOG_LEAD_SECONDS} s before the deadline even if the agent is killed or hangs`,
    },
  ],
  failure: { code: 500, fatal: false, text: "Cannot start the watchdog" },
};
