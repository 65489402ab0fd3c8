// The vacuum pipe contract (vacuum-platform.md section 6): validatePipe() checks a pipe document the
// way Vac 03.00 and Vcycle 03.00 read it and reports every problem with its path, its severity and
// what each implementation does with it. Shared by the manager (before publishing, and for
// `manager validate FILE.pipe`) and the agent side. Pure: no I/O, never throws.

import { decodeUtf8, parseJsonText, positionOf, type JsonNode } from "./pipe/json-text.ts";
import { checkMachinetype } from "./pipe/machinetype.ts";
import { childPath, EFFECT, pipeProblem, TOP_LEVEL, type PipeProblem } from "./pipe/pipe-problem.ts";
import { isAscii, pyFloatStr, pyInt, pyRepr } from "./pipe/python-str.ts";

export type { Implementation, PipeProblem } from "./pipe/pipe-problem.ts";
export { formatPipeProblem, pipeHasErrors, TOP_LEVEL } from "./pipe/pipe-problem.ts";

export interface PipeValidation {
  problems: PipeProblem[];
  /** The lower-cased suffix of each machinetype (null where both readers skip it); null when there is no machinetypes array. */
  suffixes: (string | null)[] | null;
}

/** Default and sensible range of cache_seconds (section 6.5, item 1). */
export const DEFAULT_CACHE_SECONDS = 3600;
const MAX_SENSIBLE_CACHE_SECONDS = 86400;

export function validatePipe(input: string | Uint8Array): PipeValidation {
  const problems: PipeProblem[] = [];
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    const decoded = decodeUtf8(input);
    if (!decoded.ok) {
      problems.push(notJson(`not JSON: ${decoded.message} (Python's json.loads raises)`));
      return { problems, suffixes: null };
    }
    text = decoded.text;
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    const bom = text.charCodeAt(0) === 0xfeff ? " (a UTF-8 byte-order mark: Python 2's json.loads rejects it)" : "";
    problems.push(notJson(`not JSON: line ${parsed.at.line} column ${parsed.at.column}: ${parsed.message}${bom}`));
    return { problems, suffixes: null };
  }
  const root = parsed.root;
  nonStandardNumbers(root, "", problems);
  if (root.kind !== "object") {
    const poisoned = "cached anyway, then every later read raises before the refresh: the pipe stays dead until an admin deletes the cache file";
    problems.push(
      pipeProblem("error", TOP_LEVEL, `expected a JSON object at the top level, got ${root.kind === "array" ? "an array" : pyRepr(root)}: this permanently poisons every site's pipe cache`, {
        vac: poisoned,
        vcycle: `${poisoned}; every cycle fails for every space`,
      }),
    );
    asciiOnly(text, root, problems);
    return { problems, suffixes: null };
  }

  const top = new Map<string, JsonNode>();
  for (const e of root.entries) {
    if (top.has(e.key)) problems.push(pipeProblem("warning", childPath("", e.key), "the key appears more than once: Python's json keeps the last value"));
    top.set(e.key, e.value);
    if (e.key !== "cache_seconds" && e.key !== "machinetypes") {
      problems.push(pipeProblem("warning", childPath("", e.key), "unknown top-level key: only cache_seconds and machinetypes are read", { vac: "ignored", vcycle: "ignored" }));
    }
  }
  cacheSecondsRule(top.get("cache_seconds"), problems);
  const suffixes = machinetypesRule(top.get("machinetypes"), problems);
  asciiOnly(text, root, problems);
  return { problems, suffixes };
}

function notJson(what: string): PipeProblem {
  return pipeProblem("error", TOP_LEVEL, what, {
    vac: "the pipe is skipped this cycle: its machinetypes vanish and the cached copy is not used",
    vcycle: EFFECT.vcycleCycleSkipped,
  });
}

/** readPipe: `cacheSeconds = int(pipeDict['cache_seconds'])` on the JSON value itself (no str()), 3600 on any exception. */
function cacheSecondsRule(node: JsonNode | undefined, out: PipeProblem[]): void {
  const path = "cache_seconds";
  const both = (what: string): Record<"vac" | "vcycle", string> => ({ vac: what, vcycle: what });
  if (!node) {
    out.push(pipeProblem("warning", path, `not given: both readers use ${DEFAULT_CACHE_SECONDS}; publish it as a JSON integer`));
    return;
  }
  let seconds: number | null = null;
  let what = "";
  switch (node.kind) {
    case "number":
      if (!Number.isFinite(node.value)) what = `${node.text}: int() raises`;
      else {
        seconds = Math.trunc(node.value);
        if (node.float) what = `${node.text} is not an integer: int() truncates it to ${seconds}`;
      }
      break;
    case "string":
      seconds = pyInt(node.value);
      what = seconds === null ? `${JSON.stringify(node.value)}: int() raises` : `a string, not a JSON integer: int(${JSON.stringify(node.value)}) is ${seconds}`;
      break;
    case "boolean":
      seconds = node.value ? 1 : 0;
      what = `${pyRepr(node)} is not an integer: int(${pyRepr(node)}) is ${seconds}`;
      break;
    default:
      what = `${node.kind === "null" ? "null" : `an ${node.kind}`}: int() raises`;
  }
  if (seconds === null) {
    out.push(pipeProblem("warning", path, `expected a JSON integer, got ${what}`, both(`uses ${DEFAULT_CACHE_SECONDS}`)));
    return;
  }
  if (what) out.push(pipeProblem("warning", path, `expected a JSON integer, got ${what}`, both(`uses ${seconds}`)));
  if (seconds <= 0) {
    out.push(pipeProblem("warning", path, `cache_seconds ${seconds}: every site fetches the pipe again every cycle (about every 60 s)`, both("refetches every cycle")));
  } else if (seconds > MAX_SENSIBLE_CACHE_SECONDS) {
    out.push(pipeProblem("warning", path, `cache_seconds ${seconds}: a fix to this pipe takes up to ${seconds} s to reach the sites`, both(`keeps its cached copy for ${seconds} s`)));
  }
}

