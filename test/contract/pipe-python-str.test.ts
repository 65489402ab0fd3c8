// Python 2's str(), int(), float() and `.lower() == 'true'` as Vac and Vcycle apply them to pipe values.
import { describe, expect, it } from "vitest";
import { parseJsonText, type JsonNode } from "../../src/contract/pipe/json-text.ts";
import { pyFloat, pyFloatStr, pyInt, pyIsTrue, pyStr } from "../../src/contract/pipe/python-str.ts";

const node = (text: string): JsonNode => {
  const r = parseJsonText(text);
  if (!r.ok) throw new Error(r.message);
  return r.root;
};

describe("pyStr", () => {
  it.each([
    ["600", "600"],
    ["600.0", "600.0"],
    ["6e2", "600.0"],
    ["1e16", "1e+16"],
    ["0.1", "0.1"],
    ["1.5e-7", "1.5e-07"],
    ["true", "True"],
    ["false", "False"],
    ["null", "None"],
    ['"abc"', "abc"],
    ['[1, "a"]', "[1, u'a']"],
    ['{"k": null}', "{u'k': None}"],
    ["NaN", "nan"],
    ["-Infinity", "-inf"],
  ])("str(%s) is %j", (json, expected) => {
    expect(pyStr(node(json))).toEqual({ ok: true, text: expected });
  });

  it("raises on non-ASCII text", () => {
    expect(pyStr(node('"\\u00e9"'))).toEqual({ ok: false, reason: "non-ascii" });
  });
});

describe("pyInt / pyFloat / pyIsTrue", () => {
  it.each([
    ["600", 600],
    [" 600\n", 600],
    ["+5", 5],
    ["-5", -5],
    ["0600", 600],
    ["600.0", null],
    ["6e2", null],
    ["True", null],
    ["None", null],
    ["", null],
    ["1_000", null],
  ])("int(%j) is %s", (text, expected) => expect(pyInt(text)).toBe(expected));

  it.each([
    ["1.0", 1],
    [" .5 ", 0.5],
    ["1.", 1],
    ["1e3", 1000],
    ["inf", Infinity],
    ["-Infinity", -Infinity],
    ["True", null],
    ["1,5", null],
  ])("float(%j) is %s", (text, expected) => expect(pyFloat(text)).toBe(expected));

  it("float('nan') is NaN", () => expect(pyFloat("nan")).toBeNaN());

  it.each([
    ["true", true, true],
    ["True", true, true],
    ["TRUE", true, true],
    [" true", true, false],
    ["true\n", true, false],
    ["yes", false, false],
    ["1", false, false],
  ])("%j: Vac (strip) %s, Vcycle (no strip) %s", (text, vac, vcycle) => {
    expect(pyIsTrue(text, true)).toBe(vac);
    expect(pyIsTrue(text, false)).toBe(vcycle);
  });

  it.each([
    [600, "600.0"],
    [123456.5, "123456.5"],
    [1e-5, "1e-05"],
    [0, "0.0"],
  ])("str(float %s) is %j", (f, s) => expect(pyFloatStr(f)).toBe(s));
});
