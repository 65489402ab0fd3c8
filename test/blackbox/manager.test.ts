// The compiled manager (dist/manager) as a black box: version, validate (real and broken pipes,
// definitions), render (section 8 test cases 1 and 2) and export.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runAgent, type RunOptions } from "./run-binary.ts";

const MANAGER = resolve("dist/manager");
const manager = (args: string[], options: RunOptions = {}) => runAgent(args, { ...options, binary: MANAGER });
const PIPES = resolve("../shared/fixtures/pipes");
const FIXTURES = resolve("test/fixtures/manager");
const tmp = (): string => mkdtempSync(join(tmpdir(), "manager-"));

describe.skipIf(!existsSync(MANAGER))("dist/manager", () => {
  it("prints its version and help", async () => {
    const v = await manager(["--version"]);
    expect(v.stdout).toMatch(/^manager \d+\.\d+\.\d+\S* \(commit ([0-9a-f]+|unknown)\)\n$/);
    expect(v.exitCode).toBe(0);
    const h = await manager(["--help"]);
    expect(h.stdout).toContain("manager validate FILE [--json]");
    expect(h.exitCode).toBe(0);
  });

  it("a usage error exits 64", async () => {
    const r = await manager(["validate"]);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain("manager: validate takes FILE");
  });

  describe("validate: the real pipes validate, with the warnings they deserve", () => {
    it.each([
      ["atlas.pipe", 6, "warning: machinetypes[0].user_data_proxy: \"true\" is a string, not a JSON boolean"],
      ["vmcondor.pipe", 2, "warning: machinetypes[0].user_data_file_hostcert: \"hostcert.pem\" is a site-local file"],
      ["vac-example.pipe", 1, "warning: machinetypes[0].heartbeat_file: no heartbeat_file and no heartbeat_seconds"],
    ])("%s", async (name, warnings, line) => {
      const r = await manager(["validate", join(PIPES, name)]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(line);
      expect(r.stdout).toContain(`${join(PIPES, name)}: valid pipe (`);
      expect(r.stdout).toContain(`with ${warnings} warning(s)`);
      expect(r.stdout).not.toMatch(/^error:/m);
    });
  });

  describe("validate: broken pipes exit 1 and name the field", () => {
    it.each([
      ["atlas-fizzle-float.pipe", "error: machinetypes[0].fizzle_seconds: expected a JSON integer, got 600.0"],
      ["vac-example-suffix-prod_1.pipe", 'error: machinetypes[0].suffix: "Prod_1": a suffix may only contain'],
      ["vac-example-cernvm4.pipe", 'error: machinetypes[0].machine_model: machine_model "cernvm4"'],
      ["vmcondor-file-path.pipe", "error: machinetypes[0].user_data_file_hostkey:"],
      ["error-document.pipe", "error: machinetypes: required: no machinetypes array"],
      ["array.pipe", "error: (top level): expected a JSON object at the top level, got an array"],
    ])("%s", async (name, line) => {
      const r = await manager(["validate", join(FIXTURES, name)]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain(line);
      expect(r.stdout).toMatch(/invalid pipe: \d+ error\(s\), \d+ warning\(s\): Vac or Vcycle would reject or mishandle it\n$/);
    });
  });

  it("validate --json: every problem with path, severity and the implementations it affects", async () => {
    const r = await manager(["validate", "--json", join(FIXTURES, "atlas-fizzle-float.pipe")]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ kind: "pipe", valid: false, errors: 1, warnings: 6, suffixes: ["vm-mcore", "vm-mcore-sl6", "vm-score"] });
    expect(doc.problems).toContainEqual(expect.objectContaining({ path: "machinetypes[0].fizzle_seconds", severity: "error", affects: ["vac", "vcycle"] }));
  });

  it("validate reads a pipe from standard input", async () => {
    const r = await manager(["validate", "-"], { input: "<html>502 Bad Gateway</html>" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("error: (top level): not JSON: line 1 column 1");
  });

  it("validate: a missing file exits 1", async () => {
    const r = await manager(["validate", "/nonexistent.pipe"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("cannot read /nonexistent.pipe: no such file");
  });

  it("validate: the shipped example definition is valid", async () => {
    const r = await manager(["validate", "examples/manager/definition.json"]);
    expect(r.stdout).toBe("examples/manager/definition.json: valid definition (example (1 machinetype(s)) at https://vacuum.example.org/example/pipes/example.pipe)\n");
    expect(r.exitCode).toBe(0);
  });

  it.each([
    ["bad-definition/definition.json", "error: pipes[0].machinetypes[0].fizzle_seconds: expected a JSON integer, got 600.0"],
    ["missing-template.json", "error: pipes[0].machinetypes[0].user_data_template: cannot read the template"],
  ])("validate: the definition %s is refused with its path", async (name, line) => {
    const r = await manager(["validate", join(FIXTURES, name)]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(line);
    expect(r.stdout).toContain("invalid definition");
  });

  it("render: test case 1", async () => {
    const r = await manager(["render", join(FIXTURES, "render-case-1.template"), "--set", "space=vac01.example.org"]);
    expect(r.stdout).toBe("space=vac01.example.org\nfoo=\nbad=##user_data_Bad##\n");
    expect(r.exitCode).toBe(0);
  });

  it("render: test case 2 is refused and renders nothing", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "x.txt"), "file contents");
    const r = await manager(["render", join(FIXTURES, "render-case-1.template"), "--option", "x=1", "--file", `x=${join(dir, "x.txt")}`]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error: files.x: both user_data_option_x and user_data_file_x are given");
  });

  it("render: the example template as Vac renders it, values raw", async () => {
    const r = await manager(
      ["render", "examples/manager/command.template", "--manager", "vac", "--set", "space=vac01.example.org", "--set", "machinetype=example-command", "--set", "uuid=0d4b5e9c", "--option", "cvmfs_proxy=http://a:3128|http://b:3128;DIRECT"],
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("user_data_space = vac01.example.org\n");
    expect(r.stdout).toContain("user_data_uuid = 0d4b5e9c\n");
    expect(r.stdout).toContain("user_data_joboutputs_url = http://169.254.169.253/joboutputs\n");
    expect(r.stdout).toContain("user_data_option_cvmfs_proxy = http://a:3128|http://b:3128;DIRECT\n");
    expect(r.stdout).toContain("user_data_site = \n");
    expect(r.stdout).not.toContain("##user_data_");
  });

  it("render reads the template from standard input", async () => {
    const r = await manager(["render", "-", "--set", "machinetype=mt"], { input: "[##user_data_machinetype##]" });
    expect(r.stdout).toBe("[mt]");
  });

  it("export: writes the tree atomically, with a pipe that validates cleanly", async () => {
    const out = join(tmp(), "www");
    const r = await manager(["export", "examples/manager/definition.json", out]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`exported 1 pipe(s) and 1 template(s) to ${out}`);
    expect(readdirSync(out).sort()).toEqual(["pipes", "user_data"]);
    expect(readFileSync(join(out, "user_data/example-command.template"))).toEqual(readFileSync("examples/manager/command.template"));
    const pipe = JSON.parse(readFileSync(join(out, "pipes/example.pipe"), "utf8"));
    expect(pipe.machinetypes[0].user_data).toBe("https://vacuum.example.org/example/user_data/example-command.template");
    const v = await manager(["validate", join(out, "pipes/example.pipe")]);
    expect(v.stdout).toBe(`${join(out, "pipes/example.pipe")}: valid pipe (1 machinetype(s): command)\n`);
  });

  it("export: refuses an invalid definition and leaves DIR untouched", async () => {
    const out = join(tmp(), "www");
    expect((await manager(["export", "examples/manager/definition.json", out])).exitCode).toBe(0);
    const before = readFileSync(join(out, "pipes/example.pipe"));
    const defDir = tmp();
    cpSync(join(FIXTURES, "bad-definition"), defDir, { recursive: true });
    const r = await manager(["export", join(defDir, "definition.json"), out]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("error: pipes[0].machinetypes[0].fizzle_seconds");
    expect(r.stdout).toContain(`export refused, ${out} left untouched`);
    expect(readdirSync(join(out, "pipes"))).toEqual(["example.pipe"]);
    expect(readFileSync(join(out, "pipes/example.pipe"))).toEqual(before);
  });
});
