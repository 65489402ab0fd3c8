// The boot timeline from an agent's vacuum-agent.jsonl.
import { describe, expect, it } from "vitest";
import { timelineOf } from "../../../src/manager/status/vm-details.ts";

const jsonl = (...events: unknown[]) => events.map((e) => (typeof e === "string" ? e : JSON.stringify(e))).join("\n");

describe("timelineOf", () => {
  it.each([
    ["finished stages in order, start events merged", jsonl({ event: "stage-start", stage: "layout" }, { event: "stage-finish", stage: "layout", state: "ok", durationMs: 3, time: "T1" }, { event: "stage-finish", stage: "payload", state: "failed", durationMs: 1500, time: "T2", error: "exit 3" }), [
      { stage: "layout", state: "ok", durationMs: 3, at: "T1", error: null },
      { stage: "payload", state: "failed", durationMs: 1500, at: "T2", error: "exit 3" },
    ]],
    ["a stage that started and never finished is running", jsonl({ event: "stage-finish", stage: "layout", state: "ok", durationMs: 3 }, { event: "stage-start", stage: "payload" }), [
      { stage: "layout", state: "ok", durationMs: 3, at: null, error: null },
      { stage: "payload", state: "running", durationMs: null, at: null, error: null },
    ]],
    ["the older msg form of the event", jsonl({ msg: "stage-finish", stage: "a", state: "ok", durationMs: 1 }), [{ stage: "a", state: "ok", durationMs: 1, at: null, error: null }]],
    ["lines cut short, foreign lines and nonsense are skipped", jsonl("not json", '{"event":"stage-finish","stage":"x"', { event: "stage-finish" }, { event: "stage-finish", stage: 5 }, { event: "other", stage: "y" }, "null", "[1]"), []],
    ["a negative or non-numeric duration is none", jsonl({ event: "stage-finish", stage: "a", state: "ok", durationMs: -4 }, { event: "stage-finish", stage: "b", durationMs: "7" }), [
      { stage: "a", state: "ok", durationMs: null },
      { stage: "b", state: "?", durationMs: null },
    ]],
  ])("%s", (_name, text, want) => expect(timelineOf(text)).toMatchObject(want));

  it("bounds what it keeps: 100 stages, 200 characters per string", () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ event: "stage-finish", stage: `s${i}`, state: "ok", durationMs: 1, error: "e".repeat(500) }));
    const t = timelineOf(jsonl(...many));
    expect(t).toHaveLength(100);
    expect(t[0]!.error).toHaveLength(200);
  });
});
