// The manager's definition file (schema/manager-definition.v1.schema.json): parsed with the pipe's
// JSON reader, so that `600.0` or `"600"` for an integer is an error here too (JSON.parse and the
// shared validator would quietly make them 600), then checked against the schema with the
// project's validator, then the rules the schema cannot say. Pure: no I/O, never throws.

import schemaJson from "../../schema/manager-definition.v1.schema.json" with { type: "json" };
import type { JsonSchema } from "../config/json-schema.ts";
import { validate } from "../config/validate.ts";
import { parseJsonText, toValue, type JsonNode } from "../contract/pipe/json-text.ts";
import { childPath, pipeProblem, TOP_LEVEL, type PipeProblem } from "../contract/pipe/pipe-problem.ts";

export const DEFINITION_SCHEMA = schemaJson as JsonSchema;

export interface MachinetypeDefinition {
  suffix: string;
  target_share: number;
  user_data_template: string;
  root_image: string;
  machine_model: "cernvm3" | "vm-raw";
  backoff_seconds: number;
  fizzle_seconds: number;
  max_wallclock_seconds: number;
  min_wallclock_seconds: number;
  heartbeat_seconds?: number;
  heartbeat_file?: string;
  min_processors?: number;
  max_processors?: number;
  accounting_fqan?: string;
  user_data_proxy?: boolean;
  legacy_proxy?: boolean;
  image_signing_dn?: string;
  options?: Record<string, string>;
  files?: Record<string, string>;
  /** Not published: `/`-form DN prefixes whose client certificates may PUT for VMs of this type. */
  client_dn_prefixes?: string[];
}

export interface PipeDefinition {
  name: string;
  cache_seconds: number;
  machinetypes: MachinetypeDefinition[];
}

export interface Definition {
  version: 1;
  base_url: string;
  /** Where VMs reach `manager serve`; default: the origin of the request that fetched the template. */
  manager_url?: string;
  /** NAME -> agent binary path (relative to the definition file). */
  agents?: Record<string, string>;
  /** NAME -> pilot directory (relative to the definition file). */
  pilot_directories?: Record<string, string>;
  pipes: PipeDefinition[];
}

export interface DefinitionParse {
  /** Null when there is any error: nothing may be generated from it. */
  definition: Definition | null;
  problems: PipeProblem[];
}

export function parseDefinition(text: string): DefinitionParse {
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    return { definition: null, problems: [pipeProblem("error", TOP_LEVEL, `not JSON: line ${parsed.at.line} column ${parsed.at.column}: ${parsed.message}`)] };
  }
  const problems: PipeProblem[] = [];
  strictTypes(DEFINITION_SCHEMA, parsed.root, "", problems);
  const checked = validate(DEFINITION_SCHEMA, toValue(parsed.root));
  for (const p of checked.problems) problems.push(pipeProblem(p.severity, p.path, p.message));
  if (problems.some((p) => p.severity === "error")) return { definition: null, problems };
  const definition = checked.value as Definition;
  semanticRules(definition, problems);
  return { definition: problems.some((p) => p.severity === "error") ? null : definition, problems };
}

/** JSON types exactly as written: the shared validator coerces strings (it also reads `key = value` text). */
function strictTypes(schema: JsonSchema, node: JsonNode, path: string, out: PipeProblem[]): void {
  const at = path || TOP_LEVEL;
  const shown = node.kind === "string" ? JSON.stringify(node.value) : node.kind === "number" ? node.text : node.kind;
  switch (schema.type) {
    case "integer":
      if (node.kind === "number" && node.float) out.push(pipeProblem("error", at, `expected a JSON integer, got ${shown} (Vac and Vcycle reject the float a pipe would carry)`));
      else if (node.kind === "string") out.push(pipeProblem("error", at, `expected a JSON integer, got the string ${shown}`));
      return;
    case "number":
      if (node.kind === "string") out.push(pipeProblem("error", at, `expected a JSON number, got the string ${shown}`));
      return;
    case "boolean":
      if (node.kind === "string" || node.kind === "number") out.push(pipeProblem("error", at, `expected true or false, got ${shown}`));
      return;
    case "object":
      if (node.kind !== "object") return;
      for (const [i, e] of node.entries.entries()) {
        if (node.entries.findIndex((o) => o.key === e.key) !== i) out.push(pipeProblem("warning", childPath(path, e.key), "the key appears more than once: the last value is used"));
        const child = schema.properties?.[e.key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
        if (child) strictTypes(child, e.value, childPath(path, e.key), out);
      }
      return;
    case "array":
      if (node.kind === "array" && schema.items) node.items.forEach((item, i) => strictTypes(schema.items!, item, childPath(path, i), out));
      return;
    default:
      return;
  }
}

/** Rules across entries: what the schema subset cannot express. */
function semanticRules(def: Definition, out: PipeProblem[]): void {
  if (def.pipes.length === 0) out.push(pipeProblem("error", "pipes", "no pipe: define at least one"));
  for (const key of ["agents", "pilot_directories"] as const) {
    for (const name of Object.keys(def[key] ?? {})) {
      if (!PUBLISHED_NAME.test(name)) out.push(pipeProblem("error", `${key}.${name}`, `${JSON.stringify(name)}: expected a name of [A-Za-z0-9_-] (it is a URL path component)`));
    }
  }
  const names = new Map<string, number>();
  const templates = new Map<string, string>();
  def.pipes.forEach((pipe, p) => {
    const first = names.get(pipe.name);
    if (first !== undefined) out.push(pipeProblem("error", `pipes[${p}].name`, `duplicate pipe name ${JSON.stringify(pipe.name)}, also pipes[${first}].name`));
    else names.set(pipe.name, p);
    pipe.machinetypes.forEach((mt, i) => {
      const file = templateName(pipe, mt);
      const other = templates.get(file);
      const at = `pipes[${p}].machinetypes[${i}]`;
      if (other !== undefined) out.push(pipeProblem("error", `${at}.suffix`, `the published template name user_data/${file} is also that of ${other}`));
      else templates.set(file, at);
    });
  });
}

/** Names of agents and pilot directories: one URL path component. */
export const PUBLISHED_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** `<pipe name>-<suffix>.template`: the machinetype name a site gets when its prefix is the pipe name. */
export const templateName = (pipe: Pick<PipeDefinition, "name">, mt: Pick<MachinetypeDefinition, "suffix">): string => `${pipe.name}-${mt.suffix}.template`;
