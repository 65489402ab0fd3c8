// An agent document written as a JSON object. Top-level `user_data_*` keys with string values are
// vacuum values; every other key is the document. Strings that are empty or still hold a
// ##user_data_*## pattern are left out, as in the line format.

import { locateJsonError } from "./json-position.ts";
import type { DocumentOutput } from "./document-output.ts";
import { lineLocation, userDataError } from "./user-data-problem.ts";
import { checkVacuumName, isVacuumKey } from "./vacuum-values.ts";

// JSON.parse copes with any depth; the walk below recurses, so it stops at a depth no
// configuration needs.
const MAX_DEPTH = 32;

const typeName = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`;

interface Walk {
  out: DocumentOutput;
  location: string;
}

/** The kept value, or undefined when nothing of it is set. */
function keep(w: Walk, path: string, value: unknown, depth: number): unknown {
  if (typeof value === "string") return w.out.entry(path, value, w.location) ? value : undefined;
  if (depth > MAX_DEPTH) {
    w.out.report(userDataError(w.location, `"${path}": nested more than ${MAX_DEPTH} levels deep`));
    return undefined;
  }
  if (Array.isArray(value)) {
    const kept = value.map((v) => keep(w, `${path}[]`, v, depth + 1)).filter((v) => v !== undefined);
    return kept.length === 0 && value.length > 0 ? undefined : kept;
  }
  if (value !== null && typeof value === "object") {
    const kept: Record<string, unknown> = {};
    const keys = Object.keys(value);
    for (const key of keys) {
      if (key === "__proto__") {
        w.out.report(userDataError(w.location, `"${path}.__proto__": this key is not allowed`));
        continue;
      }
      const child = keep(w, `${path}.${key}`, (value as Record<string, unknown>)[key], depth + 1);
      if (child !== undefined) kept[key] = child;
    }
    // An object emptied by unset values is not set; an object written empty stays (`"env": {}`).
    return Object.keys(kept).length === 0 && keys.length > 0 ? undefined : kept;
  }
  w.out.entry(path, String(value), w.location);
  return value;
}

/**
 * Reads lines[from, to) as JSON into `out`; returns the document, or null when the text is not a
 * JSON object. Syntax errors point at the line (`part 2 (text/x-vacuum-agent) line 3`).
 */
export function readJsonDocument(
  lines: readonly string[], from: number, to: number, prefix: string, location: string, out: DocumentOutput,
): Record<string, unknown> | null {
  const text = lines.slice(from, to).join("\n");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const err = locateJsonError(text);
    out.report(err
      ? userDataError(lineLocation(prefix, from + err.line), `invalid JSON at column ${err.column}: ${err.message}`)
      : userDataError(location, "invalid JSON"));
    return null;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    out.report(userDataError(location, `expected a JSON object, found ${typeName(parsed)}`));
    return null;
  }
  const w: Walk = { out, location };
  const document: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "__proto__") {
      out.report(userDataError(location, `"__proto__": this key is not allowed`));
    } else if (isVacuumKey(key)) {
      checkVacuumName(key, location, out.report);
      if (typeof value !== "string") {
        out.entries.push({ key, value: JSON.stringify(value), location });
        out.report(userDataError(location, `"${key}": expected a string, found ${typeName(value)}`));
      } else if (out.entry(key, value, location)) {
        out.vacuum.set(key, value, location);
      }
    } else {
      const kept = keep(w, key, value, 1);
      if (kept !== undefined) document[key] = kept;
    }
  }
  return document;
}
