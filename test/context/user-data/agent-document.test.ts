import { describe, expect, it } from "vitest";
import type { Problem } from "../../../src/config/problem.ts";
import { findAgentDocument, NO_DOCUMENT_MESSAGE, type TextPart } from "../../../src/context/user-data/agent-document.ts";
import { splitLines } from "../../../src/context/user-data/text.ts";

const P = "part 1 (text/x-vacuum-agent)";
const at = (line: number): string => `${P} line ${line}`;

/** The body of a text/x-vacuum-agent part, read as the only part of a MIME message. */
function read(body: string) {
  const part: TextPart = { part: { index: 1, contentType: "text/x-vacuum-agent", body }, prefix: P, lines: splitLines(body), unreadable: false };
  return findAgentDocument([part], "mime");
}
const brief = (ps: readonly Problem[]) => ps.map((p) => [p.severity, p.path, p.message]);
const EXPECTED_LINE = 'expected "key = value" or "key <<TAG"';

interface DocumentRow { name: string; body: string; document: unknown }
interface ProblemRow extends DocumentRow { problems: string[][] }

describe("line format", () => {
  it.each<DocumentRow>([
    {
      name: "comments and blank lines are skipped",
      body: "# a comment\n\n   # indented comment\n\t\nversion = 1\n",
      document: { version: "1" },
    },
    {
      name: "the value is the rest after the first =, trimmed, raw ; | quotes and =",
      body: "cvmfs.http_proxy =   http://a:280|http://b:280;DIRECT  \npayload.dirac.extra_options=-o 'x=\"y\"' --a=b\n",
      document: { cvmfs: { http_proxy: "http://a:280|http://b:280;DIRECT" }, payload: { dirac: { extra_options: "-o 'x=\"y\"' --a=b" } } },
    },
    {
      name: "dotted keys nest, key[] appends, every value a string",
      body: "payload.command.env.FOO = bar\npayload.command.args[] = -c\npayload.command.args[] = echo hi\nlifecycle.heartbeat_seconds = 300\n",
      document: { payload: { command: { env: { FOO: "bar" }, args: ["-c", "echo hi"] } }, lifecycle: { heartbeat_seconds: "300" } },
    },
    {
      name: "heredoc: lines joined with \\n plus a final \\n, indentation kept, TAG with trailing spaces",
      body: "credentials.hostcert <<PEM\n-----BEGIN CERTIFICATE-----\n  MIIB\n-----END CERTIFICATE-----\nPEM   \nversion = 1\n",
      document: { credentials: { hostcert: "-----BEGIN CERTIFICATE-----\n  MIIB\n-----END CERTIFICATE-----\n" }, version: "1" },
    },
    {
      name: "heredoc with a quoted TAG and CRLF line ends",
      body: "options.motd <<'EOF'\r\nline one\r\nline two\r\nEOF\r\n",
      document: { options: { motd: "line one\nline two\n" } },
    },
    {
      name: "a heredoc that is only whitespace is empty: not set",
      body: "credentials.hostkey <<EOF\n   \n\nEOF\nversion = 1\n",
      document: { version: "1" },
    },
    {
      name: "empty values are not set, also for key[]",
      body: "identity.site =\nidentity.space = \ncvmfs.repositories[] =\ncvmfs.repositories[] = grid.cern.ch\n",
      document: { cvmfs: { repositories: ["grid.cern.ch"] } },
    },
    {
      name: "a later empty value does not unset an earlier one",
      body: "payload.dirac.queue = default\npayload.dirac.queue =\n",
      document: { payload: { dirac: { queue: "default" } } },
    },
    {
      name: "keys may use letters, digits, _ . and -",
      body: "options.my-key_2.x = y\n",
      document: { options: { "my-key_2": { x: "y" } } },
    },
    {
      name: "a key named like an Object.prototype member is an ordinary key",
      body: "options.constructor.x = 1\noptions.toString = 2\n",
      document: { options: { constructor: { x: "1" }, toString: "2" } },
    },
  ])("$name", ({ body, document }) => {
    const result = read(body);
    expect(result.problems).toEqual([]);
    expect(result.document).toEqual(document);
    expect(result.documentLocation).toBe(P);
  });

  it("user_data_* keys go to vacuumValues, not to the document; empty ones nowhere", () => {
    const result = read("user_data_space = vac01\nuser_data_uuid =\nuser_data_option_vo = lhcb\nversion = 1\n");
    expect(result.vacuumValues).toEqual({ user_data_space: "vac01", user_data_option_vo: "lhcb" });
    expect(result.document).toEqual({ version: "1" });
    expect(result.entries).toEqual([
      { key: "user_data_space", value: "vac01", location: at(1) },
      { key: "user_data_uuid", value: "", location: at(2) },
      { key: "user_data_option_vo", value: "lhcb", location: at(3) },
      { key: "version", value: "1", location: at(4) },
    ]);
  });

  it("keeps every entry as written, with [] and heredoc values", () => {
    const result = read("a[] = 1\na[] =\nb <<X\nv\nX\n");
    expect(result.entries).toEqual([
      { key: "a[]", value: "1", location: at(1) },
      { key: "a[]", value: "", location: at(2) },
      { key: "b", value: "v\n", location: at(3) },
    ]);
  });

  it.each<ProblemRow>([
    {
      name: "a line that is neither form",
      body: "version = 1\nthis is not a setting\n",
      problems: [["error", at(2), EXPECTED_LINE]],
      document: { version: "1" },
    },
    {
      name: "consecutive unreadable lines (a PEM without heredoc) are one problem",
      body: "version = 1\nMIIBIjANBgkq\nhkiG9w0BAQEF\nAAOCAQ8AMIIB\n# comment\n???\n",
      problems: [["error", at(2), `${EXPECTED_LINE} (and 2 more lines like it, up to line 4)`], ["error", at(6), EXPECTED_LINE]],
      document: { version: "1" },
    },
    {
      name: "an unterminated heredoc, at its location; entries before it stay",
      body: "version = 1\ncredentials.hostcert <<PEM\n-----BEGIN CERTIFICATE-----\n",
      problems: [["error", at(2), 'heredoc "credentials.hostcert <<PEM" has no closing line "PEM": expected a line "PEM" after the value']],
      document: { version: "1" },
    },
    {
      name: "a key set twice: warning at the second, the later value wins",
      body: "payload.dirac.queue = a\nversion = 1\npayload.dirac.queue = b\n",
      problems: [["warning", at(3), `"payload.dirac.queue" is also set at ${at(1)}; the later value wins`]],
      document: { payload: { dirac: { queue: "b" } }, version: "1" },
    },
    {
      name: "a vacuum value set twice",
      body: "user_data_space = a\nuser_data_space = b\n",
      problems: [["warning", at(2), `"user_data_space" is also set at ${at(1)}; the later value wins`]],
      document: {},
    },
    {
      name: "a value where a section already is",
      body: "payload.dirac.queue = q\npayload.dirac = x\n",
      problems: [["error", at(2), `"payload.dirac" cannot have a value: it already holds "payload.dirac.queue" (${at(1)})`]],
      document: { payload: { dirac: { queue: "q" } } },
    },
    {
      name: "a section below a value",
      body: "payload = x\npayload.type = dirac\n",
      problems: [["error", at(2), `"payload.type" cannot be set: "payload" already has a value (${at(1)})`]],
      document: { payload: "x" },
    },
    {
      name: "key[] after key =",
      body: "a = 1\na[] = 2\n",
      problems: [["error", at(2), `"a[] =" after "a =" (${at(1)}): use one form for "a"`]],
      document: { a: "1" },
    },
    {
      name: "empty dotted names and __proto__",
      body: "a..b = 1\n.a = 1\n__proto__.polluted = yes\nok = 1\n",
      problems: [
        ["error", at(1), 'key "a..b": expected names separated by single dots'],
        ["error", at(2), 'key ".a": expected names separated by single dots'],
        ["error", at(3), 'key "__proto__.polluted": "__proto__" is not allowed'],
      ],
      document: { ok: "1" },
    },
    {
      name: "deprecated, never-filled and unknown ##user_data_*## names",
      body: "user_data_vmtype = lhcb\nuser_data_manager_jobfeatures_url =\nuser_data_foo = x\nuser_data_file_hostcert <<PEM\nC\nPEM\n",
      problems: [
        ["warning", at(1), "##user_data_vmtype## is deprecated: use ##user_data_machinetype##"],
        ["warning", at(2), "neither Vac nor Vcycle fills ##user_data_manager_jobfeatures_url## (they remove it, leaving it empty): use ##user_data_jobfeatures_url##"],
        ["warning", at(3), "##user_data_foo## is not a name Vac or Vcycle fills"],
        ["warning", at(4), "##user_data_file_hostcert## is deprecated: use ##user_data_option_hostcert## (Vac and Vcycle put the file's contents into both)"],
      ],
      document: {},
    },
    {
      name: "a multi-line name written with = (the PEM's other lines follow)",
      body: "user_data_option_x509_proxy = -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      problems: [
        ["error", at(2), `${EXPECTED_LINE} (and 1 more line like it, up to line 3)`],
        ["error", at(1), '##user_data_option_x509_proxy## is inserted as several lines: write "user_data_option_x509_proxy <<EOF", then the pattern on a line of its own, then "EOF"'],
      ],
      document: {},
    },
    {
      name: "a vacuum value with [] or dots",
      body: "user_data_space[] = a\nuser_data_space.x = b\n",
      problems: [
        ["error", at(1), '"user_data_space[]": a ##user_data_*## value is one string: expected "user_data_<name> = value" without dots or []'],
        ["error", at(2), '"user_data_space.x": a ##user_data_*## value is one string: expected "user_data_<name> = value" without dots or []'],
      ],
      document: {},
    },
    {
      name: "a value that still holds a pattern is not set",
      body: "cvmfs.http_proxy = ##user_data_option_cvmfs_proxy##\nuser_data_space = ##user_data_space##\n",
      problems: [
        ["warning", at(1), '##user_data_option_cvmfs_proxy## was not substituted: Vac and Vcycle replace or remove every such pattern, so this user_data was not rendered by them; "cvmfs.http_proxy" is treated as not set'],
        ["warning", at(2), '##user_data_space## was not substituted: Vac and Vcycle replace or remove every such pattern, so this user_data was not rendered by them; "user_data_space" is treated as not set'],
      ],
      document: {},
    },
  ])("$name", ({ body, problems, document }) => {
    const result = read(body);
    expect(brief(result.problems)).toEqual(problems);
    expect(result.document).toEqual(document);
    for (const p of result.problems) expect(p.code).toBe(p.severity === "error" ? 600 : undefined);
  });

  it("lists at most 100 problems of a flood and counts the rest as one", () => {
    const result = read("?\n#\n".repeat(150));
    expect(result.problems).toHaveLength(101);
    expect(brief(result.problems.slice(-1))).toEqual([["error", "", "50 more problems are not listed"]]);
  });

  it("never repeats a secret value in a problem", () => {
    const key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    const result = read(`user_data_option_hostkey = ${key}\nuser_data_option_pool_password_base64 = cGFzc3dvcmQ=\nuser_data_option_pool_password_base64 = cGFzc3dvcmQ=\n`);
    expect(result.problems.length).toBe(3);
    for (const p of result.problems) expect(p.message).not.toMatch(/MIIEvQ|cGFzc3dvcmQ/);
  });
});

