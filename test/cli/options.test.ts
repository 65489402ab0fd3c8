import { describe, expect, it } from "vitest";
import { parseOptions, UsageError } from "../../src/cli/options.ts";

describe("command line", () => {
  it.each([
    [["--dry-run"], { command: "run", dryRun: true }],
    [["run", "--dry-run", "--json"], { command: "run", dryRun: true, json: true }],
    [[], { command: "run", dryRun: false }],
    [["run", "--user-data", "-", "--metadata-url", "none"], { userData: "-", metadataUrl: "none" }],
    [["--metadata-url=http://127.0.0.1:8080/", "--dry-run"], { metadataUrl: "http://127.0.0.1:8080" }],
    [["run", "--root", "/tmp/r", "--set", "payload.dirac.queue=a=b", "--set", "x.y="], { root: "/tmp/r", sets: { "payload.dirac.queue": "a=b", "x.y": "" } }],
    [["validate"], { command: "validate", file: null }],
    [["validate", "ud.txt", "--json"], { command: "validate", file: "ud.txt", json: true }],
    [["status", "--json", "--root", "/r"], { command: "status", json: true, root: "/r" }],
    [["--version"], { command: "version" }],
    [["run", "--help"], { command: "help" }],
  ])("%j", (argv, expected) => {
    expect(parseOptions(argv)).toMatchObject(expected);
  });

  it.each([
    [["--frobnicate"], "unknown option --frobnicate"],
    [["--root"], "--root needs a value"],
    [["--metadata-url", "169.254.169.254"], 'expected an http(s) URL or "none"'],
    [["--metadata-url", "ftp://x"], 'expected an http(s) URL or "none"'],
    [["--set", "novalue"], "expected KEY=VALUE"],
    [["status", "--dry-run"], '--dry-run does not apply to "agent status"'],
    [["validate", "a", "b"], "at most one FILE"],
    [["run", "extra"], "unexpected argument extra"],
    [["--dry-run=yes"], "--dry-run takes no value"],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });
});
