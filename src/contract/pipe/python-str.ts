// What Vac and Vcycle (Python 2) do with each pipe value: `str(value)` first, then `int()`,
// `float()` or `.lower() == 'true'` on that text (vacuum-platform.md section 6.2). JSON `600` gives
// "600", `600.0` gives "600.0" (which int() rejects), `true` gives "True", `null` gives "None", and a
// non-ASCII string makes str() raise.

import type { JsonNode } from "./json-text.ts";

export type PyStr = { ok: true; text: string } | { ok: false; reason: "non-ascii" };

const NON_ASCII = /[^\x00-\x7f]/;
/** Python's whitespace for int(), float() and strip(). */
const PY_SPACE = "[ \\t\\n\\r\\v\\f]*";
const INT_TEXT = new RegExp(`^${PY_SPACE}[+-]?[0-9]+${PY_SPACE}$`);
const FLOAT_TEXT = new RegExp(`^${PY_SPACE}[+-]?(?:[0-9]+\\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\\.[0-9]+(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)${PY_SPACE}$`, "i");

export const isAscii = (s: string): boolean => !NON_ASCII.test(s);

/** Python 2 `str(value)` of a parsed JSON value. */
export function pyStr(node: JsonNode): PyStr {
  if (node.kind === "string") return isAscii(node.value) ? { ok: true, text: node.value } : { ok: false, reason: "non-ascii" };
  return { ok: true, text: pyRepr(node, false) };
}

/** Python 2 `int(text)`: the integer, or null where Python raises ValueError. */
export function pyInt(text: string): number | null {
  if (!INT_TEXT.test(text)) return null;
  return Number(BigInt(text.trim()));
}

/** Python 2 `float(text)`: the number, or null where Python raises ValueError. */
export function pyFloat(text: string): number | null {
  if (!FLOAT_TEXT.test(text)) return null;
  const t = text.trim().toLowerCase().replace(/^\+/, "");
  if (t === "nan" || t === "-nan") return NaN;
  if (/^-?inf(inity)?$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  return Number(t);
}

/** Python's `text.strip().lower() == 'true'` (strip: Vac) or `text.lower() == 'true'` (Vcycle). */
export function pyIsTrue(text: string, strip: boolean): boolean {
  const t = strip ? text.replace(new RegExp(`^${PY_SPACE}|${PY_SPACE}$`, "g"), "") : text;
  return t.toLowerCase() === "true";
}

/** Python 2.7 `str(float)`: `'%.12g'`, plus ".0" when that looks like an integer. */
export function pyFloatStr(f: number): string {
  if (Number.isNaN(f)) return "nan";
  if (!Number.isFinite(f)) return f > 0 ? "inf" : "-inf";
  if (f === 0) return Object.is(f, -0) ? "-0.0" : "0.0";
  const exp = Math.floor(Math.log10(Math.abs(Number(f.toPrecision(12)))));
  let s: string;
  if (exp < -4 || exp >= 12) {
    const [mant, e] = f.toExponential(11).split("e") as [string, string];
    const m = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
    const n = Number(e);
    s = `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  } else {
    s = f.toFixed(Math.max(0, 11 - exp));
    if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  }
  return /[.en]/.test(s) ? s : `${s}.0`;
}

/** Python 2 repr()/str() of a JSON value as json.loads returns it (unicode strings, ints, floats). */
export function pyRepr(node: JsonNode, nested = true): string {
  switch (node.kind) {
    case "string":
      return nested ? `u${pyQuote(node.value)}` : node.value;
    case "number":
      if (!node.float) return BigInt(node.text).toString();
      // repr() inside containers uses 17 significant digits; str() uses 12. Only messages show this.
      return pyFloatStr(node.value);
    case "boolean":
      return node.value ? "True" : "False";
    case "null":
      return "None";
    case "array":
      return `[${node.items.map((n) => pyRepr(n)).join(", ")}]`;
    case "object":
      return `{${node.entries.map((e) => `u${pyQuote(e.key)}: ${pyRepr(e.value)}`).join(", ")}}`;
  }
}

function pyQuote(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\" || ch === q) out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c > 0x7f && c <= 0xff) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c > 0xff && c <= 0xffff) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else if (c > 0xffff) out += `\\U${c.toString(16).padStart(8, "0")}`;
    else out += ch;
  }
  return q + out + q;
}
