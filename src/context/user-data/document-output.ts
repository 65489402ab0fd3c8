// What reading an agent document produces, shared by the line and the JSON reader, and the one
// rule both apply to a value: empty, or still holding a ##user_data_*## pattern, means "not set".

import type { DocumentEntry } from "../types.ts";
import { explainPattern, findPatterns, patternKey } from "./unsubstituted-patterns.ts";
import { CappedProblems, userDataWarning } from "./user-data-problem.ts";
import { VacuumValues } from "./vacuum-values.ts";

// Enough to show every problem of a real document; the rest of a flood is counted.
const MAX_PROBLEMS = 100;

export class DocumentOutput {
  readonly entries: DocumentEntry[] = [];
  readonly problems = new CappedProblems(MAX_PROBLEMS);
  readonly report = this.problems.add;
  readonly vacuum = new VacuumValues(this.report);
  /** Patterns already reported at a location (patternKey), so the scan of the text skips them. */
  readonly reported = new Set<string>();

  /**
   * Records the entry and says whether its value counts. Vac and Vcycle delete patterns they
   * cannot fill, so an empty value is "not set"; a value that still holds a pattern was never
   * rendered and is not set either.
   */
  entry(key: string, value: string, location: string): boolean {
    this.entries.push({ key, value, location });
    const patterns = findPatterns(value);
    for (const pattern of patterns) {
      this.report(userDataWarning(location, `${explainPattern(pattern)}; "${key}" is treated as not set`));
      this.reported.add(patternKey(location, pattern));
    }
    return patterns.length === 0 && value.trim() !== "";
  }
}
