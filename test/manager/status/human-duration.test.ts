import { describe, expect, it } from "vitest";
import { ageText, durationText } from "../../../src/manager/status/human-duration.ts";

describe("ageText", () => {
  it.each([
    [0, "0 s"],
    [59.4, "59 s"],
    [60, "1 min"],
    [3599, "59 min"],
    [3600, "1 h"],
    [7500, "2 h 5 min"],
    [86400, "1 d"],
    [3 * 86400 + 2 * 3600 + 59, "3 d 2 h"],
    [-5, "0 s"],
  ])("%s s -> %s", (s, text) => expect(ageText(s)).toBe(text));
});

describe("durationText", () => {
  it.each([
    [3, "3 ms"],
    [999.4, "999 ms"],
    [1000, "1.0 s"],
    [1234, "1.2 s"],
    [12_400, "12 s"],
    [60_000, "1 min"],
    [200_000, "3 min 20 s"],
    [3_660_000, "1 h 1 min"],
  ])("%s ms -> %s", (ms, text) => expect(durationText(ms)).toBe(text));
});
