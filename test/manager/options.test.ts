// The manager's command line.
import { describe, expect, it } from "vitest";
import { parseManagerOptions, UsageError } from "../../src/manager/options.ts";

describe("parseManagerOptions", () => {
  it.each([
    [[], "help"],
    [["--help"], "help"],
    [["validate", "x.pipe", "--version"], "version"],
  ])("%j is %s", (argv, command) => expect(parseManagerOptions(argv).command).toBe(command));

  it("validate FILE --json", () => {
    expect(parseManagerOptions(["validate", "--json", "a.pipe"])).toMatchObject({ command: "validate", file: "a.pipe", json: true });
  });

  it("render with every flag", () => {
    const o = parseManagerOptions(["render", "t", "--set", "space=s", "--set=uuid=a=b", "--option", "q=x=y", "--file", "cert=c.pem", "--proxy", "p.pem", "--manager", "vcycle"]);
    expect(o).toMatchObject({ command: "render", file: "t", sets: { space: "s", uuid: "a=b" }, options: { q: "x=y" }, files: { cert: "c.pem" }, proxy: "p.pem", manager: "vcycle" });
  });

  it("an empty --set value is a value", () => {
    expect(parseManagerOptions(["render", "-", "--set", "site="]).sets).toEqual({ site: "" });
  });

  it("export DEFINITION DIR", () => {
    expect(parseManagerOptions(["export", "d.json", "out"])).toMatchObject({ command: "export", file: "d.json", dir: "out" });
  });

  it.each([
    [["serve"], /unknown command/],
    [["validate"], /validate takes FILE/],
    [["validate", "a", "b"], /validate takes FILE/],
    [["export", "d.json"], /export takes DEFINITION.json DIR/],
    [["export", "-", "out"], /from a file/],
    [["validate", "a", "--set", "space=s"], /--set does not apply to validate/],
    [["render", "t", "--set", "colour=x"], /not a substitution name/],
    [["render", "t", "--set", "x509_proxy=x"], /not a substitution name/],
    [["render", "t", "--set", "space"], /expected NAME=VALUE/],
    [["render", "t", "--set", "space=a", "--set", "space=b"], /given twice/],
    [["render", "t", "--option", "q=1", "--option", "q=2"], /given twice/],
    [["render", "t", "--manager", "openstack"], /expected vac or vcycle/],
    [["render", "t", "--file", "x="], /needs a PATH/],
    [["render", "t", "--bogus"], /unknown option --bogus/],
    [["--json"], /a command is needed/],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseManagerOptions(argv)).toThrow(UsageError);
    expect(() => parseManagerOptions(argv)).toThrow(message);
  });
});
