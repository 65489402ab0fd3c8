// Validates (and normalises) a configuration object against the JSON Schema: coerces the strings
// that the line format yields into the schema's types, fills defaults, and reports every problem
// at its dotted path, e.g. `payload.dirac.queue: expected a non-empty string`. Never throws.

import type { JsonSchema } from "./json-schema.ts";

export interface SchemaProblem {
  path: string;
  message: string;
  severity: "error" | "warning";
}

export interface Validated {
  value: unknown;
  problems: SchemaProblem[];
}

const TRUE_WORDS = new Set(["true", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["false", "no", "off", "0"]);

export function validate(schema: JsonSchema, input: unknown): Validated {
  const problems: SchemaProblem[] = [];
  const value = check(schema, input, "", problems);
  return { value, problems };
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 37) + "..." : v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}

function check(s: JsonSchema, v: unknown, path: string, out: SchemaProblem[]): unknown {
  const at = path || "(top level)";
  const fail = (message: string): undefined => {
    out.push({ path: at, message, severity: "error" });
    return undefined;
  };
  switch (s.type) {
    case "object": {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(`expected an object, got ${show(v)}`);
      const obj = v as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(obj)) {
        const childPath = path ? `${path}.${key}` : key;
        const prop = s.properties?.[key];
        if (prop) {
          const checked = check(prop, child, childPath, out);
          if (checked !== undefined) result[key] = checked;
        } else if (typeof s.additionalProperties === "object") {
          const checked = check(s.additionalProperties, child, childPath, out);
          if (checked !== undefined) result[key] = checked;
        } else if (s.additionalProperties === false) {
          // A key this version does not know: a warning (ignition), so that a newer template still
          // runs on an older agent, but never silent.
          const known = Object.keys(s.properties ?? {}).join(", ");
          out.push({ path: childPath, message: `unknown key (known here: ${known}); ignored`, severity: "warning" });
        } else {
          result[key] = child;
        }
      }
      for (const req of s.required ?? []) {
        if (!(req in result) && !(req in obj)) {
          const child = s.properties?.[req];
          const expected = child?.enum ? `one of ${child.enum.map((e) => JSON.stringify(e)).join(", ")}` : describeType(child);
          out.push({ path: path ? `${path}.${req}` : req, message: `required: expected ${expected}`, severity: "error" });
        }
      }
      for (const [key, child] of Object.entries(s.properties ?? {})) {
        if (!(key in result) && child.default !== undefined && !(key in obj)) result[key] = structuredClone(child.default);
      }
      return result;
    }
    case "array": {
      let arr = v;
      if (typeof v === "string" && s["x-split"]) arr = v.split(s["x-split"]).map((x) => x.trim()).filter((x) => x !== "");
      if (!Array.isArray(arr)) return fail(`expected ${describeType(s)}, got ${show(v)}`);
      const result: unknown[] = [];
      arr.forEach((item, i) => {
        const checked = s.items ? check(s.items, item, `${path}[${i}]`, out) : item;
        if (checked !== undefined) result.push(checked);
      });
      return result;
    }
    case "string": {
      if (typeof v !== "string") return fail(`expected ${describeType(s)}, got ${show(v)}`);
      if (s.minLength !== undefined && v.length < s.minLength) return fail(`expected ${describeType(s)}`);
      if (s.maxLength !== undefined && v.length > s.maxLength) return fail(`expected at most ${s.maxLength} characters, got ${v.length}`);
      if (s.enum && !s.enum.includes(v)) return fail(`expected one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${s["x-secret"] ? "a value" : show(v)}`);
      if (s.pattern && !new RegExp(s.pattern).test(v)) {
        return fail(`expected ${s["x-expected"] ?? `text matching /${s.pattern}/`}, got ${s["x-secret"] ? `${v.length} characters that do not match` : show(v)}`);
      }
      return v;
    }
    case "integer":
    case "number": {
      let n = v;
      if (typeof v === "string" && v.trim() !== "") n = Number(v.trim());
      if (typeof n !== "number" || !Number.isFinite(n) || (s.type === "integer" && !Number.isInteger(n))) {
        return fail(`expected ${describeType(s)}, got ${show(v)}`);
      }
      if (s.const !== undefined && n !== s.const) return fail(`expected ${JSON.stringify(s.const)}, got ${n}`);
      if (s.minimum !== undefined && n < s.minimum) return fail(`expected at least ${s.minimum}, got ${n}`);
      if (s.maximum !== undefined && n > s.maximum) return fail(`expected at most ${s.maximum}, got ${n}`);
      return n;
    }
    case "boolean": {
      if (typeof v === "boolean") return v;
      if (typeof v === "string") {
        const w = v.trim().toLowerCase();
        if (TRUE_WORDS.has(w)) return true;
        if (FALSE_WORDS.has(w)) return false;
      }
      return fail(`expected true or false (also yes/no, on/off, 1/0), got ${show(v)}`);
    }
    default:
      return v;
  }
}

function describeType(s: JsonSchema | undefined): string {
  switch (s?.type) {
    case "string":
      return s.minLength && s.minLength > 0 ? "a non-empty string" : "a string";
    case "integer":
      return "an integer";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "array":
      return s["x-split"] ? `a list (an array, or text separated by "${s["x-split"]}")` : "an array";
    case "object":
      return "an object";
    default:
      return "a value";
  }
}
