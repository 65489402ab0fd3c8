import { describe, expect, it } from "vitest";
import { CHILD_PATH, childPath, commandPath, COMMANDS, isCommandName } from "../../src/exec/commands.ts";

describe("the command table", () => {
  it.each(Object.entries(COMMANDS))("%s is an absolute path ending in its name", (name, path) => {
    expect(path.startsWith("/")).toBe(true);
    expect(path.endsWith(`/${name}`)).toBe(true);
  });

  it.each([
    ["the table", {}, "/usr/sbin/useradd"],
    ["a stub directory", { stubDir: "/tmp/stubs/" }, "/tmp/stubs/useradd"],
    ["a single override beats the stub directory", { stubDir: "/tmp/stubs", paths: { useradd: "/opt/x/useradd" } }, "/opt/x/useradd"],
  ])("commandPath from %s", (_name, overrides, expected) => {
    expect(commandPath("useradd", overrides)).toBe(expected);
  });

  it("knows its names, and no inherited object keys", () => {
    expect(isCommandName("mount")).toBe(true);
    expect(isCommandName("toString")).toBe(false);
    expect(isCommandName("rm")).toBe(false);
  });

  it("children get the fixed PATH, the stub directory first when given", () => {
    expect(CHILD_PATH).toBe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    expect(childPath()).toBe(CHILD_PATH);
    expect(childPath({ stubDir: "/s" })).toBe(`/s:${CHILD_PATH}`);
  });
});
