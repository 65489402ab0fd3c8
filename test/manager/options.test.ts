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

  it("serve DEFINITION with HTTPS or --http", () => {
    expect(parseManagerOptions(["serve", "d.json", "--listen=127.0.0.1:0", "--cert", "c.pem", "--key", "k.pem"])).toMatchObject({ command: "serve", file: "d.json", listen: "127.0.0.1:0", cert: "c.pem", key: "k.pem", http: false });
    expect(parseManagerOptions(["serve", "d.json", "--http"])).toMatchObject({ command: "serve", listen: null, http: true });
  });

  it.each([
    [["publish"], /unknown command/],
    [["serve"], /serve takes DEFINITION.json/],
    [["serve", "d.json"], /--cert FILE --key FILE \(HTTPS\) or --http/],
    [["serve", "d.json", "--cert", "c.pem"], /--cert FILE --key FILE/],
    [["serve", "d.json", "--http", "--key", "k.pem"], /without --cert and --key/],
    [["serve", "-", "--http"], /from a file/],
    [["serve", "d.json", "--http", "--listen", "a:1", "--listen", "b:2"], /--listen given twice/],
    [["validate", "a", "--http"], /--http does not apply to validate/],
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
