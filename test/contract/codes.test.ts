import { describe, expect, it } from "vitest";
import { SHUTDOWN_MESSAGE_PATTERN, shutdownMessage } from "../../src/contract/codes.ts";

describe("shutdownMessage", () => {
  it.each([
    [200, "Payload completed", "200 Payload completed"],
    [700, "line one\nline\ttwo é", "700 line one line two"],
    [600, "   ", "600 Grid-wide problem with job agent or application within VM"],
    // Cut at 200 characters, and never ending on the space the cut left.
    [600, `${"x".repeat(195)} tail-of-the-text`, `600 ${"x".repeat(195)}`],
  ] as const)("%i %j", (code, text, expected) => {
    const m = shutdownMessage(code, text);
    expect(m).toBe(expected);
    expect(m.length).toBeLessThanOrEqual(200);
    expect(SHUTDOWN_MESSAGE_PATTERN.test(m)).toBe(true);
  });
});
