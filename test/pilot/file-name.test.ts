import { describe, expect, it } from "vitest";
import { flatNameProblem } from "../../src/pilot/file-name.ts";

describe("flatNameProblem", () => {
  it.each(["dirac-pilot.py", "pilot.json", "include_vm_lhcb.sh", "release notes.txt", "a..b", "x".repeat(255)])("accepts %s", (name) => {
    expect(flatNameProblem(name)).toBeNull();
  });

  it.each([
    ["", /empty/],
    ["../etc/passwd", /contains "\/"/],
    ["/etc/passwd", /contains "\/"/],
    ["sub/file.py", /contains "\/"/],
    ["..", /directory entry/],
    [".", /directory entry/],
    [".bashrc", /hidden/],
    [".vacuum-agent-pilot.json", /hidden/],
    ["a\0b", /NUL/],
    ["a\\b", /backslash/],
    ["line\nbreak", /control/],
    ["é".repeat(128), /longer than 255 bytes/],
  ])("refuses %j", (name, why) => {
    expect(flatNameProblem(name)).toMatch(why);
  });
});
