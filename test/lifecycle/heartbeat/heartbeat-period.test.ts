import { describe, expect, it } from "vitest";
import { heartbeatPeriodSeconds } from "../../../src/lifecycle/heartbeat/heartbeat-period.ts";

describe("heartbeatPeriodSeconds", () => {
  it.each([
    [undefined, 300],
    [null, 300],
    [0, 300],
    [-5, 300],
    [Number.NaN, 300],
    [3600, 300],
    [600, 300],
    [400, 200],
    [301, 150],
    [120, 60],
    [60, 30],
    [20, 30],
  ])("heartbeat_seconds %s → every %s s", (input, expected) => {
    expect(heartbeatPeriodSeconds(input)).toBe(expected);
  });
});