function machinetypesRule(node: JsonNode | undefined, out: PipeProblem[]): (string | null)[] | null {
  const path = "machinetypes";
  if (!node) {
    out.push(pipeProblem("error", path, "required: no machinetypes array", { vac: "the pipe is ignored (no machinetypes)", vcycle: `KeyError: ${EFFECT.vcycleCycleSkipped}, until the cached copy expires` }));
    return null;
  }
  if (node.kind !== "array") {
    const iterates = node.kind === "object" || node.kind === "string";
    const got = node.kind === "object" ? "an object" : pyRepr(node);
    out.push(
      pipeProblem("error", path, `expected an array of machinetype objects, got ${got}`, iterates
        ? { vac: `iterates its ${node.kind === "object" ? "keys" : "characters"}: every entry is skipped`, vcycle: `iterates its ${node.kind === "object" ? "keys" : "characters"}: every entry is skipped` }
        : { vac: `iterating it raises TypeError: ${EFFECT.vacCycleDies}`, vcycle: EFFECT.vcycleCycleSkipped }),
    );
    return null;
  }
  if (node.items.length === 0) {
    out.push(pipeProblem("error", path, "an empty machinetypes array: nothing is published", { vac: "no machinetypes from this pipe", vcycle: `a space with no other machinetype fails with "No machinetypes defined": ${EFFECT.vcycleCycleSkipped}` }));
    return [];
  }
  const suffixes: (string | null)[] = [];
  const firstWith = new Map<string, number>();
  let total = 0;
  node.items.forEach((item, i) => {
    const at = childPath(path, i);
    const facts = checkMachinetype(item, at, out);
    suffixes.push(facts.suffix);
    if (facts.share !== null) total += facts.share;
    if (facts.suffix === null) return;
    const first = firstWith.get(facts.suffix);
    if (first === undefined) {
      firstWith.set(facts.suffix, i);
      return;
    }
    const merged = `merges it into ${childPath(path, first)} (same machinetype name): values already set win, so this type's own settings are mostly lost`;
    out.push(pipeProblem("error", childPath(at, "suffix"), `duplicate suffix ${JSON.stringify(facts.suffix)} (after lower-casing), also used by ${childPath(path, first)}`, { vac: merged, vcycle: merged }));
  });
  if (total <= 0) out.push(pipeProblem("warning", path, "no machinetype has a positive target_share: nothing in this pipe is ever started"));
  return suffixes;
}

/** NaN and Infinity: Python's json accepts them, other JSON readers (and int()) do not. */
function nonStandardNumbers(node: JsonNode, path: string, out: PipeProblem[]): void {
  if (node.kind === "number" && !Number.isFinite(node.value)) {
    out.push(pipeProblem("warning", path || TOP_LEVEL, `${node.text} is not standard JSON (Python's json accepts it, str() makes it "${pyFloatStr(node.value)}"); publish numbers only`));
  } else if (node.kind === "object") {
    for (const e of node.entries) nonStandardNumbers(e.value, childPath(path, e.key), out);
  } else if (node.kind === "array") {
    node.items.forEach((item, i) => nonStandardNumbers(item, childPath(path, i), out));
  }
}

/** Section 6.5 item 1: ASCII-only, keys and values. Where str() raises, the rules above already made it an error. */
function asciiOnly(text: string, root: JsonNode, out: PipeProblem[]): void {
  if (out.some((p) => p.message.includes("non-ASCII"))) return;
  const raw = text.search(/[^\x00-\x7f]/);
  if (raw >= 0) {
    const at = positionOf(text, raw);
    const code = text.codePointAt(raw)!.toString(16).toUpperCase().padStart(4, "0");
    out.push(pipeProblem("warning", TOP_LEVEL, `not ASCII-only: U+${code} at line ${at.line} column ${at.column}; publish ASCII-only JSON (both readers raise on non-ASCII where they str() a value)`));
    return;
  }
  const escaped = firstNonAscii(root, "");
  if (escaped !== null) {
    out.push(pipeProblem("warning", escaped || TOP_LEVEL, "a \\u escape makes this text non-ASCII; publish ASCII-only JSON (both readers raise on non-ASCII where they str() a value)"));
  }
}

function firstNonAscii(node: JsonNode, path: string): string | null {
  if (node.kind === "string") return isAscii(node.value) ? null : path;
  if (node.kind === "array") {
    for (let i = 0; i < node.items.length; i++) {
      const found = firstNonAscii(node.items[i]!, childPath(path, i));
      if (found !== null) return found;
    }
  }
  if (node.kind === "object") {
    for (const e of node.entries) {
      const at = childPath(path, e.key);
      if (!isAscii(e.key)) return at;
      const found = firstNonAscii(e.value, at);
      if (found !== null) return found;
    }
  }
  return null;
}
