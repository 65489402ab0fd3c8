// ##user_data_*## patterns left in the user_data. Vac and Vcycle replace every pattern they can
// fill and then delete the rest with re.sub('##user_data_[a-z,0-9,_]*##', '') (vacuum-platform.md
// 1.2), so a surviving pattern in [a-z0-9,_] means nobody rendered this user_data; one with upper
// case, "-" or "." is neither filled nor removed and survives every rendering.

import type { Problem } from "../../config/problem.ts";
import { lineLocation, userDataWarning } from "./user-data-problem.ts";

// The scan's class is wider than Vac's so that the names Vac cannot remove are found too.
const PATTERN = /##user_data_[A-Za-z0-9_,.\-]*##/g;
const REMOVABLE = /^##user_data_[a-z0-9,_]*##$/;
const MARK = "##user_data_";

/** The distinct patterns in a text, in order of appearance. */
export function findPatterns(text: string): string[] {
  if (!text.includes(MARK)) return [];
  return [...new Set(text.match(PATTERN) ?? [])];
}

/** Why the pattern is still there, without the location. */
export function explainPattern(pattern: string): string {
  return REMOVABLE.test(pattern)
    ? `${pattern} was not substituted: Vac and Vcycle replace or remove every such pattern, so this user_data was not rendered by them`
    : `${pattern} was not substituted: Vac and Vcycle neither fill nor remove a name with upper case, "-" or "."; use only a-z, 0-9 and _ in pattern names`;
}

/** Where a pattern was reported: `part 2 (text/x-vacuum-agent) line 7|##user_data_Bad##`. */
export const patternKey = (location: string, pattern: string): string => `${location}|${pattern}`;

// A text made of nothing but patterns would otherwise give a warning per line.
const MAX_WARNINGS = 100;

/**
 * One warning per pattern and line of `lines`, skipping those in `reported` (already
 * reported by the document parser at the same location with more context).
 */
export function scanPatterns(texts: readonly { lines: readonly string[]; prefix: string }[], reported: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  let unlisted = 0;
  for (const { lines, prefix } of texts) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.includes(MARK)) continue;
      const location = lineLocation(prefix, i + 1);
      for (const pattern of findPatterns(line)) {
        if (reported.has(patternKey(location, pattern))) continue;
        if (problems.length < MAX_WARNINGS) problems.push(userDataWarning(location, explainPattern(pattern)));
        else unlisted++;
      }
    }
  }
  if (unlisted > 0) problems.push(userDataWarning("", `${unlisted} more unsubstituted ##user_data_*## patterns are not listed`));
  return problems;
}
