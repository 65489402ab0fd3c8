// `agent validate [FILE]`: every problem with its path, exit 1 on errors, 2 on warnings only.
// With FILE: that file alone (a user_data, an agent document or a JSON config), no metadata, no
// environment. Without FILE: exactly the inputs `agent run` would read.

import { formatProblem, hasErrors } from "../config/problem.ts";
import { gather } from "../context/gather.ts";
import { redactValues } from "../context/redact.ts";
import { planProblems } from "../plan/plan.ts";
import { EXIT } from "./help.ts";
import type { Options } from "./options.ts";

export async function validateCommand(o: Options): Promise<number> {
  const ctx = await gather({
    userData: o.file ?? o.userData,
    metadataUrl: o.file ? "none" : o.metadataUrl,
    configDrive: o.file ? null : o.configDrive,
    root: null,
    dryRun: true,
    sets: o.sets,
    env: o.file ? {} : process.env,
    // A file is checked alone: no Machine/Job Features are fetched for it.
    readMjf: !o.file,
    now: Date.now,
    ...(o.metadataWaitSeconds !== null ? { metadataMaxWaitMs: o.metadataWaitSeconds * 1000 } : {}),
  });
  const problems = planProblems(ctx);
  const name = o.file ?? o.userData ?? "user_data";
  const code = hasErrors(problems) ? EXIT.failed : problems.some((p) => p.severity === "warning") ? EXIT.degraded : EXIT.ok;
  if (o.json) {
    process.stdout.write(redactValues(JSON.stringify({ file: name, valid: code !== EXIT.failed, problems }, null, 2) + "\n", ctx.secrets));
    return code;
  }
  for (const p of problems) process.stdout.write(redactValues(formatProblem(p), ctx.secrets) + "\n");
  const summary =
    code === EXIT.failed
      ? `${name}: invalid: ${problems.filter((p) => p.severity === "error").length} error(s); a run would refuse to start`
      : `${name}: valid (configuration version 1, payload ${ctx.config.payload.type})${code === EXIT.degraded ? ` with ${problems.filter((p) => p.severity === "warning").length} warning(s)` : ""}`;
  process.stdout.write(summary + "\n");
  return code;
}
