// `user_data_*` entries of the agent document: the values Vac/Vcycle substituted, kept apart from
// the document (gather maps them to configuration paths through vacuum-names.ts). Names that Vac
// and Vcycle never fill, or fill only under an old name, are reported where they are written.

import type { Problem } from "../../config/problem.ts";
import { userDataWarning } from "./user-data-problem.ts";
import { lookupVacuumName, type VacuumName } from "./vacuum-names.ts";

export const isVacuumKey = (key: string): boolean => key.startsWith("user_data_");

/** Warnings for a name as written; returns its table row (null when Vac and Vcycle never fill it). */
export function checkVacuumName(name: string, location: string, report: (p: Problem) => void): VacuumName | null {
  const known = lookupVacuumName(name);
  if (!known) {
    report(userDataWarning(location, `##${name}## is not a name Vac or Vcycle fills`));
  } else if (known.neverFilled) {
    report(userDataWarning(location, `neither Vac nor Vcycle fills ##${name}## (they remove it, leaving it empty): use ##${name.replace("manager_", "")}##`));
  } else if (known.deprecated) {
    const why = name.startsWith("user_data_file_") ? " (Vac and Vcycle put the file's contents into both)" : "";
    report(userDataWarning(location, `##${name}## is deprecated: use ##${known.deprecated}##${why}`));
  }
  return known;
}

export class VacuumValues {
  readonly values: Record<string, string> = {};
  private readonly seen = new Map<string, string>();

  constructor(private readonly report: (p: Problem) => void) {}

  /** A non-empty value; a second one for the same name wins, with a warning. */
  set(name: string, value: string, location: string): void {
    const previous = this.seen.get(name);
    if (previous) this.report(userDataWarning(location, `"${name}" is also set at ${previous}; the later value wins`));
    this.seen.set(name, location);
    this.values[name] = value;
  }
}
