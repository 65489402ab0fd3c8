import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../../src/config/problem.ts";
import type { UserDataResult } from "../../../src/context/types.ts";
import { parseUserData, USER_DATA_MAX_BYTES } from "../../../src/context/user-data/parse.ts";

const FIXTURES = "test/fixtures/user-data";
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(`${FIXTURES}/${name}`));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const brief = (ps: readonly Problem[]) => ps.map((p) => ({ severity: p.severity, path: p.path, message: p.message, code: p.code }));

const NO_DOCUMENT = {
  severity: "error",
  path: "",
  message: "no vacuum-agent configuration found: expected a text/x-vacuum-agent MIME part or a -----BEGIN VACUUM-AGENT CONFIG----- block",
  code: 600,
} as const;
const CVMFS_PROXY = "http://10.1.0.5:280|http://10.1.0.6:280;http://squid.example.org:3128";
const BAD_PATTERN = '##user_data_Bad## was not substituted: Vac and Vcycle neither fill nor remove a name with upper case, "-" or "."; use only a-z, 0-9 and _ in pattern names';

interface Row {
  name: string;
  input: () => Uint8Array;
  expected: Partial<UserDataResult>;
  problems: ReturnType<typeof brief>;
}

const rows: Row[] = [
  {
    name: "CernVM-style multipart: cloud-config, ucernvm, shell script, agent part with a heredoc proxy",
    input: () => fixture("cernvm-multipart.user_data"),
    expected: {
      format: "mime",
      documentLocation: "part 4 (text/x-vacuum-agent)",
      document: {
        version: "1",
        payload: { type: "dirac", dirac: { queue: "default", extra_options: "-o /LocalSite/SubmitPool=Test --cert=a=b" } },
        cvmfs: { repositories: ["lhcb.cern.ch", "grid.cern.ch"] },
      },
    },
    problems: [],
  },
  {
    name: "base64 part (CRLF, folded Content-Disposition) after a quoted-printable part",
    input: () => fixture("base64-part.user_data"),
    expected: {
      format: "mime",
      documentLocation: "part 2 (text/x-vacuum-agent)",
      document: { version: "1", payload: { type: "command", command: { path: "/bin/true" } } },
      vacuumValues: { user_data_space: "vcycle01.example.org" },
    },
    problems: [],
  },
  {
    name: "nested multipart under a From line, bare upper-case boundary parameter",
    input: () => fixture("nested-multipart.user_data"),
    expected: {
      format: "mime",
      documentLocation: "part 3 (text/x-vacuum-agent)",
      document: { version: "1", payload: { type: "command", command: { path: "/bin/true" } } },
      vacuumValues: { user_data_machinetype: "atlas-vm" },
    },
    problems: [],
  },
  {
    name: "shell script with the marker block in a no-op heredoc",
    input: () => fixture("shell-heredoc.user_data"),
    expected: {
      format: "shell",
      documentLocation: "lines 6-14",
      document: { version: "1", payload: { type: "dirac", command: { env: { FOO: 'bar=baz; echo "quoted | piped"' } } } },
      vacuumValues: {
        user_data_space: "vac02.example.org",
        user_data_machinetype: "dirac-vm",
        user_data_option_dirac_queue: "default",
        user_data_option_cvmfs_proxy: "DIRECT",
      },
    },
    problems: [],
  },
  {
    name: "gzip-compressed shell script",
    input: () => fixture("shell-heredoc.user_data.gz"),
    expected: { format: "shell", size: 326, documentLocation: "lines 6-14" },
    problems: [],
  },
  {
    name: "JSON document: user_data_* strings move to vacuumValues, empty ones are not set",
    input: () => fixture("document.json"),
    expected: {
      format: "json",
      documentLocation: "whole user_data",
      document: {
        version: 1,
        payload: { type: "command", command: { path: "/bin/echo", args: ["hello", "world"], env: {} } },
        lifecycle: { heartbeat_seconds: 300 },
      },
      vacuumValues: { user_data_space: "vcycle02.example.org", user_data_machinetype: "cms-vm" },
    },
    problems: [],
  },
  {
    name: "an HTML 404 page (Vac does not check the template's HTTP status)",
    input: () => fixture("html-404.user_data"),
    expected: { format: "plain", documentLocation: null, document: null, vacuumValues: {}, entries: [] },
    problems: [NO_DOCUMENT],
  },
  {
    name: "binary garbage",
    input: () => fixture("binary-garbage.bin"),
    expected: { format: "binary", size: 256, parts: [], documentLocation: null, document: null },
    problems: [{
      severity: "error", path: "", code: 600,
      message: "256 bytes of binary data (contains NUL bytes): expected text: a MIME multipart message, a shell script, #cloud-config or a vacuum-agent configuration",
    }],
  },
  {
    name: "rendered document with an empty value and an unsubstituted ##user_data_Bad##",
    input: () => fixture("rendered-empty-and-bad.user_data"),
    expected: {
      format: "mime",
      documentLocation: "part 1 (text/x-vacuum-agent)",
      document: { version: "1", payload: { type: "dirac" } },
      vacuumValues: { user_data_space: "vac03.example.org" },
    },
    problems: [
      { severity: "warning", path: "part 1 (text/x-vacuum-agent) line 6", message: `${BAD_PATTERN}; "payload.dirac.queue" is treated as not set`, code: undefined },
      { severity: "warning", path: "part 2 (text/x-shellscript) line 2", message: BAD_PATTERN, code: undefined },
    ],
  },
  {
    name: "MIME without a boundary parameter: read with the first delimiter line, but an error",
    input: () => fixture("mime-no-boundary.user_data"),
    expected: { format: "mime", documentLocation: "part 1 (text/x-vacuum-agent)", document: { version: "1" } },
    problems: [{
      severity: "error", path: "MIME", code: 600,
      message: 'Content-Type multipart/mixed has no boundary parameter: expected multipart/mixed; boundary="..."; the parts were read as if boundary="guessme", from the first line that starts with "--"',
    }],
  },
  {
    name: "MIME whose boundary never appears",
    input: () => fixture("mime-boundary-missing.user_data"),
    expected: { format: "mime", parts: [], documentLocation: null, document: null },
    problems: [
      { severity: "error", path: "MIME", code: 600, message: 'boundary "expected" never starts a part: expected a line "--expected" before each part of the multipart/mixed message' },
      NO_DOCUMENT,
    ],
  },
  {
    name: "MIME without a closing delimiter: a warning, the document is still read",
    input: () => fixture("mime-unclosed.user_data"),
    expected: { format: "mime", documentLocation: "part 1 (text/x-vacuum-agent)", document: { version: "1" }, vacuumValues: { user_data_space: "vac04.example.org" } },
    problems: [{ severity: "warning", path: "MIME", code: undefined, message: 'no closing delimiter "--b--": the last part runs to the end of the user_data' }],
  },
  {
    name: "MIME agent part with bad base64: found but unreadable",
    input: () => fixture("mime-bad-base64.user_data"),
    expected: { format: "mime", documentLocation: "part 2 (text/x-vacuum-agent)", document: null },
    problems: [{ severity: "error", path: "part 2", code: 600, message: "Content-Transfer-Encoding base64, but the body is not valid base64: unexpected character on line 2 of the part body" }],
  },
  {
    name: "empty user_data",
    input: () => text(" \n\t\n"),
    expected: { format: "empty", size: 4, parts: [], documentLocation: null, document: null },
    problems: [NO_DOCUMENT],
  },
  {
    name: "a whole user_data that is one marker block",
    input: () => text("-----BEGIN VACUUM-AGENT CONFIG-----\nversion = 1\n-----END VACUUM-AGENT CONFIG-----\n"),
    expected: { format: "agent-document", documentLocation: "lines 1-3", document: { version: "1" } },
    problems: [],
  },
  {
    name: "#cloud-config with a marker block inside a write_files content",
    input: () => text("#cloud-config\nwrite_files:\n  - path: /etc/x\n    content: |\n      -----BEGIN VACUUM-AGENT CONFIG-----\n      version = 1\n      -----END VACUUM-AGENT CONFIG-----\n"),
    expected: { format: "cloud-config", documentLocation: "lines 5-7", document: { version: "1" } },
    problems: [],
  },
  {
    name: "a marker block that never ends",
    input: () => text("#!/bin/sh\n-----BEGIN VACUUM-AGENT CONFIG-----\nversion = 1\n"),
    expected: { format: "shell", documentLocation: "line 2", document: null },
    problems: [{ severity: "error", path: "line 2", code: 600, message: "-----BEGIN VACUUM-AGENT CONFIG----- without a matching -----END VACUUM-AGENT CONFIG----- line" }],
  },
  {
    name: "two documents: the first is used, the second is an error naming both",
    input: () => text([
      "Content-Type: multipart/mixed; boundary=b", "", "--b", "Content-Type: text/x-vacuum-agent", "", "version = 1",
      "--b", "Content-Type: text/x-shellscript", "", "#!/bin/sh", "-----BEGIN VACUUM-AGENT CONFIG-----", "version = 2",
      "-----END VACUUM-AGENT CONFIG-----", "--b--", "",
    ].join("\n")),
    expected: { documentLocation: "part 1 (text/x-vacuum-agent)", document: { version: "1" } },
    problems: [{
      severity: "error", path: "part 2 (text/x-shellscript) lines 2-4", code: 600,
      message: "another vacuum-agent configuration; the first is at part 1 (text/x-vacuum-agent): expected exactly one",
    }],
  },
  {
    name: "invalid JSON document: the position, never the text",
    input: () => text('{\n  "user_data_option_hostkey": "-----BEGIN PRIVATE KEY-----",\n  "version": 1,\n}\n'),
    expected: { format: "json", documentLocation: "whole user_data", document: null },
    problems: [{ severity: "error", path: "line 4", code: 600, message: 'invalid JSON at column 1: expected a double-quoted property name, found "}"' }],
  },
  {
    name: "a single-part MIME message (no multipart)",
    input: () => text("Content-Type: text/x-vacuum-agent\nMIME-Version: 1.0\n\nversion = 1\n"),
    expected: { format: "mime", documentLocation: "part 1 (text/x-vacuum-agent)", document: { version: "1" } },
    problems: [],
  },
  {
    name: "not valid UTF-8",
    input: () => new Uint8Array([0x23, 0x21, 0xff, 0xfe, 0x0a]),
    expected: { format: "binary", documentLocation: null },
    problems: [{
      severity: "error", path: "", code: 600,
      message: "5 bytes of binary data (not valid UTF-8): expected text: a MIME multipart message, a shell script, #cloud-config or a vacuum-agent configuration",
    }],
  },
];