describe("JSON documents", () => {
  it("keeps JSON types, moves top-level user_data_* strings, leaves out empty and unrendered strings", () => {
    const result = read(JSON.stringify({
      version: 1,
      user_data_space: "vac01",
      user_data_uuid: "",
      payload: { type: "dirac", dirac: { queue: "##user_data_option_dirac_queue##", submit_pool: "" } },
      cvmfs: { repositories: ["grid.cern.ch", "", "##user_data_x##"], quota_mb: 4000, strict: true, none: null },
      options: {},
    }, null, 2));
    expect(result.document).toEqual({
      version: 1,
      payload: { type: "dirac" },
      cvmfs: { repositories: ["grid.cern.ch"], quota_mb: 4000, strict: true, none: null },
      options: {},
    });
    expect(result.vacuumValues).toEqual({ user_data_space: "vac01" });
    expect(result.entries.map((e) => [e.key, e.value])).toEqual([
      ["version", "1"],
      ["user_data_space", "vac01"],
      ["user_data_uuid", ""],
      ["payload.type", "dirac"],
      ["payload.dirac.queue", "##user_data_option_dirac_queue##"],
      ["payload.dirac.submit_pool", ""],
      ["cvmfs.repositories[]", "grid.cern.ch"],
      ["cvmfs.repositories[]", ""],
      ["cvmfs.repositories[]", "##user_data_x##"],
      ["cvmfs.quota_mb", "4000"],
      ["cvmfs.strict", "true"],
      ["cvmfs.none", "null"],
    ]);
    expect(result.entries.every((e) => e.location === P)).toBe(true);
    expect(brief(result.problems).map(([s, p]) => [s, p])).toEqual([["warning", P], ["warning", P]]);
  });

  it.each<ProblemRow>([
    { name: "a non-string vacuum value", body: '{"user_data_space": 5}', problems: [["error", P, '"user_data_space": expected a string, found a number']], document: {} },
    { name: "__proto__ keys", body: '{"__proto__": {"x": 1}, "a": {"__proto__": 1}, "b": 1}', problems: [["error", P, '"__proto__": this key is not allowed'], ["error", P, '"a.__proto__": this key is not allowed']], document: { b: 1 } },
    { name: "a syntax error, by line and column", body: '{\n  "version": 1\n  "payload": {}\n}', problems: [["error", at(3), 'invalid JSON at column 3: expected "," or "}" after a property value, found "\\""']], document: null },
    { name: "a truncated document", body: '{"a": [1, 2', problems: [["error", at(1), 'invalid JSON at column 12: expected "," or "]" after an array element, found the end of the text']], document: null },
  ])("$name", ({ body, problems, document }) => {
    const result = read(body);
    expect(brief(result.problems)).toEqual(problems);
    expect(result.document).toEqual(document);
    expect(Object.getPrototypeOf(result.document ?? {})).toBe(Object.prototype);
  });

  it("numbers lines of a JSON block from the text that holds it", () => {
    const body = "#!/bin/sh\n: <<'X'\n-----BEGIN VACUUM-AGENT CONFIG-----\n{\n  \"a\": tru\n}\n-----END VACUUM-AGENT CONFIG-----\nX\n";
    const part: TextPart = { part: { index: 2, contentType: "text/x-shellscript", body }, prefix: "part 2 (text/x-shellscript)", lines: splitLines(body), unreadable: false };
    const result = findAgentDocument([part], "mime");
    expect(result.documentLocation).toBe("part 2 (text/x-shellscript) lines 3-7");
    expect(brief(result.problems)).toEqual([["error", "part 2 (text/x-shellscript) line 5", 'invalid JSON at column 8: expected a value, found "t"']]);
  });
});

