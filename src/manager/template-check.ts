// What a user_data template will become at a site, before any site renders it: patterns that
// survive literally, names nobody fills (removed, so empty), options the template uses but the
// machinetype does not define, and options defined but never used (vacuum-platform.md section 1.2).

import type { RenderProblem } from "./render.ts";
import { NEVER_FILLED, PATTERN_LIKE, SUBSTITUTIONS } from "./substitution.ts";

export interface TemplateNames {
  /** X of each `user_data_option_X` the machinetype defines. */
  options: readonly string[];
  /** X of each `user_data_file_X`. */
  files: readonly string[];
  /** user_data_proxy: ##user_data_option_x509_proxy## is filled by step 7. */
  proxy: boolean;
}

const FILLED = new Set(SUBSTITUTIONS.filter((s) => s.from !== "x509_proxy").map((s) => s.pattern.slice("##user_data_".length, -2)));

export function checkTemplate(text: string, names: TemplateNames, path = "template"): RenderProblem[] {
  const problems: RenderProblem[] = [];
  if (text.trim() === "") {
    problems.push({ path, severity: "error", message: "an empty template: VMs would start with no user_data" });
    return problems;
  }
  const warn = (message: string): void => void problems.push({ path, severity: "warning", message });
  const options = new Set(names.options);
  const files = new Set(names.files);
  const used = new Set<string>();
  const seen = new Set<string>();
  for (const m of text.matchAll(PATTERN_LIKE)) {
    const name = m[1]!;
    const where = `##user_data_${name}## (line ${lineOf(text, m.index)})`;
    if (name.startsWith("option_")) used.add(name.slice(7));
    if (name.startsWith("file_")) used.add(name.slice(5));
    if (seen.has(name)) continue;
    seen.add(name);
    if (/[^a-z0-9,_]/.test(name)) {
      warn(`${where} survives literally: Vac and Vcycle neither substitute nor remove patterns with upper case, "-" or "."`);
    } else if (name.includes(",")) {
      warn(`${where} is never substituted, only removed (step 9 also removes commas)`);
    } else if (NEVER_FILLED[name]) {
      warn(`${where} is listed in TN04 but neither Vac nor Vcycle fills it: removed; use ##user_data_${NEVER_FILLED[name]}##`);
    } else if (FILLED.has(name)) {
      continue;
    } else if (name === "option_x509_proxy") {
      if (!names.proxy && !options.has("x509_proxy") && !files.has("x509_proxy")) warn(`${where} is only filled when user_data_proxy is true: removed`);
    } else if (name.startsWith("option_")) {
      const x = name.slice(7);
      if (!options.has(x) && !files.has(x)) warn(`${where}: no user_data_option_${x} or user_data_file_${x} is defined, so it is removed (empty) unless a site sets it`);
    } else if (name.startsWith("file_")) {
      const x = name.slice(5);
      warn(files.has(x) ? `${where} is deprecated: use ##user_data_option_${x}##, which user_data_file_${x} fills too` : `${where}: no user_data_file_${x} is defined, so it is removed (empty)`);
    } else {
      warn(`${where} is not a name Vac or Vcycle fills: removed (empty)`);
    }
  }
  for (const x of [...options, ...files]) {
    if (!used.has(x)) warn(`${options.has(x) ? "option" : "file"} ${x} is defined but the template never uses ##user_data_option_${x}##`);
  }
  return problems;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
