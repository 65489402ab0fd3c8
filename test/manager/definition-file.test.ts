// A definition with its templates on disk: the example shipped in examples/manager, and what is
// reported when a template is missing or dubious.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDefinition } from "../../src/manager/definition-file.ts";

const MT = {
  suffix: "prod",
  target_share: 1,
  user_data_template: "prod.template",
  root_image: "https://example.org/cernvm4.iso",
  backoff_seconds: 600,
  fizzle_seconds: 600,
  max_wallclock_seconds: 86400,
  min_wallclock_seconds: 3600,
  heartbeat_file: "heartbeat",
  heartbeat_seconds: 600,
  max_processors: 1,
};

function writeDefinition(mt: Record<string, unknown>, template?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "definition-"));
  writeFileSync(join(dir, "def.json"), JSON.stringify({ version: 1, base_url: "https://vacuum.example.org", pipes: [{ name: "x", machinetypes: [{ ...MT, ...mt }] }] }));
  if (template !== undefined) writeFileSync(join(dir, "prod.template"), template);
  return join(dir, "def.json");
}

describe("loadDefinition", () => {
  it("the shipped example is clean: no problem at all", async () => {
    const r = await loadDefinition(resolve("examples/manager/definition.json"));
    expect(r.problems).toEqual([]);
    expect(r.pipes.map((p) => p.url)).toEqual(["https://vacuum.example.org/example/pipes/example.pipe"]);
    expect(r.templates.map((t) => t.path)).toEqual(["user_data/example-command.template"]);
  });

  it("reads templates relative to the definition file", async () => {
    const r = await loadDefinition(writeDefinition({ options: { queue: "q" } }, "queue=##user_data_option_queue##\n"));
    expect(r.problems).toEqual([]);
    expect(Buffer.from(r.templates[0]!.bytes).toString()).toBe("queue=##user_data_option_queue##\n");
  });

  it("a missing template is an error at user_data_template", async () => {
    const r = await loadDefinition(writeDefinition({}));
    expect(r.problems).toEqual([expect.objectContaining({ path: "pipes[0].machinetypes[0].user_data_template", severity: "error", message: expect.stringMatching(/no such file/) })]);
  });

  it("template warnings carry the template's name", async () => {
    const r = await loadDefinition(writeDefinition({}, "##user_data_Space##"));
    expect(r.problems).toEqual([expect.objectContaining({ path: "pipes[0].machinetypes[0].user_data_template", severity: "warning", message: expect.stringMatching(/^prod\.template: ##user_data_Space## \(line 1\) survives literally/) })]);
  });

  it("a missing definition file", async () => {
    const r = await loadDefinition("/nonexistent/def.json");
    expect(r.problems).toEqual([expect.objectContaining({ path: "(top level)", severity: "error", message: expect.stringMatching(/ENOENT/) })]);
  });
});
