import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootedPath, RootedPathError } from "../../src/exec/rooted.ts";

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "rooted-"));
  mkdirSync(join(root, "etc"));
  mkdirSync(join(root, "usr/lib"), { recursive: true });
  symlinkSync("/", join(root, "to-slash"));
  symlinkSync("/etc", join(root, "to-etc"));
  symlinkSync("../../../../../etc", join(root, "up-and-out"));
  symlinkSync("usr/lib", join(root, "lib"));
  symlinkSync("loop-b", join(root, "loop-a"));
  symlinkSync("loop-a", join(root, "loop-b"));
  symlinkSync("/etc/passwd", join(root, "etc/final-link"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("rootedPath under a root", () => {
  it.each([
    ["a plain path", "/etc/passwd", "etc/passwd"],
    ["a path that does not exist yet", "/var/lib/vacuum-agent/status.json", "var/lib/vacuum-agent/status.json"],
    ["a symlink to /", "/to-slash/etc/passwd", "etc/passwd"],
    ["a symlink to /etc", "/to-etc/passwd", "etc/passwd"],
    ["a relative symlink climbing above the root", "/up-and-out/shadow", "etc/shadow"],
    ["a relative symlink inside the tree", "/lib/libc.so", "usr/lib/libc.so"],
    ["a symlink as the last component", "/etc/final-link", "etc/passwd"],
    [".. inside the path", "/etc/../usr/lib", "usr/lib"],
    [".. after a symlink is physical, as in the kernel", "/lib/../share", "usr/share"],
    ["repeated slashes and dots", "//etc/./hosts", "etc/hosts"],
  ])("%s: %s", (_name, machinePath, under) => {
    const p = rootedPath(root, machinePath);
    expect(p).toBe(join(root, under));
    expect(p.startsWith(root + "/")).toBe(true);
  });

  it.each([
    ["a relative path", "etc/passwd", /absolute/],
    [".. above /", "/../etc/passwd", /goes above/],
    [".. above / later in the path", "/etc/../../x", /goes above/],
    ["a NUL byte", "/etc/pa\0sswd", /NUL/],
    ["a symlink loop", "/loop-a/x", /too many symlinks/],
  ])("refuses %s", (_name, machinePath, message) => {
    expect(() => rootedPath(root, machinePath)).toThrow(RootedPathError);
    expect(() => rootedPath(root, machinePath)).toThrow(message);
  });
});

describe("rootedPath without a root", () => {
  it.each([
    [null, "/etc/hostname", "/etc/hostname"],
    [null, "/etc//./hostname", "/etc/hostname"],
    ["/", "/var/lib/x", "/var/lib/x"],
  ])("root %s: %s is %s", (r, machinePath, expected) => {
    expect(rootedPath(r, machinePath)).toBe(expected);
  });

  it("still refuses relative paths and .. above /", () => {
    expect(() => rootedPath(null, "etc")).toThrow(RootedPathError);
    expect(() => rootedPath(null, "/../etc")).toThrow(RootedPathError);
  });
});
