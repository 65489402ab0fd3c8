import { describe, expect, it } from "vitest";
import { startupMark, startupMarks } from "../../src/status/startup-marks.ts";

describe("startup marks", () => {
  it("records each name once, in order, as whole ms since the process started", async () => {
    startupMark("test-first");
    await new Promise((r) => setTimeout(r, 20));
    startupMark("test-second");
    startupMark("test-first"); // the first record of a name wins
    const m = startupMarks();
    const names = Object.keys(m).filter((k) => k.startsWith("test-"));
    expect(names).toEqual(["test-first", "test-second"]);
    expect(Number.isInteger(m["test-first"])).toBe(true);
    expect(m["test-second"]! - m["test-first"]!).toBeGreaterThanOrEqual(15);
    expect(m["test-first"]!).toBeLessThanOrEqual(Math.round(process.uptime() * 1000) + 1);
  });

  it("hands out a copy", () => {
    startupMark("test-copy");
    const m = startupMarks();
    m["test-copy"] = -1;
    expect(startupMarks()["test-copy"]).not.toBe(-1);
  });
});
