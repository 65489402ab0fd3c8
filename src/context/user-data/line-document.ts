// The agent document's line format, designed to survive Vac/Vcycle's raw text substitution of
// ##user_data_*## patterns (values arrive unescaped: `;`, `|`, quotes, `=`, multi-line PEM):
//   # comment                     blank lines and comments are skipped
//   key = value                   value = the rest after the first "=", trimmed
//   key[] = value                 appends to an array
//   key <<TAG ... TAG             heredoc: the lines up to a line equal to TAG, each ended by "\n"
// Every value stays a string; the schema coerces later. This module only tokenises lines.

import type { Problem } from "../../config/problem.ts";
import { lineLocation, userDataError } from "./user-data-problem.ts";

export interface LineEntry {
  /** As written, with a trailing `[]` for appends: `payload.command.args[]`. */
  key: string;
  /** The dotted path without `[]`. */
  path: string;
  append: boolean;
  value: string;
  location: string;
  heredoc: boolean;
}

// Linear: each class is disjoint from what follows it, so no backtracking blow-up on long lines.
const ASSIGNMENT = /^[ \t]*([A-Za-z0-9_.\-]+)(\[\])?[ \t]*=(.*)$/;
const HEREDOC = /^[ \t]*([A-Za-z0-9_.\-]+)(\[\])?[ \t]*<<[ \t]*(['"]?)([A-Za-z0-9_]+)\3[ \t]*$/;
const EXPECTED = 'expected "key = value" or "key <<TAG"';

// Keys are short dotted names; the caps keep messages readable and the tree walk cheap.
const MAX_KEY_LENGTH = 200;
const MAX_KEY_DEPTH = 32;

function keyProblem(path: string): string | null {
  if (path.length > MAX_KEY_LENGTH) return `a key of ${path.length} characters: expected at most ${MAX_KEY_LENGTH}`;
  const segments = path.split(".");
  if (segments.length > MAX_KEY_DEPTH) return `key "${path}": more than ${MAX_KEY_DEPTH} dotted names`;
  if (segments.some((s) => s === "")) return `key "${path}": expected names separated by single dots`;
  // A document key becomes an object property; "__proto__" would reach the prototype instead.
  if (segments.includes("__proto__")) return `key "${path}": "__proto__" is not allowed`;
  return null;
}

/**
 * Entries of lines[from, to). Line numbers are index + 1, so a block inside a larger text keeps
 * the numbers a reader sees in that text; `prefix` names the part (`part 3 (text/x-vacuum-agent)`).
 */
export function parseLineDocument(
  lines: readonly string[], from: number, to: number, prefix: string, report: (p: Problem) => void,
): LineEntry[] {
  const entries: LineEntry[] = [];
  // Consecutive unreadable lines (typically a PEM block written without a heredoc) are one problem.
  let badFrom = -1;
  let badTo = -1;
  const flushBad = (): void => {
    if (badFrom < 0) return;
    const more = badTo - badFrom;
    report(userDataError(lineLocation(prefix, badFrom + 1),
      more > 0 ? `${EXPECTED} (and ${more} more line${more > 1 ? "s" : ""} like it, up to line ${badTo + 1})` : EXPECTED));
    badFrom = -1;
  };

  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    const text = line.trimStart();
    if (text === "" || text.startsWith("#")) {
      flushBad();
      continue;
    }
    const location = lineLocation(prefix, i + 1);
    const heredoc = HEREDOC.exec(line);
    const assignment = heredoc ? null : ASSIGNMENT.exec(line);
    const m = heredoc ?? assignment;
    if (!m) {
      if (badFrom < 0) badFrom = i;
      badTo = i;
      continue;
    }
    flushBad();
    const path = m[1]!;
    const append = m[2] === "[]";
    const bad = keyProblem(path);
    let value: string;
    if (heredoc) {
      const tag = heredoc[4]!;
      let close = -1;
      for (let j = i + 1; j < to; j++) {
        if (lines[j]!.trimEnd() === tag) {
          close = j;
          break;
        }
      }
      if (close < 0) {
        report(userDataError(location, `heredoc "${path}${append ? "[]" : ""} <<${tag}" has no closing line "${tag}": expected a line "${tag}" after the value`));
        break;
      }
      const body = lines.slice(i + 1, close).map((l) => l.replace(/\r$/, ""));
      value = body.join("\n") + "\n";
      if (value.trim() === "") value = "";
      i = close;
    } else {
      value = assignment![3]!.trim();
    }
    if (bad) {
      report(userDataError(location, bad));
      continue;
    }
    entries.push({ key: append ? `${path}[]` : path, path, append, value, location, heredoc: heredoc !== null });
  }
  flushBad();
  return entries;
}
