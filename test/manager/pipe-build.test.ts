// Pipes generated from a definition: the bytes published, validated as a site reads them, and
// problems re-addressed to the definition.
import { describe, expect, it } from "vitest";
import { validatePipe } from "../../src/contract/pipe.ts";
import type { Definition, MachinetypeDefinition } from "../../src/manager/definition.ts";
import { buildPipes, definitionPath } from "../../src/manager/pipe-build.ts";

const MT: MachinetypeDefinition = {
  suffix: "prod",
  target_share: 1,
  user_data_template: "prod.template",
  root_image: "https://example.org/cernvm4.iso",
  machine_model: "cernvm3",
  backoff_seconds: 600,
  fizzle_seconds: 600,
  max_wallclock_seconds: 86400,
  min_wallclock_seconds: 3600,
  heartbeat_file: "heartbeat",
  heartbeat_seconds: 600,
  min_processors: 1,
  max_processors: 1,
};
const def = (mt: Partial<MachinetypeDefinition> = {}, base = "https://vacuum.example.org/atlas/"): Definition => ({
  version: 1,
  base_url: base,
  pipes: [{ name: "atlas", cache_seconds: 3600, machinetypes: [{ ...MT, ...mt }] }],
});

describe("buildPipes", () => {
  it("publishes ASCII JSON with absolute user_data URLs, integers as integers, options as user_data_option_X", () => {
    const [pipe] = buildPipes(def({ options: { queue: "q1" }, files: { hostcert: "hostcert.pem" } }));
    expect(pipe!.path).toBe("pipes/atlas.pipe");
    expect(pipe!.url).toBe("https://vacuum.example.org/atlas/pipes/atlas.pipe");
    expect(pipe!.text).toMatch(/^[\x00-\x7f]*\n$/);
    expect(pipe!.text).toContain('"fizzle_seconds": 600,');
    const doc = JSON.parse(pipe!.text);
    expect(doc.cache_seconds).toBe(3600);
    expect(doc.machinetypes[0]).toMatchObject({
      suffix: "prod",
      user_data: "https://vacuum.example.org/atlas/user_data/atlas-prod.template",
      user_data_option_queue: "q1",
      user_data_file_hostcert: "hostcert.pem",
    });
    expect(Object.keys(doc.machinetypes[0]).slice(0, 3)).toEqual(["suffix", "target_share", "user_data"]);
    expect(pipe!.machinetypes).toEqual([{ index: 0, suffix: "prod", templatePath: "user_data/atlas-prod.template", userDataUrl: "https://vacuum.example.org/atlas/user_data/atlas-prod.template" }]);
  });

  it("a clean definition gives a pipe without problems, which validatePipe confirms", () => {
    const [pipe] = buildPipes(def());
    expect(pipe!.problems).toEqual([]);
    expect(validatePipe(pipe!.text).problems).toEqual([]);
  });

  it.each<[string, Partial<MachinetypeDefinition>, string, "error" | "warning"]>([
    ["an option name with a hyphen", { options: { "arc-queue": "q" } }, "pipes[0].machinetypes[0].options.arc-queue", "error"],
    ["both an option and a file for one name", { options: { cert: "x" }, files: { cert: "cert.pem" } }, "pipes[0].machinetypes[0].files.cert", "error"],
    ["min_processors above the maximum", { min_processors: 4, max_processors: 2 }, "pipes[0].machinetypes[0].max_processors", "error"],
    ["min_wallclock_seconds above the maximum", { min_wallclock_seconds: 90000 }, "pipes[0].machinetypes[0].min_wallclock_seconds", "error"],
    ["non-ASCII in a value", { accounting_fqan: "/équipe" }, "pipes[0].machinetypes[0].accounting_fqan", "error"],
    ["a site-local file", { files: { cert: "cert.pem" } }, "pipes[0].machinetypes[0].files.cert", "warning"],
  ])("reports %s at its definition path", (_name, mt, path, severity) => {
    const [pipe] = buildPipes(def(mt));
    expect(pipe!.problems, JSON.stringify(pipe!.problems, null, 2)).toContainEqual(expect.objectContaining({ path, severity }));
  });

  it("reports an http:// base_url once, at base_url", () => {
    const d = def({}, "http://vacuum.example.org");
    d.pipes[0]!.machinetypes.push({ ...MT, suffix: "test" });
    const [pipe] = buildPipes(d);
    expect(pipe!.problems.filter((p) => p.path === "base_url")).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringMatching(/without TLS/) })]);
  });
});

describe("definitionPath", () => {
  it.each([
    ["(top level)", "pipes[2]"],
    ["cache_seconds", "pipes[2].cache_seconds"],
    ["machinetypes", "pipes[2].machinetypes"],
    ["machinetypes[1]", "pipes[2].machinetypes[1]"],
    ["machinetypes[1].fizzle_seconds", "pipes[2].machinetypes[1].fizzle_seconds"],
    ["machinetypes[1].user_data", "base_url"],
    ["machinetypes[1].user_data_option_queue", "pipes[2].machinetypes[1].options.queue"],
    ["machinetypes[1].user_data_file_cert", "pipes[2].machinetypes[1].files.cert"],
  ])("%s -> %s", (pipePath, expected) => expect(definitionPath(pipePath, 2)).toBe(expected));
});
