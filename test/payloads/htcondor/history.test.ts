import { describe, expect, it } from "vitest";
import { ClassAd, parseHistory, parseValue } from "../../../src/payloads/htcondor/history.ts";

// Two records as condor_startd 23.9.6 wrote them (trimmed), each followed by its banner line.
const HISTORY = `Arguments = "-c id' '-un;' 'echo' 'job-ok"
ClusterId = 1
Cmd = "/bin/sh"
CpusUsage = 0.0
ExitBySignal = false
ExitCode = 0
GlobalJobId = "cm@vm#1.0#1795326590"
JobStatus = 4
MemoryUsage = ((ResidentSetSize + 1023) / 1024)
Owner = "ci"
ToE = [ How = "OF_ITS_OWN_ACCORD"; Who = "itself"; When = 1795326598; HowCode = 0; ExitCode = 0; ExitBySignal = false ]
*** Offset = 0 ClusterId = 1 ProcId = 0 Owner = "ci" CompletionDate = 1795326598
ClusterId = 2
GlobalJobId = "cm@vm#2.0#1795326600"
JobStatus = 5
HoldReason = "Error from slot1_1@vm: Failed to execute '/bin/sh': (errno=22: \\"Invalid argument\\")"
*** Offset = 3573 ClusterId = 2 ProcId = 0 Owner = "ci" CompletionDate = 0
`;

describe("parseHistory", () => {
  it("reads each ad up to its banner, with typed values", () => {
    const h = parseHistory(HISTORY);
    expect(h.unreadableLines).toBe(0);
    expect(h.ads).toHaveLength(2);
    const [a, b] = h.ads as [ClassAd, ClassAd];
    expect(a.number("jobstatus")).toBe(4);
    expect(a.string("Owner")).toBe("ci");
    expect(a.get("ExitBySignal")).toBe(false);
    expect(a.get("CpusUsage")).toBe(0);
    expect(a.get("MemoryUsage")).toEqual({ expr: "((ResidentSetSize + 1023) / 1024)" });
    const toe = a.get("ToE") as ClassAd;
    expect(toe.string("How")).toBe("OF_ITS_OWN_ACCORD");
    expect(toe.number("When")).toBe(1795326598);
    expect(b.string("HoldReason")).toBe(`Error from slot1_1@vm: Failed to execute '/bin/sh': (errno=22: "Invalid argument")`);
  });

  it.each([
    ["", 0, 0],
    ["garbage without an equals sign\n", 0, 1],
    ["A = 1\n\nB = 2\n", 2, 0],
    ["A = 1\nB = 2", 1, 0],
  ])("%j: %i ads, %i unreadable lines", (text, ads, bad) => {
    const h = parseHistory(text);
    expect([h.ads.length, h.unreadableLines]).toEqual([ads, bad]);
  });

  it.each([
    ['"a\\"b"', 'a"b'],
    ["-12", -12],
    ["1.5e3", 1500],
    ["TRUE", true],
    ["undefined", null],
    ['{ "a", 1, false }', ["a", 1, false]],
    ['"unterminated', { expr: '"unterminated' }],
    ["Cpus * 2", { expr: "Cpus * 2" }],
    ["1 + 2", { expr: "1 + 2" }],
  ])("parseValue(%s)", (text, value) => {
    expect(parseValue(text)).toEqual(value);
  });
});
