// How the payload's end becomes the vacuum shutdown code (README "Shutdown codes"). The payload's
// own valid message wins when it ended by itself; otherwise:
//   exit 0 -> 200; exit N -> 700; killed by a signal we did not send -> 700;
//   stopped at the deadline -> 100 (the host's limit, no back-off); stop request (SIGTERM/SIGINT to
//   the agent, ACPI power button, preemption notice) -> 100; no progress -> 700;
//   could not start (missing or non-executable program) -> 600 (the template names a bad payload);
//   never ready (the readiness probe, e.g. the startd never reached the collector) -> the probe's own code.

import type { ShutdownCode } from "../contract/codes.ts";
import { isoSeconds } from "../contract/unix-time.ts";
import type { Outcome } from "../stages/finish.ts";
import type { PayloadResult } from "./payload-process.ts";
import type { OutcomeRule } from "../plan/actions.ts";
import { diracOutcome } from "../payloads/dirac/outcome.ts";
import { htcondorOutcomeFromEvidence } from "../payloads/htcondor/outcome.ts";

const CODES: ReadonlySet<number> = new Set([100, 200, 300, 400, 500, 600, 700]);

export function payloadOutcome(name: string, r: PayloadResult, rule?: OutcomeRule): Outcome {
  const e = r.end;
  // Payloads whose exit status says little (dirac-pilot.py exits 0 whether or not a job ran)
  // are judged by their own evidence: src/payloads/<type>/outcome.ts.
  if (rule?.kind === "dirac-pilot-log") return diracOutcome(rule.logPaths.map((p) => r.evidence?.[p] ?? "").join("\n"), e);
  if (rule?.kind === "htcondor-history") return htcondorOutcomeFromEvidence(rule, r.evidence ?? {}, e);
  if (r.ownMessage && (e.kind === "exited" || e.kind === "signaled")) {
    const code = Number(r.ownMessage.slice(0, 3));
    if (CODES.has(code)) return { code: code as ShutdownCode, text: r.ownMessage.slice(4) };
  }
  const minutes = (s: number) => (s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`);
  switch (e.kind) {
    case "exited":
      return e.exitCode === 0 ? { code: 200, text: "Payload completed" } : { code: 700, text: `Payload ${name} exited with code ${e.exitCode}` };
    case "signaled":
      return { code: 700, text: `Payload ${name} was killed by ${e.signal}` };
    case "deadline":
      return { code: 100, text: `Payload ${name} stopped at the VM's deadline (${isoSeconds(e.at)})` };
    case "stopped":
      return { code: 100, text: `Payload ${name} stopped: ${e.reason}` };
    case "stalled":
      return { code: 700, text: `Payload ${name} made no progress for ${minutes(e.staleSeconds)}` };
    case "failed-to-start":
      return { code: 600, text: `Payload ${name} could not start: ${e.error}` };
    case "not-ready":
      return { code: e.code, text: e.text };
  }
}
