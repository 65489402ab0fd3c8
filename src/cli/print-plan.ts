// What `agent run --dry-run` prints: the inputs, the configuration with where each value came from,
// the deadline, the problems and the plan, as text or JSON. Secrets are redacted twice: by the
// action describer and by the known secret values of the context.

import { formatProblem } from "../config/problem.ts";
import { isoSeconds } from "../contract/unix-time.ts";
import type { Context } from "../context/context.ts";
import { redactedConfig, redactValues } from "../context/redact.ts";
import { flatten } from "../context/layers.ts";
import { actionToJson, describeAction } from "../plan/describe.ts";
import type { Plan } from "../plan/plan.ts";
import { shutdownMessage } from "../contract/codes.ts";
import { versionLine } from "../version.ts";
import { describeServices } from "../supervise/services.ts";


function inWords(seconds: number): string {
  const s = Math.round(seconds);
  const sign = s < 0 ? "-" : "";
  const a = Math.abs(s);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  return `${sign}${h}h ${String(m).padStart(2, "0")}m`;
}

export function planText(ctx: Context, plan: Plan): string {
  const out: string[] = [];
  const line = (s = "") => out.push(s);
  line(`${versionLine("agent")}: dry run, nothing on this machine is changed`);
  if (ctx.root) line(`paths are under --root ${ctx.root}; machine-wide actions would be recorded, not performed`);
  line();
  line("Inputs");
  const ud = ctx.userData;
  line(`  user_data   ${ud ? `${ud.origin}: ${ud.format}, ${ud.size} bytes, agent document ${ud.documentLocation ? `in ${ud.documentLocation}` : "not found"}` : "none"}`);
  const md = ctx.metadata;
  line(`  metadata    ${md === null ? "not used (--metadata-url none)" : md.provider ? `${md.provider} at ${md.origin}` : "no metadata service answered"}`);
  for (const a of md?.attempts ?? []) line(`                tried ${a.provider} ${a.url}: ${a.outcome} (${a.durationMs} ms)`);
  for (const which of ["machinefeatures", "jobfeatures"] as const) {
    const m = ctx.mjf?.[which];
    const values = m ? Object.entries(m.values).map(([k, v]) => `${k}=${v}`).join(" ") : "";
    line(`  ${which.padEnd(11)} ${m?.location ? `${m.location} (${m.kind}): ${values || "no values"}` : "not known"}`);
  }
  line(`  machine     ${ctx.machine.hostname}, ${ctx.machine.cpus} processors, ${(ctx.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
  line();
  line("Configuration (value, then where it came from)");
  const flat = flatten(redactedConfig(ctx.config));
  const width = Math.min(40, Math.max(...Object.keys(flat).map((k) => k.length)));
  for (const [path, value] of Object.entries(flat).sort(([a], [b]) => a.localeCompare(b))) {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    const origin = ctx.provenance[path];
    const shown = typeof value === "string" ? (value.includes("\n") ? JSON.stringify(value) : value) : JSON.stringify(value);
    line(`  ${path.padEnd(width)} = ${shown}    [${origin ? origin.source + (origin.location ? `, ${origin.location}` : "") : "default"}]`);
  }
  line();
  line("Deadline");
  const d = ctx.deadline;
  if (d.deadline === null) line("  none known: no MJF shutdown time, wall limit or lifecycle.max_wallclock_seconds");
  else {
    line(`  ${isoSeconds(d.deadline)} (in ${inWords(d.deadline - ctx.startedAt)}); the payload is stopped from ${isoSeconds(d.effective!)} (margin ${d.marginSeconds} s)`);
    for (const c of d.candidates) line(`    ${c.source}: ${isoSeconds(c.at)}`);
  }
  line();
  line(`Problems (${plan.problems.length})`);
  for (const p of plan.problems) line(`  ${formatProblem(p)}`);
  if (plan.problems.length === 0) line("  none");
  line();
  if (!plan.refusal) {
    line("While it runs");
    for (const l of describeServices(ctx)) line(`  ${l}`);
    line();
  }
  line(plan.refusal ? "Plan: refused, the VM ends at once" : "Plan");
  plan.stages.forEach(({ stage, skipped, actions }, i) => {
    line(`  [${i + 1}] ${stage.id}: ${stage.title}${skipped ? `: skipped (${skipped})` : ""}`);
    for (const a of actions) for (const [j, l] of describeAction(a).entries()) line(`      ${j === 0 ? "- " : "  "}${l}`);
  });
  line(`  [finish] ${plan.refusal ? "" : "when every stage succeeds: "}${shutdownMessage(plan.expected.code, plan.expected.text)}`);
  for (const a of plan.finish) for (const [j, l] of describeAction(a).entries()) line(`      ${j === 0 ? "- " : "  "}${l}`);
  return redactValues(out.join("\n") + "\n", ctx.secrets);
}

export function planJson(ctx: Context, plan: Plan): string {
  const doc = {
    agent: versionLine("agent"),
    dryRun: true,
    root: ctx.root,
    startedAt: isoSeconds(ctx.startedAt),
    inputs: {
      userData: ctx.userData && { origin: ctx.userData.origin, format: ctx.userData.format, size: ctx.userData.size, documentLocation: ctx.userData.documentLocation },
      metadata: ctx.metadata,
      machinefeatures: ctx.mjf?.machinefeatures ?? null,
      jobfeatures: ctx.mjf?.jobfeatures ?? null,
      machine: ctx.machine,
    },
    config: redactedConfig(ctx.config),
    provenance: ctx.provenance,
    deadline: { ...ctx.deadline, deadlineIso: ctx.deadline.deadline === null ? null : isoSeconds(ctx.deadline.deadline) },
    problems: plan.problems,
    refused: plan.refusal !== null,
    stages: plan.stages.map(({ stage, skipped, actions }) => ({ id: stage.id, title: stage.title, skipped, actions: actions.map(actionToJson) })),
    services: plan.refusal ? [] : describeServices(ctx),
    finish: { shutdownMessage: shutdownMessage(plan.expected.code, plan.expected.text), actions: plan.finish.map(actionToJson) },
  };
  return redactValues(JSON.stringify(doc, null, 2) + "\n", ctx.secrets);
}
