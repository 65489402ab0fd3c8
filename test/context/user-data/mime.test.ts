import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../../src/config/problem.ts";
import { isMimeMessage, parseMime } from "../../../src/context/user-data/mime.ts";
import { splitLines } from "../../../src/context/user-data/text.ts";

const LIMIT = 1 << 20;
const mime = (text: string, budget = LIMIT) => parseMime(splitLines(text), { remaining: budget }, LIMIT);
const brief = (ps: readonly Problem[]) => ps.map((p) => [p.severity, p.path, p.message]);
const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString("base64");

describe("isMimeMessage", () => {
  it.each([
    ["Content-Type: multipart/mixed; boundary=x\n\n", true],
    ["MIME-Version: 1.0\nContent-Type: text/plain\n\nhi", true],
    ["From nobody Thu Jan  1 00:00:00 1970\ncontent-type: multipart/mixed; boundary=x\n", true],
    ["X-Header: a\n  folded\nContent-Type: text/plain\n\n", true],
    ["#!/bin/sh\nContent-Type: text/plain\n", false],
    ["#cloud-config\nusers: []\n", false],
    ['{"Content-Type": "x"}', false],
    ["name: value\nother: value\n\nbody", false],
    ["Subject: hello\n\nContent-Type: text/plain\n", false],
    ["", false],
  ])("%j -> %s", (text, expected) => expect(isMimeMessage(splitLines(text))).toBe(expected));
});

