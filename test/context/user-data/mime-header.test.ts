import { describe, expect, it } from "vitest";
import { parseHeaderValue, readHeaders } from "../../../src/context/user-data/mime-header.ts";

describe("parseHeaderValue", () => {
  it.each([
    ['multipart/mixed; boundary="===123=="', "multipart/mixed", { boundary: "===123==" }],
    ["Multipart/Mixed;BOUNDARY=abc", "multipart/mixed", { boundary: "abc" }],
    ['text/plain; charset="us-ascii"; name="a;b"', "text/plain", { charset: "us-ascii", name: "a;b" }],
    ['attachment; filename="say \\"hi\\".txt"', "attachment", { filename: 'say "hi".txt' }],
    ["base64", "base64", {}],
    ["text/plain; junk; charset=utf-8; charset=latin1", "text/plain", { charset: "utf-8" }],
  ])("%s", (raw, value, params) => {
    const parsed = parseHeaderValue(raw);
    expect(parsed.value).toBe(value);
    expect(Object.fromEntries(parsed.params)).toEqual(params);
  });
});

describe("readHeaders", () => {
  it("unfolds continuation lines, lower-cases names, keeps the first of a name and consumes the blank line", () => {
    const lines = ["Content-Type: multipart/mixed;", '\tboundary="b"', "X-A: 1", "x-a: 2", "Subject : spaced", "", "body"];
    const block = readHeaders(lines, 0, lines.length);
    expect(Object.fromEntries(block.headers)).toEqual({ "content-type": 'multipart/mixed; boundary="b"', "x-a": "1", subject: "spaced" });
    expect(block.bodyStart).toBe(6);
  });

  it("a part whose first line is not a header has no headers", () => {
    expect(readHeaders(["#!/bin/sh", "echo"], 0, 2)).toEqual({ headers: new Map(), bodyStart: 0 });
    expect(readHeaders(["", "body"], 0, 2)).toEqual({ headers: new Map(), bodyStart: 1 });
  });
});
