// A definition file with everything it refers to: read it, parse and check it (definition.ts), build
// and validate its pipes (pipe-build.ts), read each user_data template (relative to the definition
// file) and check it (template-check.ts). Every problem carries its path in the definition.

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { pipeProblem, TOP_LEVEL, type PipeProblem } from "../contract/pipe/pipe-problem.ts";
import { decodeUtf8 } from "../contract/pipe/json-text.ts";
import { parseDefinition, type Definition } from "./definition.ts";
import { buildPipes, dedupeProblems, type BuiltPipe } from "./pipe-build.ts";
import { checkTemplate } from "./template-check.ts";
import { loadAgentBinary, type AgentBinary } from "./agent-binary.ts";
import { loadPilotDirectory, type PilotDirectory } from "./pilot-directory.ts";
import { checkPlaceholders } from "./vm/placeholders.ts";

export interface LoadedTemplate {
  /** `user_data/<pipe>-<suffix>.template` */
  path: string;
  /** Where it was read from. */
  source: string;
  bytes: Uint8Array;
  /** The manager's machinetype name, `<pipe>-<suffix>`. */
  machinetype: string;
  /** Indexes into the definition. */
  pipeIndex: number;
  machinetypeIndex: number;
}

export interface LoadedDefinition {
  /** Null when the definition itself could not be read or has schema errors. */
  definition: Definition | null;
  pipes: BuiltPipe[];
  templates: LoadedTemplate[];
  /** In the definition's order; the first is {{vacuum.agent_url}}'s. */
  agents: AgentBinary[];
  pilots: PilotDirectory[];
  problems: PipeProblem[];
}

/** Templates larger than this are refused: user_data limits are 16 KiB (EC2) to 64 KiB (OpenStack). */
export const MAX_TEMPLATE_BYTES = 1 << 20;

const empty = (problems: PipeProblem[]): LoadedDefinition => ({ definition: null, pipes: [], templates: [], agents: [], pilots: [], problems });

export async function loadDefinition(file: string): Promise<LoadedDefinition> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    return empty([pipeProblem("error", TOP_LEVEL, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)]);
  }
  return checkDefinitionBytes(bytes, dirname(resolve(file)));
}

/** A definition's bytes; its templates are read relative to `baseDir`. */
export async function checkDefinitionBytes(bytes: Uint8Array, baseDir: string): Promise<LoadedDefinition> {
  const text = decodeUtf8(bytes);
  if (!text.ok) return empty([pipeProblem("error", TOP_LEVEL, `the definition is ${text.message}`)]);
  const parsed = parseDefinition(text.text);
  if (!parsed.definition) return empty(parsed.problems);
  const definition = parsed.definition;
  const problems = [...parsed.problems];
  const pipes = buildPipes(definition);
  const templates: LoadedTemplate[] = [];
  const agentNames = Object.keys(definition.agents ?? {});
  for (const [p, pipe] of pipes.entries()) {
    problems.push(...pipe.problems);
    for (const built of pipe.machinetypes) {
      const mt = definition.pipes[p]!.machinetypes[built.index]!;
      const at = `pipes[${p}].machinetypes[${built.index}].user_data_template`;
      const source = resolve(baseDir, mt.user_data_template);
      let content: Uint8Array;
      try {
        content = await readFile(source);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push(pipeProblem("error", at, `cannot read the template ${source}: ${code === "ENOENT" ? "no such file" : code ?? String(err)}`));
        continue;
      }
      if (content.length > MAX_TEMPLATE_BYTES) {
        problems.push(pipeProblem("error", at, `the template ${source} has ${content.length} bytes: more than ${MAX_TEMPLATE_BYTES}`));
        continue;
      }
      templates.push({ path: built.templatePath, source, bytes: content, machinetype: `${pipe.name}-${built.suffix}`, pipeIndex: p, machinetypeIndex: built.index });
      for (const message of checkPlaceholders(Buffer.from(content).toString("latin1"), agentNames)) problems.push(pipeProblem("error", at, `${mt.user_data_template}: ${message}`));
      // latin1 maps each byte to one character, as Python 2 sees the template.
      const checks = checkTemplate(Buffer.from(content).toString("latin1"), {
        options: Object.keys(mt.options ?? {}).map((x) => x.toLowerCase()),
        files: Object.keys(mt.files ?? {}).map((x) => x.toLowerCase()),
        proxy: mt.user_data_proxy === true,
      });
      for (const c of checks) problems.push(pipeProblem(c.severity, at, `${mt.user_data_template}: ${c.message}`));
    }
  }
  const agents: AgentBinary[] = [];
  for (const [name, path] of Object.entries(definition.agents ?? {})) {
    const loaded = await loadAgentBinary(name, resolve(baseDir, path));
    if ("problem" in loaded) problems.push(pipeProblem("error", `agents.${name}`, loaded.problem));
    else agents.push(loaded);
  }
  const pilots: PilotDirectory[] = [];
  for (const [name, dir] of Object.entries(definition.pilot_directories ?? {})) {
    const loaded = await loadPilotDirectory(name, resolve(baseDir, dir));
    if ("problem" in loaded) {
      problems.push(pipeProblem("error", `pilot_directories.${name}`, loaded.problem));
      continue;
    }
    if (loaded.skipped.length) problems.push(pipeProblem("warning", `pilot_directories.${name}`, `not published (not a regular file with a plain name): ${loaded.skipped.join(", ")}`));
    if (loaded.pilot.files.length === 0) problems.push(pipeProblem("warning", `pilot_directories.${name}`, `${loaded.pilot.dir} has no file to publish`));
    pilots.push(loaded.pilot);
  }
  return { definition, pipes, templates, agents, pilots, problems: dedupeProblems(problems) };
}
