import { describe, expect, it } from "vitest";
import { problem } from "../../src/config/problem.ts";
import { buildPlan, outcomeOfProblems } from "../../src/plan/plan.ts";
import { makeContext } from "../support/context.ts";

describe("buildPlan", () => {
  it("plans every active stage and a 200 finish", () => {
    const plan = buildPlan(makeContext({ config: { identity: { hostname: "vm1.example" } } }));
    expect(plan.refusal).toBeNull();
    expect(plan.stages.map((s) => [s.stage.id, s.skipped === null])).toEqual([
      ["layout", true],
      ["watchdog", false],
      ["context-record", true],
      ["payload-config", false],
      ["hostname", true],
      ["metadata-lockdown", true],
      ["scratch-disk", true],
      ["accounts", false],
      ["mjf-environment", false],
      ["credentials", false],
      ["cvmfs", false],
      ["cvmfs-ready", false],
      ["isolation", false],
      ["payload", true],
    ]);
    expect(plan.expected).toEqual({ code: 200, text: "Payload completed" });
    expect(plan.finish.map((a) => a.kind)).toEqual(["mkdir", "stage-joboutputs", "write-file", "power-off"]);
  });

  it("a fatal problem refuses every stage and finishes with the problem's code", () => {
    const plan = buildPlan(makeContext({ problems: [problem("warning", "jobfeatures", "jobstart_secs", "ignored"), problem("error", "metadata", "http://x", "no answer", 500)] }));
    expect(plan.refusal).toEqual({ code: 500, text: "metadata: http://x: no answer" });
    for (const s of plan.stages) expect(s).toMatchObject({ skipped: expect.stringContaining("refused"), actions: [] });
    expect(plan.finish[2]).toMatchObject({ contents: "500 metadata: http://x: no answer" });
  });

  it("a payload whose configuration cannot work is refused up front with 600", () => {
    const plan = buildPlan(makeContext({ config: { payload: { type: "htcondor", htcondor: {} } } }));
    expect(plan.refusal?.code).toBe(600);
    expect(plan.problems).toContainEqual(expect.objectContaining({ path: expect.stringMatching(/^payload\.htcondor/), severity: "error" }));
  });

  it("an error without its own code is taken as 600", () => {
    expect(outcomeOfProblems([problem("error", "user_data", "", "broken")])).toEqual({ code: 600, text: "user_data: broken" });
    expect(outcomeOfProblems([problem("warning", "user_data", "", "meh")])).toBeNull();
  });
});