describe("finding the document", () => {
  const part = (index: number, contentType: string, body: string, unreadable = false): TextPart =>
    ({ part: { index, contentType, body }, prefix: `part ${index} (${contentType})`, lines: splitLines(body), unreadable });
  const BLOCK = "-----BEGIN VACUUM-AGENT CONFIG-----\nversion = 1\n-----END VACUUM-AGENT CONFIG-----";

  it.each<{ name: string; parts: TextPart[]; location: string | null }>([
    { name: "an agent part", parts: [part(1, "text/cloud-config", "#cloud-config\n"), part(2, "text/x-vacuum-agent", "version = 1")], location: "part 2 (text/x-vacuum-agent)" },
    { name: "a block in a shell part", parts: [part(1, "text/x-shellscript", `#!/bin/sh\n: <<'E'\n  ${BLOCK}  \nE`)], location: "part 1 (text/x-shellscript) lines 3-5" },
    { name: "a block in a text/plain part", parts: [part(1, "text/plain", BLOCK)], location: "part 1 (text/plain) lines 1-3" },
    { name: "no document in any part", parts: [part(1, "text/x-shellscript", "#!/bin/sh\n"), part(2, "text/html", "<html>")], location: null },
    { name: "an agent part whose body could not be decoded", parts: [part(1, "text/x-vacuum-agent", "", true)], location: "part 1 (text/x-vacuum-agent)" },
  ])("$name", ({ parts, location }) => {
    const result = findAgentDocument(parts, "mime");
    expect(result.documentLocation).toBe(location);
    if (location === null) expect(brief(result.problems)).toEqual([["error", "", NO_DOCUMENT_MESSAGE]]);
    if (location?.includes("lines")) expect(result.document).toEqual({ version: "1" });
    if (parts[0]!.unreadable) expect([result.document, result.problems]).toEqual([null, []]);
  });

  it("an agent part may wrap its body in the markers", () => {
    const result = findAgentDocument([part(1, "text/x-vacuum-agent", `\n${BLOCK}\n`)], "mime");
    expect([result.documentLocation, result.document, result.problems]).toEqual(["part 1 (text/x-vacuum-agent) lines 2-4", { version: "1" }, []]);
  });

  it("the BEGIN/END markers found in an agent part's body are not blocks of their own", () => {
    const result = findAgentDocument([part(1, "text/x-vacuum-agent", "version = 1"), part(2, "text/plain", BLOCK), part(3, "text/plain", BLOCK)], "mime");
    expect(brief(result.problems)).toEqual([
      ["error", "part 2 (text/plain) lines 1-3", "another vacuum-agent configuration; the first is at part 1 (text/x-vacuum-agent): expected exactly one"],
      ["error", "part 3 (text/plain) lines 1-3", "another vacuum-agent configuration; the first is at part 1 (text/x-vacuum-agent): expected exactly one"],
    ]);
  });

  it("a non-MIME JSON user_data is the document; a non-MIME text is searched for blocks", () => {
    const json = findAgentDocument([{ part: { index: 0, contentType: "application/json", body: '{"version": 1}' }, prefix: "", lines: ['{"version": 1}'], unreadable: false }], "json");
    expect([json.documentLocation, json.document]).toEqual(["whole user_data", { version: 1 }]);
    const plain = findAgentDocument([{ part: { index: 0, contentType: "text/plain", body: "x" }, prefix: "", lines: ["hello", ...BLOCK.split("\n")], unreadable: false }], "plain");
    expect([plain.documentLocation, plain.document]).toEqual(["lines 2-4", { version: "1" }]);
  });
});
