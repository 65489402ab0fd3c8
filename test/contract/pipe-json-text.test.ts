// The pipe's JSON reader: what Python 2's json.loads accepts and rejects, with number spellings,
// duplicate keys and positions kept.
import { describe, expect, it } from "vitest";
import { decodeUtf8, parseJsonText, toValue, type JsonNode } from "../../src/contract/pipe/json-text.ts";

const root = (text: string): JsonNode => {
  const r = parseJsonText(text);
  if (!r.ok) throw new Error(`not parsed: ${r.message}`);
  return r.root;
};

describe("parseJsonText", () => {
  it.each([
    ["600", false, 600],
    ["600.0", true, 600],
    ["6e2", true, 600],
    ["-0", false, -0],
    ["1E400", true, Infinity],
    ["NaN", true, NaN],
    ["Infinity", true, Infinity],
    ["-Infinity", true, -Infinity],
  ])("keeps the spelling of %s (float: %s)", (text, float, value) => {
    const n = root(text);
    expect(n).toMatchObject({ kind: "number", text, float });
    expect((n as { value: number }).value).toBe(value);
  });

  it.each([
    ["", /empty document/, 1, 1],
    ["{}x", /extra data/, 1, 3],
    ["[1,]", /expected a JSON value/, 1, 4],
    ['{"a": 1,}', /property name/, 1, 9],
    ["01", /extra data/, 1, 2],
    ["1.", /extra data/, 1, 2],
    ['"a\tb"', /control character/, 1, 3],
    ['"\\x"', /invalid escape/, 1, 2],
    ['"\\u12"', /four hex digits/, 1, 2],
    ["\ufeff{}", /expected a JSON value, found U\+FEFF/, 1, 1],
    ["{\n  'a': 1}", /property name in double quotes/, 2, 3],
    ["tru", /expected a JSON value/, 1, 1],
    ["-", /expected a JSON value/, 1, 1],
  ])("rejects %j as Python does", (text, message, line, column) => {
    const r = parseJsonText(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(message);
      expect(r.at).toEqual({ line, column });
    }
  });

  it("keeps every duplicate key, and toValue keeps the last (Python's dict)", () => {
    const n = root('{"a": 1, "a": 2}');
    expect(n.kind === "object" && n.entries.map((e) => e.key)).toEqual(["a", "a"]);
    expect(toValue(n)).toEqual({ a: 2 });
  });

  it("keeps a key named __proto__ as a plain key", () => {
    const v = toValue(root('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("decodes escapes, surrogates included", () => {
    expect(toValue(root('["\\u00e9", "\\ud83d\\ude00", "\\/"]'))).toEqual(["é", "😀", "/"]);
  });

  it("records where each value starts", () => {
    const n = root('{\n  "machinetypes": [\n    {"suffix": 5}\n  ]\n}');
    const mts = n.kind === "object" ? n.entries[0]!.value : n;
    const mt = mts.kind === "array" ? mts.items[0]! : mts;
    expect(mt.at).toEqual({ line: 3, column: 5 });
  });
});

describe("decodeUtf8", () => {
  it("keeps a byte-order mark, which json.loads then rejects", () => {
    const r = decodeUtf8(Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]));
    expect(r).toEqual({ ok: true, text: "\ufeff{}" });
  });

  it("rejects invalid UTF-8", () => {
    expect(decodeUtf8(Uint8Array.from([0x22, 0xc3, 0x22])).ok).toBe(false);
  });
});
