import { describe, expect, it } from "vitest";
import { heartbeatContent } from "../../../src/lifecycle/heartbeat/heartbeat-content.ts";

const proc = (files: Record<string, string | Error>) => async (path: string) => {
  const v = files[path];
  if (v === undefined || v instanceof Error) throw v ?? new Error("ENOENT");
  return v;
};

describe("heartbeatContent", () => {
  it.each([
    ["both files", { "/proc/loadavg": "0.52 0.58 0.59 1/467 12345\n", "/proc/uptime": "12345.67 45678.90\n" }, "0.52 0.58 0.59 12345.67 45678.90\n"],
    ["no /proc/uptime", { "/proc/loadavg": "1.00 2.00 3.00 2/100 7\n" }, "1.00 2.00 3.00 0.0 0.0\n"],
    ["no /proc at all", {}, "0.0 0.0 0.0 0.0 0.0\n"],
    ["garbage in loadavg", { "/proc/loadavg": "abc def\n", "/proc/uptime": "5.00 9.00\n" }, "0.0 0.0 0.0 5.00 9.00\n"],
    ["a short uptime line", { "/proc/loadavg": "0.1 0.2 0.3 1/1 1\n", "/proc/uptime": "5.00\n" }, "0.1 0.2 0.3 0.0 0.0\n"],
  ])("%s", async (_name, files, expected) => {
    expect(await heartbeatContent(proc(files))).toBe(expected);
  });

  it("reads the real /proc by default", async () => {
    expect(await heartbeatContent()).toMatch(/^\d+\.\d+ \d+\.\d+ \d+\.\d+ \d+(\.\d+)? \d+(\.\d+)?\n$/);
  });
});