describe("parseUserData", () => {
  it.each(rows)("$name", ({ input, expected, problems }) => {
    const result = parseUserData(input());
    expect(result).toMatchObject(expected);
    expect(brief(result.problems)).toEqual(problems);
  });

  it("reads the CernVM fixture's parts, the heredoc proxy and the cvmfs proxy with ; and |", () => {
    const result = parseUserData(fixture("cernvm-multipart.user_data"));
    expect(result.parts.map((p) => [p.index, p.contentType, p.filename])).toEqual([
      [1, "text/cloud-config", "cloud-config"],
      [2, "text/ucernvm", "ucernvm"],
      [3, "text/x-shellscript", "user_data_script"],
      [4, "text/x-vacuum-agent", "vacuum-agent.conf"],
    ]);
    expect(result.parts[0]!.body).toBe(`#cloud-config\ncvmfs:\n  local:\n    CVMFS_REPOSITORIES: grid\n    CVMFS_HTTP_PROXY: '${CVMFS_PROXY}'\n`);
    const proxy = result.vacuumValues.user_data_option_x509_proxy!;
    expect(proxy.startsWith("-----BEGIN CERTIFICATE-----\n")).toBe(true);
    expect(proxy.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
    expect(proxy.match(/-----BEGIN [A-Z ]+-----/g)).toEqual(["-----BEGIN CERTIFICATE-----", "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN CERTIFICATE-----"]);
    expect(proxy.split("\n").every((l) => l === "" || !l.includes("PROXY"))).toBe(true);
    expect(result.vacuumValues).toMatchObject({
      user_data_option_cvmfs_proxy: CVMFS_PROXY,
      user_data_space: "vac01.example.org",
      user_data_machinefeatures_url: "http://169.254.169.253/machinefeatures",
    });
    expect(result.entries.find((e) => e.key === "user_data_option_x509_proxy")?.location).toBe("part 4 (text/x-vacuum-agent) line 13");
    expect(result.entries.filter((e) => e.key === "cvmfs.repositories[]").map((e) => e.location)).toEqual([
      "part 4 (text/x-vacuum-agent) line 65",
      "part 4 (text/x-vacuum-agent) line 66",
    ]);
  });

  it("lists every entry of the rendered document, empty ones included, with locations", () => {
    const result = parseUserData(fixture("rendered-empty-and-bad.user_data"));
    expect(result.entries).toEqual([
      { key: "version", value: "1", location: "part 1 (text/x-vacuum-agent) line 1" },
      { key: "user_data_space", value: "vac03.example.org", location: "part 1 (text/x-vacuum-agent) line 2" },
      { key: "user_data_uuid", value: "", location: "part 1 (text/x-vacuum-agent) line 3" },
      { key: "user_data_option_dirac_queue", value: "", location: "part 1 (text/x-vacuum-agent) line 4" },
      { key: "payload.type", value: "dirac", location: "part 1 (text/x-vacuum-agent) line 5" },
      { key: "payload.dirac.queue", value: "##user_data_Bad##", location: "part 1 (text/x-vacuum-agent) line 6" },
    ]);
  });

  it("decodes quoted-printable and keeps CRLF-separated parts apart", () => {
    const result = parseUserData(fixture("base64-part.user_data"));
    expect(result.parts[0]!.body).toBe("#!/bin/sh\necho café = ok; echo a very long line that the encoder has wrapped with a soft line break\n");
    expect(result.parts[1]!.filename).toBe("agent.conf");
  });

  it("gives gzip and the text inside it the same result", () => {
    const plain = parseUserData(fixture("shell-heredoc.user_data"));
    const zipped = parseUserData(fixture("shell-heredoc.user_data.gz"));
    expect({ ...zipped, size: 0 }).toEqual({ ...plain, size: 0 });
  });

  it("refuses 10 MB of user_data with exactly one error and no parsing", () => {
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x61);
    const result = parseUserData(big);
    expect(result).toMatchObject({ size: 10485760, parts: [], document: null, documentLocation: null, entries: [] });
    expect(brief(result.problems)).toEqual([{ severity: "error", path: "", code: 600, message: "10485760 bytes, more than the 4194304-byte limit" }]);
  });

  it("accepts exactly the limit", () => {
    expect(USER_DATA_MAX_BYTES).toBe(4194304);
    const body = "#!/bin/sh\n" + "#".repeat(USER_DATA_MAX_BYTES - 11) + "\n";
    const result = parseUserData(text(body));
    expect(result.format).toBe("shell");
    expect(result.problems.map((p) => p.message)).toEqual([NO_DOCUMENT.message]);
  });

  it("caps what gzip may inflate to (a gzip bomb)", () => {
    const bomb = gzipSync(Buffer.alloc(USER_DATA_MAX_BYTES + 1, 0x20));
    const result = parseUserData(new Uint8Array(bomb));
    expect(result.format).toBe("binary");
    expect(brief(result.problems)).toEqual([{
      severity: "error", path: "", code: 600,
      message: `${bomb.length} bytes of gzip data that inflates to more than the 4194304-byte limit`,
    }]);
  });

  it("reports corrupt gzip data", () => {
    const result = parseUserData(new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toMatch(/^7 bytes of gzip data that cannot be inflated \(/);
  });

  it("never puts a secret value in a problem message", () => {
    const secret = "c2VjcmV0LXBvb2wtcGFzc3dvcmQtZG8tbm90LWxlYWs=";
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    const inputs = [
      `-----BEGIN VACUUM-AGENT CONFIG-----\nuser_data_option_pool_password_base64 = ${secret}\nuser_data_option_pool_password_base64 = ${secret}\nuser_data_file_hostkey = ${pem}\n-----END VACUUM-AGENT CONFIG-----\n`,
      `{"user_data_option_pool_password_base64": "${secret}", "x": ${secret}}`,
      `{"user_data_option_pool_password_base64": ["${secret}"]}`,
      `{"user_data_option_pool_password_base64": "${secret}\n"}`,
    ];
    for (const input of inputs) {
      const result = parseUserData(text(input));
      expect(result.problems.length).toBeGreaterThan(0);
      for (const p of result.problems) {
        expect(p.message).not.toContain("c2VjcmV0");
        expect(p.message).not.toContain("MIIEvQ");
      }
    }
  });
});

describe("parseUserData speed", () => {
  const ms = (f: () => void): number => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };

  it.each([
    ["100k line entries", () => "-----BEGIN VACUUM-AGENT CONFIG-----\n" + "options.k = v;|=x\n".repeat(100_000) + "-----END VACUUM-AGENT CONFIG-----\n"],
    ["one 4 MB line", () => "#!/bin/sh\n" + "a".repeat(4_000_000)],
    ["a 4 MB key-like line", () => "-----BEGIN VACUUM-AGENT CONFIG-----\n" + "a.".repeat(2_000_000) + "\n-----END VACUUM-AGENT CONFIG-----\n"],
    ["near-miss patterns", () => "#!/bin/sh\n" + "##user_data_aaaaaaaa#".repeat(190_000)],
    ["a heredoc that never ends", () => "-----BEGIN VACUUM-AGENT CONFIG-----\n" + "k <<EOF\n".repeat(400_000) + "-----END VACUUM-AGENT CONFIG-----\n"],
    ["many delimiter-like lines", () => "Content-Type: multipart/mixed; boundary=b\n\n" + "--bb\n".repeat(800_000)],
    ["a million empty parts", () => "Content-Type: multipart/mixed; boundary=b\n\n" + "--b\n".repeat(1_000_000)],
    ["nothing but bad lines and comments", () => "-----BEGIN VACUUM-AGENT CONFIG-----\n" + "?\n#\n".repeat(1_000_000) + "-----END VACUUM-AGENT CONFIG-----\n"],
  ])("parses %s well under a second", (_name, build) => {
    const input = text(build());
    expect(input.length).toBeLessThanOrEqual(USER_DATA_MAX_BYTES);
    let result: UserDataResult | undefined;
    expect(ms(() => (result = parseUserData(input)))).toBeLessThan(1500);
    expect(result!.problems.length).toBeLessThanOrEqual(102);
  });
});
