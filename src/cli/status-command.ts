// `agent status`: what status.json says, exit 0 healthy (or running), 1 failed, 2 degraded.

import { formatProblem } from "../config/problem.ts";
import { rootedPath } from "../exec/rooted.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import { healthOf, readStatus } from "../status/status-file.ts";
import { EXIT } from "./help.ts";
import type { Options } from "./options.ts";

const WORDS = ["healthy", "failed", "degraded"] as const;

export async function statusCommand(o: Options): Promise<number> {
  const path = rootedPath(o.root, AGENT_PATHS.status);
  const { status, problems } = readStatus(path);
  if (!status) {
    if (o.json) process.stdout.write(JSON.stringify({ health: "failed", problems }, null, 2) + "\n");
    else for (const p of problems) process.stdout.write(formatProblem(p) + "\n");
    return EXIT.failed;
  }
  const health = healthOf(status);
  if (o.json) {
    process.stdout.write(JSON.stringify({ health: WORDS[health], exitCode: health, status }, null, 2) + "\n");
    return health;
  }
  const out: string[] = [];
  out.push(`agent ${status.agentVersion}: ${status.state}, ${WORDS[health]}; started ${status.startedAt}${status.finishedAt ? `, finished ${status.finishedAt}` : ""}`);
  if (status.shutdownMessage) out.push(`shutdown_message: ${status.shutdownMessage}`);
  for (const s of status.stages) {
    const took = s.durationMs !== undefined ? ` ${s.durationMs} ms` : "";
    const why = s.error ? `: ${s.error}` : s.reason ? ` (${s.reason})` : "";
    out.push(`  ${s.state.padEnd(8)} ${s.id}${took}${why}`);
  }
  for (const p of status.problems) out.push(`  ${formatProblem(p)}`);
  process.stdout.write(out.join("\n") + "\n");
  return health;
}
