import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastResort } from "../../src/cli/run-command.ts";

let root: string;
beforeEach(() => (root = mkdtempSync(join(tmpdir(), "last-resort-"))));
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("the top-level guard", () => {
  it("writes a 700 message and records the power-off under --root", async () => {
    const code = await lastResort(root, new Error("boom in a stage"));
    expect(code).toBe(70);
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toBe("700 Internal error in vacuum-agent: boom in a stage");
    expect(readFileSync(join(root, "var/lib/vacuum-agent/machine-actions.jsonl"), "utf8")).toContain('"power-off"');
  });

  it("keeps a message that already exists", async () => {
    mkdirSync(join(root, "var/spool/joboutputs"), { recursive: true });
    writeFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "200 Payload completed");
    await lastResort(root, new Error("late failure"), { powerOff: false });
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toBe("200 Payload completed");
  });
});
