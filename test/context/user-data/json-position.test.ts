import { describe, expect, it } from "vitest";
import { locateJsonError } from "../../../src/context/user-data/json-position.ts";

describe("locateJsonError", () => {
  it.each([
    ['{"a": }', 1, 7, 'expected a value, found "}"'],
    ['{"a": 1,}', 1, 9, 'expected a double-quoted property name, found "}"'],
    ['{"a" 1}', 1, 6, 'expected ":" after the property name, found "1"'],
    ['{\n  "a": [1 2]\n}', 2, 11, 'expected "," or "]" after an array element, found "2"'],
    ['{"a": 1} x', 1, 10, 'unexpected "x" after the JSON value'],
    ['{"a": "secret', 1, 14, "a string never ends: expected a closing '\"'"],
    ['{"a": "line\nbreak"}', 1, 12, "a string runs past the end of its line: expected a closing '\"'"],
    ['{"a": "\\x"}', 1, 8, "an invalid escape sequence in a string"],
    ['{"a": -}', 1, 7, "expected a number"],
    ['{"a": nul}', 1, 7, 'expected a value, found "n"'],
    ["{", 1, 2, 'expected a double-quoted property name or "}", found the end of the text'],
    ['{"a": [1,]}', 1, 10, 'expected a value, found "]"'],
  ])("%j: line %i column %i", (text, line, column, message) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(locateJsonError(text)).toEqual({ line, column, message });
  });

  it.each([['{"a": [1, -2.5e3, true, false, null, {"b": "\\u00e9\\n"}], "c": {}}'], ["  {}  \n"], ["[]"]])("%j is valid", (text) => {
    expect(locateJsonError(text)).toBeNull();
  });

  it("copes with deep nesting without recursion", () => {
    const deep = "[".repeat(200_000);
    expect(locateJsonError(deep)).toEqual({ line: 1, column: 200_001, message: 'expected a value or "]", found the end of the text' });
  });

  it("never quotes string contents", () => {
    const err = locateJsonError('{"key": "hunter2-secret" "x": 1}');
    expect(err?.message).toBe('expected "," or "}" after a property value, found "\\""');
  });
});
