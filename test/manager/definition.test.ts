// The definition file: strict JSON types, the schema through the project's validator, and the
// rules across pipes; problems by path.
import { describe, expect, it } from "vitest";
import { parseDefinition } from "../../src/manager/definition.ts";

const MT = {
  suffix: "prod",
  target_share: 1,
  user_data_template: "prod.template",
  root_image: "https://example.org/cernvm4.iso",
  backoff_seconds: 600,
  fizzle_seconds: 600,
  max_wallclock_seconds: 86400,
  min_wallclock_seconds: 3600,
};
const DEF = { version: 1, base_url: "https://vacuum.example.org/x", pipes: [{ name: "example", machinetypes: [MT] }] };

const text = (def: unknown): string => JSON.stringify(def, null, 2);
const withMt = (changes: Record<string, unknown>): string => text({ ...DEF, pipes: [{ name: "example", machinetypes: [{ ...MT, ...changes }] }] });
const P = "pipes[0].machinetypes[0]";

describe("parseDefinition", () => {
  it("accepts a minimal definition and fills the defaults", () => {
    const r = parseDefinition(text(DEF));
    expect(r.problems).toEqual([]);
    expect(r.definition?.pipes[0]).toMatchObject({ name: "example", cache_seconds: 3600, machinetypes: [{ machine_model: "cernvm3" }] });
  });

  it.each<[string, string, string, RegExp]>([
    ["an integer written as a float (test case 17)", withMt({ fizzle_seconds: 600 }).replace('"fizzle_seconds": 600', '"fizzle_seconds": 600.0'), `${P}.fizzle_seconds`, /expected a JSON integer, got 600\.0/],
    ["an integer written as a string", withMt({ backoff_seconds: "600" }), `${P}.backoff_seconds`, /got the string "600"/],
    ["a boolean written as a string", withMt({ user_data_proxy: "true" }), `${P}.user_data_proxy`, /expected true or false, got "true"/],
    ["a number written as a string", withMt({ target_share: "1" }), `${P}.target_share`, /got the string "1"/],
    ["a bad suffix (test case 17)", withMt({ suffix: "Prod_1" }), `${P}.suffix`, /lower-case words/],
    ["machine_model cernvm4 (test case 19)", withMt({ machine_model: "cernvm4" }), `${P}.machine_model`, /one of "cernvm3", "vm-raw"/],
    ["a heartbeat_file with a slash", withMt({ heartbeat_file: "a/b" }), `${P}.heartbeat_file`, /plain file name/],
    ["a file value with a slash", withMt({ files: { cert: "/etc/cert.pem" } }), `${P}.files.cert`, /bare file name/],
    ["a missing template", withMt({ user_data_template: undefined }), `${P}.user_data_template`, /required/],
    ["a missing fizzle_seconds", withMt({ fizzle_seconds: undefined }), `${P}.fizzle_seconds`, /required/],
    ["a root_image that is not a URL", withMt({ root_image: "cernvm.iso" }), `${P}.root_image`, /https:\/\/ URL/],
    ["a base_url with a query", text({ ...DEF, base_url: "https://x.org/a?b=c" }), "base_url", /without query/],
    ["a pipe name with upper case", text({ ...DEF, pipes: [{ name: "Atlas", machinetypes: [MT] }] }), "pipes[0].name", /lower-case/],
    ["the wrong version", text({ ...DEF, version: 2 }), "version", /expected 1/],
    ["no JSON", "{", "(top level)", /not JSON: line 1 column 2/],
    ["NaN", withMt({}).replace('"target_share": 1', '"target_share": NaN'), `${P}.target_share`, /expected a number/],
  ])("refuses %s", (_name, input, path, message) => {
    const r = parseDefinition(input);
    expect(r.definition).toBeNull();
    const p = r.problems.find((x) => x.path === path && x.severity === "error");
    expect(p, JSON.stringify(r.problems, null, 2)).toBeDefined();
    expect(p!.message).toMatch(message);
  });

  it("refuses no pipe at all, and two pipes of one name", () => {
    expect(parseDefinition(text({ ...DEF, pipes: [] })).problems).toEqual([expect.objectContaining({ path: "pipes", severity: "error" })]);
    const twice = parseDefinition(text({ ...DEF, pipes: [DEF.pipes[0], DEF.pipes[0]] }));
    expect(twice.problems.map((p) => p.path)).toContain("pipes[1].name");
    expect(twice.definition).toBeNull();
  });

  it("refuses two machinetypes that would publish one template name", () => {
    const r = parseDefinition(text({ ...DEF, pipes: [{ name: "a", machinetypes: [{ ...MT, suffix: "b-c" }] }, { name: "a-b", machinetypes: [{ ...MT, suffix: "c" }] }] }));
    expect(r.problems).toEqual([expect.objectContaining({ path: "pipes[1].machinetypes[0].suffix", severity: "error", message: expect.stringMatching(/a-b-c\.template/) })]);
  });

  it("warns about an unknown key and a key given twice", () => {
    const r = parseDefinition(withMt({ colour: "blue" }).replace('"version": 1', '"version": 1, "version": 1'));
    expect(r.problems.map((p) => [p.severity, p.path])).toEqual([
      ["warning", "version"],
      ["warning", `${P}.colour`],
    ]);
    expect(r.definition).not.toBeNull();
  });
});
