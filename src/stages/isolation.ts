// Isolation: find Apptainer or Singularity, make sure unprivileged user namespaces are allowed
// (Debian's and OSG's Apptainer have no setuid starter), and prove both by running a trivial
// command in the configured image as the pilot user before the payload starts. When the config
// requires isolation a failure ends the VM with 500; when it is optional it is a warning and the
// payload runs without containers.

import { problem, type Problem } from "../config/problem.ts";
import type { Context } from "../context/context.ts";
import { explainRuntimeFailure } from "../isolation/failure.ts";
import type { IsolationHandoff } from "../isolation/handoff.ts";
import { probeIsolation, type IsolationFacts } from "../isolation/probe.ts";
import { chooseRuntime, type RuntimeChoice } from "../isolation/runtime.ts";
import { isolationSettings } from "../isolation/settings.ts";
import { usernsChanges, usernsUnavailable } from "../isolation/userns.ts";
import type { Action, RunCommandAction } from "../plan/actions.ts";
import type { Stage } from "./stage.ts";

/** Unpacking a SIF to a temporary sandbox (Debian has no squashfuse) on a slow disk stays well inside this. */
export const TEST_TIMEOUT_MS = 120_000;
export const SYSCTL_TIMEOUT_MS = 10_000;

// The probe is read once per Context so the problems and the plan see the same facts.
// TODO(gather): record probeIsolation() in ctx.machine.isolation; until then the first use reads it.
const factsCache = new WeakMap<Context, IsolationFacts>();

export function isolationFacts(ctx: Context): IsolationFacts {
  const recorded = (ctx.machine as { isolation?: IsolationFacts }).isolation;
  if (recorded) return recorded;
  const cached = factsCache.get(ctx);
  if (cached) return cached;
  const s = isolationSettings(ctx);
  const facts = probeIsolation({
    root: ctx.root,
    path: process.env.PATH,
    ...(s.runtime_path !== undefined ? { runtimePath: s.runtime_path } : {}),
    ...(s.image !== undefined ? { image: s.image } : {}),
  });
  factsCache.set(ctx, facts);
  return facts;
}

export const runtimeChoice = (ctx: Context): RuntimeChoice =>
  chooseRuntime(isolationFacts(ctx), isolationSettings(ctx), ctx.config.cvmfs.repositories ?? []);

/** Each reason the proof cannot succeed, addressed by the item to fix; [] when it can run. */
function blockers(ctx: Context): { path: string; message: string }[] {
  const s = isolationSettings(ctx);
  const facts = isolationFacts(ctx);
  const out: { path: string; message: string }[] = [];
  const choice = runtimeChoice(ctx);
  if (choice.kind === "none") out.push({ path: "isolation.runtime_path", message: choice.reason });
  const noUserns = usernsUnavailable(facts.userns);
  if (noUserns !== null) out.push({ path: "user.max_user_namespaces", message: noUserns });
  if (s.image === undefined) out.push({ path: "isolation.image", message: "no container image configured: expected a sandbox directory or a .sif file to prove the runtime with" });
  else if (!s.image.startsWith("/")) out.push({ path: "isolation.image", message: `expected an absolute path, found ${JSON.stringify(s.image)}` });
  // An image on CVMFS cannot be seen before CVMFS is mounted: the test command checks it.
  else if (facts.image?.kind === "missing" && !s.image.startsWith("/cvmfs/")) out.push({ path: "isolation.image", message: `the container image ${s.image} does not exist` });
  return out;
}

/**
 * For the planner's problem collection: an error (500, the VM ends before any stage) when
 * isolation is required and cannot work, a warning when it is optional.
 */
/** Isolation is wanted when it is required or an image is configured; otherwise the stage is silent. */
export const isolationWanted = (ctx: Context): boolean => {
  const s = isolationSettings(ctx);
  return s.required || s.image !== undefined;
};

export function isolationProblems(ctx: Context): Problem[] {
  if (!isolationWanted(ctx)) return [];
  const required = isolationSettings(ctx).required;
  return blockers(ctx).map((b) =>
    required
      ? problem("error", "machine", b.path, `isolation is required but ${b.message}`, 500)
      : problem("warning", "machine", b.path, `isolation is optional, the payload runs without containers: ${b.message}`),
  );
}

export function planIsolation(ctx: Context): Action[] {
  const s = isolationSettings(ctx);
  const choice = runtimeChoice(ctx);
  if (choice.kind === "none" || s.image === undefined) return [];
  const sysctls: Action[] = usernsChanges(isolationFacts(ctx).userns).map((c) => ({
    kind: "run-command",
    argv: ["sysctl", "-w", `${c.knob}=${c.to}`],
    timeoutMs: SYSCTL_TIMEOUT_MS,
    machineWide: true,
    why: `allow unprivileged user namespaces: ${c.why}`,
  }));
  const proof: RunCommandAction = {
    kind: "run-command",
    // -s: only errors, so the log holds Apptainer's FATAL line and not its INFO chatter.
    argv: [choice.path, "-s", "exec", s.image, ...s.test_command],
    user: ctx.config.accounts.pilot_user,
    timeoutMs: TEST_TIMEOUT_MS,
    why: `prove the container runtime (${choice.origin}${choice.note ? `, ${choice.note}` : ""}) by running ${s.test_command.join(" ")} in the image as the pilot user`,
  };
  return [...sysctls, proof];
}

/** What the payload is told once the stage has succeeded; null when isolation is not in use. */
export function isolationHandoff(ctx: Context): IsolationHandoff | null {
  if (isolation.skip(ctx) !== null) return null;
  const choice = runtimeChoice(ctx);
  return choice.kind === "found" ? { runtime: choice.path, image: isolationSettings(ctx).image ?? null } : null;
}

/** The shutdown text for a failed proof, from the runtime's stderr ("Cannot run a container: ..."). */
export const isolationFailureText = (stderr: string): string => `${isolation.failure.text}: ${explainRuntimeFailure(stderr).text}`;

export const isolation: Stage & { fatalWhen(ctx: Context): boolean } = {
  id: "isolation",
  title: "container isolation (Apptainer/Singularity, unprivileged user namespaces)",
  skip: (ctx) => {
    if (!isolationWanted(ctx)) return "not configured (no isolation.image, isolation.required false)";
    const b = blockers(ctx);
    if (b.length === 0) return null;
    // Required and blocked is refused before any stage (isolationProblems); optional goes on without.
    return `isolation is ${isolationSettings(ctx).required ? "required" : "optional"} and cannot work: ${b.map((x) => `${x.path}: ${x.message}`).join("; ")}`;
  },
  plan: planIsolation,
  // Static: required. The engine should ask fatalWhen(ctx): an optional isolation only warns.
  failure: { code: 500, fatal: true, text: "Cannot run a container" },
  fatalWhen: (ctx) => isolationSettings(ctx).required,
};