describe("parseMime", () => {
  it("reads parts between quoted, bare and case-insensitive boundaries, ignoring preamble, padding and epilogue", () => {
    for (const header of ['Content-Type: multipart/mixed; boundary="b b"', "content-type: MULTIPART/MIXED;BOUNDARY=\"b b\"", "Content-Type: multipart/mixed;\n\tboundary=\"b b\"; charset=x"]) {
      const r = mime(`${header}\n\npreamble\n--b b\nContent-Type: text/plain\n\none\n--b b   \n\ntwo\n\n--b b--\nepilogue\n--b b\nContent-Type: text/never\n\n`);
      expect(r.parts).toEqual([
        { index: 1, contentType: "text/plain", body: "one" },
        { index: 2, contentType: "text/plain", body: "two\n" },
      ]);
      expect(r.problems).toEqual([]);
    }
    const bare = mime("Content-Type: multipart/mixed; boundary=simple\n\n--simple\n\nx\n--simple--\n");
    expect(bare.parts.map((p) => p.body)).toEqual(["x"]);
  });

  it("reads CRLF messages the same as LF ones", () => {
    const lf = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n--b--\n";
    expect(mime(lf.replace(/\n/g, "\r\n"))).toEqual(mime(lf));
    expect(mime(lf).parts[0]!.body).toBe("#!/bin/sh\necho hi");
  });

  it("flattens nested multiparts in order and numbers the leaves", () => {
    const r = mime([
      "Content-Type: multipart/mixed; boundary=o", "", "--o", "Content-Type: text/a", "", "1",
      "--o", "Content-Type: multipart/alternative; boundary=i", "", "--i", "Content-Type: text/b", "", "2",
      "--i", "Content-Type: multipart/mixed; boundary=j", "", "--j", "Content-Type: text/c", "", "3", "--j--",
      "--i--", "--o", "Content-Type: text/d", "", "4", "--o--",
    ].join("\n"));
    expect(r.parts.map((p) => [p.index, p.contentType, p.body])).toEqual([[1, "text/a", "1"], [2, "text/b", "2"], [3, "text/c", "3"], [4, "text/d", "4"]]);
    expect(r.problems).toEqual([]);
  });

  it("a boundary that is a prefix of another does not split the inner part", () => {
    const r = mime("Content-Type: multipart/mixed; boundary=ab\n\n--ab\nContent-Type: text/plain\n\n--abc is text\n--ab--\n");
    expect(r.parts.map((p) => p.body)).toEqual(["--abc is text"]);
  });

  it("decodes base64, quoted-printable, gzip inside base64 and charsets; takes the filename", () => {
    const r = mime([
      "Content-Type: multipart/mixed; boundary=b", "",
      "--b", "Content-Type: text/x-vacuum-agent", "Content-Transfer-Encoding: BASE64", 'Content-Disposition: attachment; filename="agent;1.conf"', "",
      ...b64("version = 1\n").match(/.{1,8}/g)!, "",
      "--b", "Content-Type: text/plain", "Content-Transfer-Encoding: quoted-printable", "", "a=3Db =\n c=C3=A9 = d", "",
      "--b", "Content-Type: application/x-gzip", "Content-Transfer-Encoding: base64", "", b64(gzipSync("inflated\n")), "",
      "--b", "Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: base64", "", b64(new Uint8Array([0x63, 0x61, 0x66, 0xe9])), "",
      "--b", "Content-Type: text/plain", "Content-Transfer-Encoding: 8bit", "", "déjà", "--b--",
    ].join("\n"));
    expect(r.parts.map((p) => p.body)).toEqual(["version = 1\n", "a=b  cé = d\n", "inflated\n", "café", "déjà"]);
    expect(r.parts[0]!.filename).toBe("agent;1.conf");
    expect(r.problems).toEqual([]);
    expect(r.unreadable.size).toBe(0);
  });

  it.each([
    {
      name: "no boundary parameter and no delimiter line",
      text: "Content-Type: multipart/mixed\n\nplain body\n",
      problems: [["error", "MIME", 'Content-Type multipart/mixed has no boundary parameter: expected multipart/mixed; boundary="..."']],
      bodies: [],
    },
    {
      name: "a closing delimiter but no part",
      text: "Content-Type: multipart/mixed; boundary=b\n\n--b--\n",
      problems: [["error", "MIME", 'boundary "b" never starts a part: expected a line "--b" before each part of the multipart/mixed message']],
      bodies: [],
    },
    {
      name: "a nested multipart without its closing delimiter",
      text: "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n\nin\n--o\n\nout\n--o--\n",
      problems: [["warning", "MIME", 'no closing delimiter "--i--": the last part runs to the end of the enclosing part']],
      bodies: ["in", "out"],
    },
    {
      name: "bad base64 (cut short)",
      text: "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\nQUJDR\n--b--\n",
      problems: [["error", "part 1", "Content-Transfer-Encoding base64, but the body is not valid base64: the data is cut short (its length is not a multiple of 4)"]],
      bodies: [""],
    },
    {
      name: "binary content in a base64 part",
      text: `Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${b64(new Uint8Array([0, 1, 2, 255]))}\n--b--\n`,
      problems: [["warning", "part 1", "4 bytes of binary data (contains NUL bytes): not read as text"]],
      bodies: [""],
    },
    {
      name: "corrupt gzip in a base64 part",
      text: `Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n${b64(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]))}\n--b--\n`,
      problems: [["error", "part 1", "the body is gzip data that cannot be inflated (unexpected end of file)"]],
      bodies: [""],
    },
    {
      name: "an unknown transfer encoding and charset",
      text: "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: x-uuencode\n\nbody\n--b\nContent-Type: text/plain; charset=x-klingon\nContent-Transfer-Encoding: base64\n\naGk=\n--b--\n",
      problems: [
        ["warning", "part 1", 'unknown Content-Transfer-Encoding "x-uuencode": expected 7bit, 8bit, base64 or quoted-printable; the body is read as it is'],
        ["warning", "part 2", 'unknown charset "x-klingon": read as UTF-8'],
      ],
      bodies: ["body", "hi"],
    },
  ])("$name", ({ text, problems, bodies }) => {
    const r = mime(text);
    expect(brief(r.problems)).toEqual(problems);
    expect(r.parts.map((p) => p.body)).toEqual(bodies);
    for (const p of r.problems) expect(p.source).toBe("user_data");
  });

  it("marks parts whose body could not be decoded", () => {
    const r = mime("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nok\n--b\nContent-Transfer-Encoding: base64\n\n!!!!\n--b--\n");
    expect([...r.unreadable]).toEqual([2]);
  });

  it("stops at 10 levels of nesting", () => {
    let text = "";
    for (let d = 0; d < 12; d++) text += `--b${d - 1}\nContent-Type: multipart/mixed; boundary=b${d}\n\n`;
    text = text.replace(/^--b-1\n/, "") + "--b11\n\ndeep\n";
    const r = mime(text);
    expect(r.parts).toEqual([]);
    expect(brief(r.problems)).toContainEqual(["error", "MIME", "multipart/mixed nested more than 10 levels deep: its parts are not read"]);
  });

  it("reads at most 1000 parts and lists at most 100 problems", () => {
    const text = "Content-Type: multipart/mixed; boundary=b\n\n" + "--b\nContent-Transfer-Encoding: x-odd\n\nbody\n".repeat(1500) + "--b--\n";
    const r = mime(text);
    expect(r.parts).toHaveLength(1000);
    expect(r.problems).toHaveLength(101);
    expect(brief(r.problems.slice(0, 1))).toEqual([["error", "MIME", "more than 1000 parts: the parts after part 1000 are not read"]]);
    expect(brief(r.problems.slice(-1))).toEqual([["warning", "", "901 more problems are not listed"]]);
  });

  it("shares one inflation budget between gzip parts", () => {
    const part = b64(gzipSync(Buffer.alloc(600, 0x61)));
    const text = `Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n${part}\n--b\nContent-Transfer-Encoding: base64\n\n${part}\n--b--\n`;
    const r = mime(text, 1000);
    expect(r.parts.map((p) => p.body.length)).toEqual([600, 0]);
    expect(brief(r.problems)).toEqual([["error", "part 2", `the body is gzip data that inflates to more than the ${LIMIT}-byte limit`]]);
  });
});
