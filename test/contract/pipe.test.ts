// validatePipe: every rule of vacuum-platform.md section 6 as one row (path, severity, the
// implementations it names), the three real pipes byte for byte, and top-level failures.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatPipeProblem, pipeHasErrors, validatePipe, type Implementation, type PipeProblem } from "../../src/contract/pipe.ts";

/** A machinetype that draws no problem at all; rows change it with raw JSON values. */
const CLEAN: Record<string, string> = {
  suffix: '"prod"',
  target_share: "1",
  user_data: '"https://example.org/vac/user_data"',
  root_image: '"https://example.org/vac/cernvm4.iso"',
  machine_model: '"cernvm3"',
  backoff_seconds: "600",
  fizzle_seconds: "600",
  max_wallclock_seconds: "86400",
  min_wallclock_seconds: "3600",
  heartbeat_file: '"heartbeat"',
  heartbeat_seconds: "600",
  min_processors: "1",
  max_processors: "1",
  accounting_fqan: '"/example/Role=NULL/Capability=NULL"',
  user_data_proxy: "false",
};

/** Raw JSON text of a pipe whose one machinetype is CLEAN with `changes` (null deletes a key). */
function pipeText(changes: Record<string, string | null> = {}, top = '"cache_seconds": 3600'): string {
  const mt = { ...CLEAN, ...changes };
  const members = Object.entries(mt)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${JSON.stringify(k)}: ${v}`);
  return `{${top ? `${top}, ` : ""}"machinetypes": [{${members.join(", ")}}]}`;
}

/** The problem at `path`, of `severity` when there are several there. */
const find = (problems: PipeProblem[], path: string, severity?: PipeProblem["severity"]): PipeProblem | undefined =>
  problems.find((p) => p.path === path && (severity === undefined || p.severity === severity)) ?? problems.find((p) => p.path === path);
const show = (problems: PipeProblem[]): string => problems.map(formatPipeProblem).join("\n");

const fixture = (name: string): Buffer => readFileSync(resolve(`../shared/fixtures/pipes/${name}`));

describe("validatePipe: a clean pipe", () => {
  it("has no problem at all", () => {
    expect(validatePipe(pipeText()).problems).toEqual([]);
  });

  it("accepts bytes as well as text", () => {
    expect(validatePipe(Buffer.from(pipeText())).problems).toEqual([]);
  });

  it.each(["vm-raw", "cernvm3"])("machine_model %s is fine for both", (model) => {
    expect(validatePipe(pipeText({ machine_model: JSON.stringify(model) })).problems).toEqual([]);
  });

  it("a float target_share is fine (atlas.pipe has 1.0)", () => {
    expect(validatePipe(pipeText({ target_share: "1.5" })).problems).toEqual([]);
  });
});

type Row = [name: string, changes: Record<string, string | null>, path: string, severity: "error" | "warning", affects: Implementation[], text?: RegExp];

const M = "machinetypes[0]";
const BOTH: Implementation[] = ["vac", "vcycle"];

// Test case 17 (fizzle_seconds 600.0, suffix Prod_1) and 19 (cernvm4) are among these rows.
const RULES: Row[] = [
  ["integer as float 600.0 (test case 17)", { fizzle_seconds: "600.0" }, `${M}.fizzle_seconds`, "error", BOTH, /600\.0.*Vac: uncaught int\(\).*dies every cycle.*Vcycle: .*whole cycle is skipped/],
  ["integer in exponent form", { heartbeat_seconds: "6e2" }, `${M}.heartbeat_seconds`, "error", BOTH, /"600\.0", which int\(\) rejects/],
  ["integer as a numeric string", { backoff_seconds: '"600"' }, `${M}.backoff_seconds`, "warning", [], /int\(\) to 600/],
  ["integer as a word", { max_wallclock_seconds: '"a day"' }, `${M}.max_wallclock_seconds`, "error", BOTH],
  ["integer as a boolean", { fizzle_seconds: "true" }, `${M}.fizzle_seconds`, "error", BOTH, /"True", which int\(\) rejects/],
  ["integer as null", { backoff_seconds: "null" }, `${M}.backoff_seconds`, "error", BOTH, /"None"/],
  ["min_wallclock_seconds float: Vcycle never reads it", { min_wallclock_seconds: "3600.0" }, `${M}.min_wallclock_seconds`, "error", ["vac"]],
  ["min_processors float: Vcycle falls back to 1", { min_processors: "1.0" }, `${M}.min_processors`, "error", BOTH, /Vcycle: int\(\) fails and min_processors silently becomes 1/],
  ["max_processors not a number: Vcycle drops the maximum", { max_processors: '"x"' }, `${M}.max_processors`, "error", BOTH, /no maximum/],
  ["backoff_seconds missing", { backoff_seconds: null }, `${M}.backoff_seconds`, "error", ["vcycle"], /Vac: defaults to 10; Vcycle: backoff_seconds is required/],
  ["fizzle_seconds missing", { fizzle_seconds: null }, `${M}.fizzle_seconds`, "error", ["vcycle"], /Vac: defaults to 600/],
  ["max_wallclock_seconds missing", { max_wallclock_seconds: null }, `${M}.max_wallclock_seconds`, "warning", [], /86400/],
  ["min_wallclock_seconds missing", { min_wallclock_seconds: null }, `${M}.min_wallclock_seconds`, "warning", BOTH],
  ["min_wallclock_seconds > max_wallclock_seconds", { min_wallclock_seconds: "90000" }, `${M}.min_wallclock_seconds`, "error", ["vac"], /90000 > max_wallclock_seconds 86400/],
  ["min_wallclock_seconds > Vac's default max", { min_wallclock_seconds: "90000", max_wallclock_seconds: null }, `${M}.min_wallclock_seconds`, "error", ["vac"]],
  ["min_processors > max_processors", { min_processors: "4", max_processors: "2" }, `${M}.max_processors`, "error", BOTH, /max_processors 2 < min_processors 4/],
  ["min_processors > 1 without max_processors (Vac's default max is 1)", { min_processors: "8", max_processors: null }, `${M}.max_processors`, "error", ["vac"], /Vac: max_processors defaults to 1.*Vcycle: no maximum/],
  ["max_processors missing: the readers differ", { max_processors: null }, `${M}.max_processors`, "warning", BOTH, /Vac: at most 1 processor; Vcycle: no maximum/],
  ["max_wallclock_seconds 0", { max_wallclock_seconds: "0", min_wallclock_seconds: "0" }, `${M}.max_wallclock_seconds`, "error", BOTH],
  ["negative heartbeat_seconds", { heartbeat_seconds: "-1" }, `${M}.heartbeat_seconds`, "error", BOTH],
  ["suffix missing", { suffix: null }, `${M}.suffix`, "error", BOTH, /skipped/],
  ["suffix with _ and upper case (test case 17)", { suffix: '"Prod_1"' }, `${M}.suffix`, "error", BOTH, /Vac: .*whole factory cycle is aborted.*; Vcycle: .*whole cycle is skipped/],
  ["suffix with a space", { suffix: '"prod 1"' }, `${M}.suffix`, "error", BOTH],
  ["suffix with upper case only", { suffix: '"Prod"' }, `${M}.suffix`, "warning", [], /<prefix>-prod/],
  ["suffix with a leading hyphen", { suffix: '"-prod"' }, `${M}.suffix`, "warning", []],
  ["suffix not a string", { suffix: "5" }, `${M}.suffix`, "error", BOTH],
  ["suffix non-ASCII", { suffix: '"pr\u00f6d"' }, `${M}.suffix`, "error", BOTH, /suffix is missing/],
  ["machine_model cernvm4 (test case 19)", { machine_model: '"cernvm4"' }, `${M}.machine_model`, "error", BOTH, /Machine model cernvm4 is not defined.*Vcycle: .*silently skipped/],
  ["machine_model docker: Vac only", { machine_model: '"docker"' }, `${M}.machine_model`, "error", ["vcycle"]],
  ["machine_model singularity: Vac only", { machine_model: '"singularity"' }, `${M}.machine_model`, "error", ["vcycle"]],
  ["machine_model in upper case", { machine_model: '"CernVM3"' }, `${M}.machine_model`, "error", BOTH],
  ["user_data missing", { user_data: null }, `${M}.user_data`, "error", BOTH, /Vcycle: user_data is required/],
  ["user_data over http://", { user_data: '"http://example.org/ud"' }, `${M}.user_data`, "warning", [], /without TLS/],
  ["user_data a relative path", { user_data: '"templates/ud"' }, `${M}.user_data`, "error", BOTH, /created with no user_data.*whole cycle is skipped/],
  ["user_data with /../", { user_data: '"https://example.org/a/../ud"' }, `${M}.user_data`, "error", BOTH],
  ["user_data a bare site-local name", { user_data: '"user_data"' }, `${M}.user_data`, "warning", [], /site-local/],
  ["user_data not a URL", { user_data: '"https://"' }, `${M}.user_data`, "error", BOTH],
  ["user_data not a string", { user_data: "5" }, `${M}.user_data`, "error", BOTH],
  ["root_image on /cvmfs: Vac only", { root_image: '"/cvmfs/grid.cern.ch/img.iso"' }, `${M}.root_image`, "error", ["vcycle"]],
  ["root_image docker:// with a VM model", { root_image: '"docker://cern/cc7"' }, `${M}.root_image`, "error", BOTH, /Docker machine models/],
  ["root_image a relative path", { root_image: '"images/x.iso"' }, `${M}.root_image`, "error", BOTH],
  ["root_image missing", { root_image: null }, `${M}.root_image`, "warning", []],
  ["root_image over http://", { root_image: '"http://example.org/x.iso"' }, `${M}.root_image`, "warning", []],
  ["heartbeat_file with a slash", { heartbeat_file: '"logs/heartbeat"' }, `${M}.heartbeat_file`, "error", BOTH, /never checked/],
  ["heartbeat_file without heartbeat_seconds", { heartbeat_seconds: null }, `${M}.heartbeat_seconds`, "warning", BOTH],
  ["no heartbeat at all", { heartbeat_seconds: null, heartbeat_file: null }, `${M}.heartbeat_file`, "warning", []],
  ["target_share missing: never started", { target_share: null }, `${M}.target_share`, "warning", BOTH, /never started/],
  ["target_share 0.0: disabled", { target_share: "0.0" }, `${M}.target_share`, "warning", BOTH],
  ["target_share not numeric", { target_share: '"high"' }, `${M}.target_share`, "error", BOTH, /never started/],
  ["target_share a numeric string", { target_share: '"0.5"' }, `${M}.target_share`, "warning", []],
  ["target_share a boolean", { target_share: "true" }, `${M}.target_share`, "error", BOTH],
  ["target_share negative", { target_share: "-1" }, `${M}.target_share`, "error", BOTH],
  ["user_data_proxy as the string true", { user_data_proxy: '"true"' }, `${M}.user_data_proxy`, "warning", [], /read true/],
  ["user_data_proxy as the string false", { user_data_proxy: '"false"' }, `${M}.user_data_proxy`, "warning", []],
  ["user_data_proxy with spaces: Vac strips, Vcycle does not", { user_data_proxy: '" true"' }, `${M}.user_data_proxy`, "error", BOTH, /Vac: reads true; Vcycle: reads false/],
  ["user_data_proxy yes: read as false", { user_data_proxy: '"yes"' }, `${M}.user_data_proxy`, "error", BOTH, /means false/],
  ["user_data_proxy 1: read as false", { user_data_proxy: "1" }, `${M}.user_data_proxy`, "error", BOTH],
  ["legacy_proxy as a string", { legacy_proxy: '"TRUE"', user_data_proxy: "true" }, `${M}.legacy_proxy`, "warning", []],
  ["legacy_proxy without user_data_proxy", { legacy_proxy: "true" }, `${M}.legacy_proxy`, "warning", []],
  ["option name in upper case", { user_data_option_Queue: '"q"' }, `${M}.user_data_option_Queue`, "warning", [], /##user_data_option_queue##/],
  ["option name with a hyphen", { "user_data_option_arc-queue": '"q"' }, `${M}.user_data_option_arc-queue`, "error", BOTH, /whole factory cycle is aborted/],
  ["file name with a dot", { "user_data_file_host.cert": '"hostcert.pem"' }, `${M}["user_data_file_host.cert"]`, "error", BOTH],
  ["both option and file for one name", { user_data_option_cert: '"x"', user_data_file_cert: '"cert.pem"' }, `${M}.user_data_file_cert`, "error", BOTH, /ambiguous/],
  ["one option twice after lower-casing", { user_data_option_q: '"x"', user_data_option_Q: '"y"' }, `${M}.user_data_option_Q`, "error", BOTH],
  ["file value with a slash", { user_data_file_cert: '"/etc/cert.pem"' }, `${M}.user_data_file_cert`, "error", BOTH, /never a path/],
  ["file value: a site-local file", { user_data_file_cert: '"cert.pem"' }, `${M}.user_data_file_cert`, "warning", [], /every site must put it/],
  ["option value not a string", { user_data_option_n: "5" }, `${M}.user_data_option_n`, "warning", []],
  ["option value with a pattern", { user_data_option_n: '"##user_data_space##"' }, `${M}.user_data_option_n`, "warning", []],
  ["option prefix in upper case", { User_Data_Option_x: '"q"' }, `${M}.User_Data_Option_x`, "warning", BOTH, /prefix must be lower case/],
  ["unknown key", { colour: '"blue"' }, `${M}.colour`, "warning", BOTH, /logged and ignored/],
  ["known key in the wrong case", { Heartbeat_File: '"hb"' }, `${M}.Heartbeat_File`, "warning", BOTH, /did you mean heartbeat_file/],
  ["container key: Vac only", { container_command: '"/user_data"' }, `${M}.container_command`, "warning", ["vcycle"]],
  ["cache_seconds per machinetype", { cache_seconds: "60" }, `${M}.cache_seconds`, "warning", BOTH],
  ["root_device with bad characters", { root_device: '"sd-a"' }, `${M}.root_device`, "error", ["vac"]],
  ["non-ASCII value", { accounting_fqan: '"/\u00e9quipe"' }, `${M}.accounting_fqan`, "error", BOTH, /UnicodeEncodeError/],
  ["non-ASCII value by escape", { accounting_fqan: '"/\\u00e9quipe"' }, `${M}.accounting_fqan`, "error", BOTH],
  ["non-ASCII key", { "colo\u00fcr": '"x"' }, `${M}["colo\u00fcr"]`, "error", BOTH],
];

describe("validatePipe: one rule per row", () => {
  it.each(RULES)("%s", (_name, changes, path, severity, affects, text) => {
    const { problems } = validatePipe(pipeText(changes));
    const p = find(problems, path, severity);
    expect(p, `no problem at ${path} in:\n${show(problems)}`).toBeDefined();
    expect(p!.severity).toBe(severity);
    expect(p!.affects).toEqual(affects);
    if (text) expect(p!.message).toMatch(text);
    // A warning row must not hide an error elsewhere: the pipe would then be rejected for another reason.
    if (severity === "warning") expect(pipeHasErrors(problems), show(problems)).toBe(false);
  });

  it("names the effect of each affected implementation in the message", () => {
    const p = find(validatePipe(pipeText({ fizzle_seconds: "600.0" })).problems, `${M}.fizzle_seconds`)!;
    expect(p.effects.vac).toMatch(/dies every cycle/);
    expect(p.effects.vcycle).toMatch(/whole cycle is skipped for every space/);
    expect(p.message).toContain(`Vac: ${p.effects.vac}; Vcycle: ${p.effects.vcycle}`);
  });

  it("duplicate suffixes after lower-casing", () => {
    const mt = (suffix: string): string => pipeText({ suffix: JSON.stringify(suffix) }).match(/\[(\{.*\})\]/)![1]!;
    const { problems } = validatePipe(`{"cache_seconds": 3600, "machinetypes": [${mt("prod")}, ${mt("PROD")}]}`);
    const p = find(problems, "machinetypes[1].suffix", "error");
    expect(p?.severity).toBe("error");
    expect(p?.message).toMatch(/duplicate suffix "prod".*machinetypes\[0\]/);
  });

  it("a key given twice: Python keeps the last", () => {
    const text = pipeText().replace('"fizzle_seconds": 600', '"fizzle_seconds": 600.0, "fizzle_seconds": 600');
    const { problems } = validatePipe(text);
    expect(problems.map((p) => [p.path, p.severity])).toEqual([[`${M}.fizzle_seconds`, "warning"]]);
  });

  it("NaN is accepted by Python's json but not an integer", () => {
    const { problems } = validatePipe(pipeText({ fizzle_seconds: "NaN" }));
    expect(problems.filter((p) => p.path === `${M}.fizzle_seconds`).map((p) => p.severity).sort()).toEqual(["error", "warning"]);
  });

  it("no positive target_share anywhere", () => {
    const p = find(validatePipe(pipeText({ target_share: "0" })).problems, "machinetypes");
    expect(p?.severity).toBe("warning");
    expect(p?.message).toMatch(/nothing in this pipe is ever started/);
  });
});

type TopRow = [name: string, text: string | Uint8Array, path: string, severity: "error" | "warning", affects: Implementation[], message?: RegExp];

const TOP: TopRow[] = [
  ["an empty body", "", "(top level)", "error", BOTH, /not JSON.*empty document.*Vac: the pipe is skipped this cycle/],
  ["an HTML error page", "<html><body>502 Bad Gateway</body></html>", "(top level)", "error", BOTH, /not JSON: line 1 column 1/],
  ["a trailing comma", '{"cache_seconds": 3600, "machinetypes": [],}', "(top level)", "error", BOTH, /line 1 column 44: expected a property name/],
  ["a byte-order mark", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(pipeText())]), "(top level)", "error", BOTH, /byte-order mark/],
  ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0x7d]), "(top level)", "error", BOTH, /not valid UTF-8/],
  ["a JSON array: poisons caches", "[]", "(top level)", "error", BOTH, /permanently poisons.*until an admin deletes the cache file/],
  ["JSON null: poisons caches", "null", "(top level)", "error", BOTH, /got None/],
  ["a JSON string: poisons caches", '"error"', "(top level)", "error", BOTH],
  ["a JSON number: poisons caches", "5", "(top level)", "error", BOTH],
  ["a JSON error document", '{"error": "not found"}', "machinetypes", "error", BOTH, /Vac: the pipe is ignored.*Vcycle: KeyError/],
  ["an unknown top-level key", pipeText({}, '"cache_seconds": 3600, "comment": "x"'), "comment", "warning", BOTH],
  ["empty machinetypes", '{"cache_seconds": 3600, "machinetypes": []}', "machinetypes", "error", BOTH, /No machinetypes defined/],
  ["machinetypes an object", '{"cache_seconds": 3600, "machinetypes": {"prod": {}}}', "machinetypes", "error", BOTH, /iterates its keys/],
  ["machinetypes a number", '{"cache_seconds": 3600, "machinetypes": 5}', "machinetypes", "error", BOTH, /TypeError.*dies every cycle/],
  ["a machinetype that is a number", '{"cache_seconds": 3600, "machinetypes": [5]}', "machinetypes[0]", "error", BOTH, /Vac: that machinetype is skipped; Vcycle: 'machine_model' in 5 raises TypeError/],
  ["a machinetype that is a string", '{"cache_seconds": 3600, "machinetypes": ["prod"]}', "machinetypes[0]", "error", BOTH, /silently skipped/],
  ["cache_seconds missing", pipeText({}, ""), "cache_seconds", "warning", [], /3600/],
  ["cache_seconds not a number", pipeText({}, '"cache_seconds": "hourly"'), "cache_seconds", "warning", BOTH, /uses 3600/],
  ["cache_seconds a float", pipeText({}, '"cache_seconds": 600.5'), "cache_seconds", "warning", BOTH, /truncates it to 600/],
  ["cache_seconds a boolean", pipeText({}, '"cache_seconds": true'), "cache_seconds", "warning", BOTH, /int\(True\) is 1/],
  ["cache_seconds 0: refetched every cycle", pipeText({}, '"cache_seconds": 0'), "cache_seconds", "warning", BOTH, /every cycle/],
  ["cache_seconds of a year", pipeText({}, '"cache_seconds": 31536000'), "cache_seconds", "warning", BOTH, /takes up to 31536000 s/],
  ["raw non-ASCII where nobody reads it", pipeText({}, '"cache_seconds": 3600, "comment": "\u00e9"'), "(top level)", "warning", [], /U\+00E9 at line 1 column/],
];

describe("validatePipe: the document", () => {
  it.each(TOP)("%s", (_name, text, path, severity, affects, message) => {
    const { problems } = validatePipe(text);
    const p = find(problems, path, severity);
    expect(p, `no problem at ${path} in:\n${show(problems)}`).toBeDefined();
    expect(p!.severity).toBe(severity);
    expect(p!.affects).toEqual(affects);
    if (message) expect(p!.message).toMatch(message);
  });

  it("a document nested too deeply is not JSON (Python's recursion limit)", () => {
    const { problems } = validatePipe("[".repeat(5000) + "]".repeat(5000));
    expect(problems[0]?.message).toMatch(/nested deeper than/);
  });
});

describe("validatePipe: the real pipes in ../shared/fixtures/pipes", () => {
  const summary = (name: string): [string, string][] => validatePipe(fixture(name)).problems.map((p) => [p.severity, p.path]);

  it("atlas.pipe: valid, warned about disabled types, string booleans and the missing max_processors", () => {
    expect(summary("atlas.pipe")).toEqual([
      ["warning", "machinetypes[0].target_share"],
      ["warning", "machinetypes[0].user_data_proxy"],
      ["warning", "machinetypes[1].user_data_proxy"],
      ["warning", "machinetypes[2].target_share"],
      ["warning", "machinetypes[2].user_data_proxy"],
      ["warning", "machinetypes[2].max_processors"],
    ]);
    expect(validatePipe(fixture("atlas.pipe")).suffixes).toEqual(["vm-mcore", "vm-mcore-sl6", "vm-score"]);
  });

  it("vmcondor.pipe: valid, warned about the site-local host certificate files", () => {
    expect(summary("vmcondor.pipe")).toEqual([
      ["warning", "machinetypes[0].user_data_file_hostcert"],
      ["warning", "machinetypes[0].user_data_file_hostkey"],
    ]);
  });

  it("vac-example.pipe: valid, warned that nothing checks heartbeats", () => {
    expect(summary("vac-example.pipe")).toEqual([["warning", "machinetypes[0].heartbeat_file"]]);
  });

  it("atlas.pipe with fizzle_seconds 600.0 is rejected (test case 17)", () => {
    const text = fixture("atlas.pipe").toString("utf8").replace('"fizzle_seconds": 600,', '"fizzle_seconds": 600.0,');
    const { problems } = validatePipe(text);
    expect(problems.filter((p) => p.severity === "error").map((p) => p.path)).toEqual(["machinetypes[0].fizzle_seconds"]);
  });
});
