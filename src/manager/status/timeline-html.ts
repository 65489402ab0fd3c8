// A VM's boot timeline on the status page: a compact bar, one segment per stage, as wide as the
// stage was long and coloured by how it ended (title: stage, state, duration), and under it a
// <details> table of the stage durations with the error of a failed stage. <details> opens without
// JavaScript.

import { durationText } from "./human-duration.ts";
import { esc } from "./html-escape.ts";
import type { TimelineStage } from "./vm-details.ts";

const KNOWN_STATES = new Set(["ok", "failed", "skipped", "degraded", "running"]);
/** The state as a CSS class: only the agent's own states, anything else is "other". */
const stateClass = (s: string): string => (KNOWN_STATES.has(s) ? s : "other");

export function timelineHtml(stages: readonly TimelineStage[]): string {
  if (stages.length === 0) return `<span class="none">no timeline uploaded</span>`;
  const segments = stages
    .map((t) => {
      // The width: the stage's share of the whole; a stage without a duration gets a fixed sliver.
      const grow = t.durationMs === null ? 0 : Math.max(0, Math.round(t.durationMs));
      return `<span class="seg ${stateClass(t.state)}" style="flex-grow:${grow}" title="${esc(label(t))}"></span>`;
    })
    .join("");
  const total = stages.reduce((sum, t) => sum + (t.durationMs ?? 0), 0);
  const failed = stages.find((t) => t.state === "failed");
  const running = stages.find((t) => t.state === "running");
  const summary = [`${stages.length} stage${stages.length === 1 ? "" : "s"}`, durationText(total)];
  if (failed) summary.push(`failed at ${esc(failed.stage)}`);
  else if (running) summary.push(`in ${esc(running.stage)}`);
  const rows = stages
    .map((t) => `<tr class="${stateClass(t.state)}"><td>${esc(t.stage)}</td><td class="st">${esc(t.state)}</td><td class="num">${t.durationMs === null ? "–" : esc(durationText(t.durationMs))}</td><td class="err">${esc(t.error ?? "")}</td></tr>`)
    .join("");
  return `<div class="bar">${segments}</div><details><summary>${summary.join(" · ")}</summary><table class="stages"><thead><tr><th>stage</th><th>state</th><th>duration</th><th>error</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

const label = (t: TimelineStage): string => `${t.stage}: ${t.state}${t.durationMs === null ? "" : `, ${durationText(t.durationMs)}`}`;
