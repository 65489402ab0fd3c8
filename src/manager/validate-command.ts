// `manager validate FILE`: a vacuum pipe (anyone's, as a site admin checks it before listing it) or
// a manager definition (schema, generated pipes, templates). Every problem with its path; exit 1
// when Vac or Vcycle would reject or mishandle it, 0 otherwise (warnings included).

import { formatPipeProblem, pipeHasErrors, validatePipe, type PipeProblem } from "../contract/pipe.ts";
import { parseJsonText } from "../contract/pipe/json-text.ts";
import { checkDefinitionBytes } from "./definition-file.ts";
import { MANAGER_EXIT } from "./help.ts";
import type { ManagerOptions } from "./options.ts";
import { readInput } from "./read-input.ts";

export type DocumentKind = "pipe" | "definition";

/** A pipe has `machinetypes` at the top level; a definition has `pipes` or `version`. Anything else is checked as a pipe. */
export function detectKind(name: string, text: string): DocumentKind {
  if (name.endsWith(".pipe")) return "pipe";
  const parsed = parseJsonText(text);
  if (!parsed.ok || parsed.root.kind !== "object") return "pipe";
  const keys = new Set(parsed.root.entries.map((e) => e.key));
  if (keys.has("machinetypes")) return "pipe";
  return keys.has("pipes") || keys.has("version") ? "definition" : "pipe";
}

export async function validateCommand(o: ManagerOptions): Promise<number> {
  const file = o.file!;
  const input = await readInput(file);
  if (!input.ok) {
    process.stderr.write(`manager: ${input.message}\n`);
    return MANAGER_EXIT.failed;
  }
  const kind = detectKind(file, Buffer.from(input.bytes).toString("utf8"));
  let problems: PipeProblem[];
  let detail: string;
  let extra: Record<string, unknown> = {};
  if (kind === "pipe") {
    const result = validatePipe(input.bytes);
    problems = result.problems;
    const named = (result.suffixes ?? []).filter((s): s is string => s !== null);
    detail = `${result.suffixes?.length ?? 0} machinetype(s)${named.length ? `: ${named.join(", ")}` : ""}`;
    extra = { suffixes: result.suffixes };
  } else {
    const loaded = await checkDefinitionBytes(input.bytes, input.baseDir);
    problems = loaded.problems;
    detail = loaded.pipes.map((p) => `${p.name} (${p.machinetypes.length} machinetype(s)) at ${p.url}`).join(", ");
    extra = { pipes: loaded.pipes.map((p) => ({ name: p.name, url: p.url, machinetypes: p.machinetypes.map((m) => ({ suffix: m.suffix, user_data: m.userDataUrl })) })) };
  }
  const failed = pipeHasErrors(problems);
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  if (o.json) {
    process.stdout.write(JSON.stringify({ file, kind, valid: !failed, errors, warnings, ...extra, problems }, null, 2) + "\n");
    return failed ? MANAGER_EXIT.failed : MANAGER_EXIT.ok;
  }
  for (const p of problems) process.stdout.write(formatPipeProblem(p) + "\n");
  const summary = failed
    ? `${file}: invalid ${kind}: ${errors} error(s), ${warnings} warning(s): Vac or Vcycle would reject or mishandle it`
    : `${file}: valid ${kind} (${detail})${warnings ? ` with ${warnings} warning(s)` : ""}`;
  process.stdout.write(summary + "\n");
  return failed ? MANAGER_EXIT.failed : MANAGER_EXIT.ok;
}
