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

export interface LoadedTemplate {
  /** `user_data/<pipe>-<suffix>.template` */
  path: string;
  /** Where it was read from. */
  source: string;
  bytes: Uint8Array;
}

export interface LoadedDefinition {
  /** Null when the definition itself could not be read or has schema errors. */
  definition: Definition | null;
  pipes: BuiltPipe[];
  templates: LoadedTemplate[];
  problems: PipeProblem[];
}

/** Templates larger than this are refused: user_data limits are 16 KiB (EC2) to 64 KiB (OpenStack). */
export const MAX_TEMPLATE_BYTES = 1 << 20;

const empty = (problems: PipeProblem[]): LoadedDefinition => ({ definition: null, pipes: [], templates: [], problems });

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
      templates.push({ path: built.templatePath, source, bytes: content });
      // latin1 maps each byte to one character, as Python 2 sees the template.
      const checks = checkTemplate(Buffer.from(content).toString("latin1"), {
        options: Object.keys(mt.options ?? {}).map((x) => x.toLowerCase()),
        files: Object.keys(mt.files ?? {}).map((x) => x.toLowerCase()),
        proxy: mt.user_data_proxy === true,
      });
      for (const c of checks) problems.push(pipeProblem(c.severity, at, `${mt.user_data_template}: ${c.message}`));
    }
  }
  return { definition, pipes, templates, problems: dedupeProblems(problems) };
}
