// The reference renderer: a user_data template rendered exactly as Vac and Vcycle do it
// (vacuum-platform.md section 1.2): plain, sequential, global replacements in the order of
// SUBSTITUTIONS, then options and files (step 8), then removal of every leftover
// ##user_data_[a-z,0-9,_]*## (step 9). Values are inserted raw; text inserted by an early step is
// subject to the later ones. Pure: templates and values are strings (the CLI maps bytes 1:1 with latin1).

import { OPTION_NAME, REMOVAL, SUBSTITUTIONS, type SubstitutionName } from "./substitution.ts";

export interface RenderInput {
  template: string;
  /** Values by name; a name not given is not substituted (so step 9 removes its pattern). */
  values?: Partial<Record<SubstitutionName, string>>;
  /** `user_data_option_X` values, by X. */
  options?: Readonly<Record<string, string>>;
  /** `user_data_file_X` contents, by X: fill both ##user_data_file_X## and ##user_data_option_X##. */
  files?: Readonly<Record<string, string>>;
}

export interface RenderProblem {
  /** `options.X`, `files.X`, `values.NAME` or `template`. */
  path: string;
  severity: "error" | "warning";
  message: string;
}

export type RenderResult = { ok: true; text: string; problems: RenderProblem[] } | { ok: false; problems: RenderProblem[] };

/** Python's str.replace: every non-overlapping occurrence, left to right, the value taken literally (no `$&`). */
const replaceAll = (text: string, pattern: string, value: string): string => text.split(pattern).join(value);

export function renderUserData(input: RenderInput): RenderResult {
  const problems: RenderProblem[] = [];
  const options = optionTable(input.options ?? {}, "options", problems);
  const files = optionTable(input.files ?? {}, "files", problems);
  for (const name of options.keys()) {
    if (files.has(name)) {
      problems.push({
        path: `files.${name}`,
        severity: "error",
        message: `both user_data_option_${name} and user_data_file_${name} are given: both fill ##user_data_option_${name}##, in Python 2 dict order, which is unspecified (ambiguous upstream); give one`,
      });
    }
  }
  if (problems.some((p) => p.severity === "error")) return { ok: false, problems };

  const values = input.values ?? {};
  let text = input.template;
  for (const sub of SUBSTITUTIONS) {
    const value = values[sub.from];
    if (value === undefined || (!sub.always && value === "")) continue;
    text = replaceAll(text, sub.pattern, value);
  }
  if (values.x509_proxy && options.has("x509_proxy")) {
    problems.push({ path: "options.x509_proxy", severity: "warning", message: "the proxy (step 7) already filled ##user_data_option_x509_proxy##: this option has no effect" });
  }

  // Step 8. Python 2 iterates a dict: the order is unspecified. It only matters when a value
  // contains a pattern, which is reported; here the order is options, then files, each by name.
  for (const [name, value] of [...options].sort(byName)) {
    text = replaceAll(text, `##user_data_option_${name}##`, value);
  }
  for (const [name, contents] of [...files].sort(byName)) {
    text = replaceAll(text, `##user_data_file_${name}##`, contents);
    text = replaceAll(text, `##user_data_option_${name}##`, contents);
  }

  // Step 9.
  text = text.replace(REMOVAL, "");
  return { ok: true, text, problems };
}

const byName = (a: [string, string], b: [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Option names as the readers take them: lower-cased, then only [a-z0-9_]. */
function optionTable(given: Readonly<Record<string, string>>, kind: "options" | "files", problems: RenderProblem[]): Map<string, string> {
  const table = new Map<string, string>();
  for (const [name, value] of Object.entries(given)) {
    const path = `${kind}.${name}`;
    const lower = name.toLowerCase();
    if (!OPTION_NAME.test(lower)) {
      problems.push({ path, severity: "error", message: `${JSON.stringify(name)}: an option name may only contain a-z, 0-9 and "_" (Vac and Vcycle refuse the whole configuration)` });
      continue;
    }
    if (lower !== name) {
      problems.push({ path, severity: "warning", message: `upper case in ${JSON.stringify(name)}: Vac and Vcycle lower-case option names, so it fills ##user_data_option_${lower}##` });
    }
    if (table.has(lower)) {
      problems.push({ path, severity: "error", message: `${JSON.stringify(name)} is the same option as another one after lower-casing: ambiguous` });
      continue;
    }
    if (value.includes("##user_data_")) {
      problems.push({ path, severity: "warning", message: "the value contains ##user_data_…##: upstream, whether it is substituted or removed by step 9 depends on Python's dict order; never put patterns into values" });
    }
    table.set(lower, value);
  }
  return table;
}
