import { describe, expect, it } from "vitest";
import { decodeBase64, decodeQuotedPrintable } from "../../../src/context/user-data/transfer-encoding.ts";

const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);

describe("decodeBase64", () => {
  it.each([
    ["aGVsbG8=", "hello"],
    ["aGVs\r\nbG8=\r\n", "hello"],
    ["  aGVs bG8=  \n\n", "hello"],
    ["aGVsbG8", "hello"],
    ["", ""],
  ])("%j -> %j", (body, expected) => {
    const d = decodeBase64(body);
    expect(d.ok && utf8(d.bytes)).toBe(expected);
  });

  it.each([
    ["aGVs\nbG8*\n", "not valid base64: unexpected character on line 2 of the part body"],
    ["aGVsbG8=\naGVs", "not valid base64: unexpected character on line 2 of the part body"],
    ["aGVsb===", "not valid base64: unexpected character on line 1 of the part body"],
    ["aGVsb", "not valid base64: the data is cut short (its length is not a multiple of 4)"],
  ])("%j is refused", (body, reason) => expect(decodeBase64(body)).toEqual({ ok: false, reason }));
});

describe("decodeQuotedPrintable", () => {
  it.each([
    ["caf=C3=A9", "café"],
    ["soft=\nbreak", "softbreak"],
    ["soft=  \r\nbreak", "softbreak"],
    ["a=3db", "a=b"],
    ["lone = sign and =ZZ", "lone = sign and =ZZ"],
    ["déjà", "déjà"],
  ])("%j -> %j", (body, expected) => {
    const d = decodeQuotedPrintable(body);
    expect(d.ok && utf8(d.bytes)).toBe(expected);
  });
});
