import { describe, expect, it } from "vitest";
import { timelineHtml } from "../../../src/manager/status/timeline-html.ts";
import type { TimelineStage } from "../../../src/manager/status/vm-details.ts";

const stage = (s: Partial<TimelineStage> & { stage: string }): TimelineStage => ({ state: "ok", durationMs: null, at: null, error: null, ...s });

describe("timelineHtml", () => {
  it("one bar segment per stage, as wide as its duration, coloured by its state", () => {
    const html = timelineHtml([stage({ stage: "layout", durationMs: 3 }), stage({ stage: "payload", state: "failed", durationMs: 1500.6, error: "exit 3" }), stage({ stage: "finish", state: "running" })]);
    expect([...html.matchAll(/<span class="seg (\w+)" style="flex-grow:(\d+)" title="([^"]*)">/g)].map((m) => [m[1], m[2], m[3]])).toEqual([
      ["ok", "3", "layout: ok, 3 ms"],
      ["failed", "1501", "payload: failed, 1.5 s"],
      ["running", "0", "finish: running"],
    ]);
    expect(html).toContain("<summary>3 stages · 1.5 s · failed at payload</summary>");
    expect(html).toContain('<tr class="failed"><td>payload</td><td class="st">failed</td><td class="num">1.5 s</td><td class="err">exit 3</td></tr>');
  });

  it.each([
    ["a stage in progress", [stage({ stage: "payload", state: "running" })], "1 stage · 0 ms · in payload"],
    ["all done", [stage({ stage: "a", durationMs: 61_000 })], "1 stage · 1 min 1 s"],
  ])("summary: %s", (_n, stages, summary) => expect(timelineHtml(stages)).toContain(`<summary>${summary}</summary>`));

  it("no timeline uploaded", () => expect(timelineHtml([])).toBe('<span class="none">no timeline uploaded</span>'));

  it("escapes stage names, states and errors; an unknown state is not a class", () => {
    const html = timelineHtml([stage({ stage: '<img src=x onerror="alert(1)">', state: '"><b>', durationMs: 1, error: "<script>alert(2)</script>" })]);
    expect(html).not.toMatch(/<img|<script|<b>/);
    expect(html).toContain('class="seg other"');
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(html).toContain("&lt;script&gt;alert(2)&lt;/script&gt;");
  });
});
