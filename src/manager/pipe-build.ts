// A definition's pipes as the JSON documents the manager publishes, each validated with
// validatePipe() exactly as a site would read it, with every pipe problem re-addressed to the
// definition key it comes from. Pure: the server and `manager export` share it.

import { validatePipe, type PipeProblem } from "../contract/pipe.ts";
import { DEFAULT_CACHE_SECONDS } from "../contract/pipe.ts";
import { TOP_LEVEL } from "../contract/pipe/pipe-problem.ts";
import { templateName, type Definition, type MachinetypeDefinition, type PipeDefinition } from "./definition.ts";

export interface BuiltMachinetype {
  /** Index in the definition's pipe. */
  index: number;
  suffix: string;
  /** `user_data/<pipe>-<suffix>.template`, relative to base_url and to an exported tree. */
  templatePath: string;
  /** The absolute `user_data` URL in the pipe. */
  userDataUrl: string;
}

export interface BuiltPipe {
  name: string;
  /** `pipes/<name>.pipe`, relative to base_url and to an exported tree. */
  path: string;
  url: string;
  /** The exact bytes to publish: ASCII JSON, integers as integers, a final newline. */
  text: string;
  machinetypes: BuiltMachinetype[];
  /** validatePipe() of `text`, addressed to the definition (`pipes[0].machinetypes[1].fizzle_seconds`). */
  problems: PipeProblem[];
}

/** Keys in the order they are published: identity first, then timing, then options. */
const KEY_ORDER: readonly (keyof MachinetypeDefinition)[] = [
  "suffix", "target_share", "root_image", "machine_model", "backoff_seconds", "fizzle_seconds",
  "max_wallclock_seconds", "min_wallclock_seconds", "heartbeat_file", "heartbeat_seconds",
  "min_processors", "max_processors", "accounting_fqan", "image_signing_dn", "user_data_proxy", "legacy_proxy",
];

export const baseUrlOf = (def: Pick<Definition, "base_url">): string => def.base_url.replace(/\/+$/, "");

export function buildPipes(def: Definition): BuiltPipe[] {
  return def.pipes.map((pipe, p) => buildPipe(def, pipe, p));
}

export function buildPipe(def: Definition, pipe: PipeDefinition, p: number): BuiltPipe {
  const base = baseUrlOf(def);
  const machinetypes: BuiltMachinetype[] = [];
  const documents = pipe.machinetypes.map((mt, i) => {
    const templatePath = `user_data/${templateName(pipe, mt)}`;
    const userDataUrl = `${base}/${templatePath}`;
    machinetypes.push({ index: i, suffix: mt.suffix, templatePath, userDataUrl });
    const doc: Record<string, unknown> = {};
    for (const key of KEY_ORDER) {
      if (mt[key] !== undefined) doc[key] = mt[key];
      if (key === "target_share") doc.user_data = userDataUrl;
    }
    for (const [x, v] of sortedEntries(mt.options)) doc[`user_data_option_${x}`] = v;
    for (const [x, v] of sortedEntries(mt.files)) doc[`user_data_file_${x}`] = v;
    return doc;
  });
  const text = JSON.stringify({ cache_seconds: pipe.cache_seconds ?? DEFAULT_CACHE_SECONDS, machinetypes: documents }, null, 2) + "\n";
  const problems = dedupeProblems(validatePipe(text).problems.map((problem) => ({ ...problem, path: definitionPath(problem.path, p) })));
  const path = `pipes/${pipe.name}.pipe`;
  return { name: pipe.name, path, url: `${base}/${path}`, text, machinetypes, problems };
}

const sortedEntries = (o: Readonly<Record<string, string>> | undefined): [string, string][] =>
  Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** A path in the generated pipe → the definition key it comes from. */
export function definitionPath(pipePath: string, p: number): string {
  const at = `pipes[${p}]`;
  if (pipePath === TOP_LEVEL || pipePath === "") return at;
  const m = /^machinetypes\[(\d+)\](?:\.(.*))?$/.exec(pipePath);
  if (!m) return `${at}.${pipePath}`;
  const mt = `${at}.machinetypes[${m[1]}]`;
  const key = m[2];
  if (key === undefined) return mt;
  if (key === "user_data") return "base_url"; // the URL is made from base_url
  if (key.startsWith("user_data_option_")) return `${mt}.options.${key.slice(17)}`;
  if (key.startsWith("user_data_file_")) return `${mt}.files.${key.slice(15)}`;
  return `${mt}.${key}`;
}

/** One problem per path and text: base_url problems repeat for every machinetype otherwise. */
export function dedupeProblems(problems: PipeProblem[]): PipeProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = problem.path === "base_url" ? `${problem.path}\0${problem.severity}` : `${problem.path}\0${problem.severity}\0${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
