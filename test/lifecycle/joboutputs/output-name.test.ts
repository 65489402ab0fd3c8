import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { flatName, isFlatName, MAX_NAME_LENGTH, uniqueName } from "../../../src/lifecycle/joboutputs/output-name.ts";

describe("flatName", () => {
  it.each([
    ["payload-stdout.log", "payload-stdout.log"],
    ["dir/sub/file.log", "dir_sub_file.log"],
    ["../../etc/passwd", "_._.._etc_passwd"],
    [".hidden", "_hidden"],
    ["..", "_."],
    ["with space?&=.txt", "with_space___.txt"],
    ["héllo.log", "h_llo.log"],
    ["", "output"],
  ])("%j → %j", (raw, expected) => {
    expect(flatName(raw)).toBe(expected);
    expect(isFlatName(flatName(raw))).toBe(true);
  });

  it("shortens long names and keeps the extension", () => {
    const name = flatName("x".repeat(500) + ".log");
    expect(name.length).toBe(MAX_NAME_LENGTH);
    expect(name.endsWith(".log")).toBe(true);
  });
});

describe("isFlatName", () => {
  it.each([
    ["heartbeat", true],
    ["shutdown_message", true],
    ["a.b-c_d", true],
    [".vacuum-agent-reserve", false],
    [".heartbeat.tmp-1-abc", false],
    ["a/b", false],
    ["a?b", false],
    ["", false],
  ])("%j → %s", (name, ok) => expect(isFlatName(name)).toBe(ok));
});

describe("uniqueName", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "names-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps a free name and numbers a taken one before its extension", async () => {
    expect(await uniqueName(dir, "job.log")).toBe("job.log");
    writeFileSync(join(dir, "job.log"), "");
    expect(await uniqueName(dir, "job.log")).toBe("job-2.log");
    writeFileSync(join(dir, "job-2.log"), "");
    expect(await uniqueName(dir, "job.log")).toBe("job-3.log");
    writeFileSync(join(dir, "noext"), "");
    expect(await uniqueName(dir, "noext")).toBe("noext-2");
  });
});
