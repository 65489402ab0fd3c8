// `agent run`: gather -> plan -> print (--dry-run) or perform. A real run always ends with a
// shutdown_message and a power-off (recorded under --root), whatever went wrong before.

import { formatProblem } from "../config/problem.ts";
import { gather } from "../context/gather.ts";
import { redactValues } from "../context/redact.ts";
import { executePlan } from "../engine/execute-plan.ts";
import { createExecutor } from "../exec/executor.ts";
import { rootedPath } from "../exec/rooted.ts";
import { buildPlan } from "../plan/plan.ts";
import { createLogger } from "../status/log.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import { createStatusWriter } from "../status/status-file.ts";
import { createSupervisor } from "../supervise/supervisor.ts";
import { addServices, clientCredentials } from "../supervise/services.ts";
import { atomicWrite, ensureParentDirsSync } from "../exec/atomic-write.ts";
import { reserveSpace, type SpaceReserve } from "../lifecycle/joboutputs/space-reserve.ts";
import { shutdownMessage } from "../contract/codes.ts";
import { existsSync } from "node:fs";
import { disarmWatchdog, type SpawnedWatchdog } from "../supervise/watchdog-spawn.ts";
import { VERSION } from "../version.ts";
import { startupMark, startupMarks } from "../status/startup-marks.ts";
import { EXIT } from "./help.ts";
import type { Options } from "./options.ts";
import { planJson, planText } from "./print-plan.ts";

/**
 * SIGTERM-to-SIGKILL grace for a payload once the agent was told to stop: Vac destroys the VM 30 s
 * after the power button, and the 100 message must be uploaded within 20 s.
 */
const STOP_GRACE_SECONDS = 8;
/** The final upload's budget after a stop request: the 100 message is uploaded within 20 s. */
const STOP_UPLOAD_BUDGET_MS = 10_000;

export async function runCommand(o: Options): Promise<number> {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!o.dryRun && o.root === null && !isRoot) {
    process.stderr.write("agent: a real run changes this machine and powers it off, so it must run as root on the VM; use --dry-run to see the plan, or --root DIR to run into a directory\n");
    return EXIT.usage;
  }
  if (o.dryRun) return await perform(o);
  try {
    return await perform(o);
  } catch (err) {
    // The top-level guard: whatever broke inside the agent, the VM still ends with a message.
    return await lastResort(o.root, err);
  }
}

async function perform(o: Options): Promise<number> {
  const ctx = await gather({
    userData: o.userData,
    metadataUrl: o.metadataUrl,
    configDrive: o.configDrive,
    root: o.root,
    dryRun: o.dryRun,
    sets: o.sets,
    env: process.env,
    now: Date.now,
    ...(o.metadataWaitSeconds !== null ? { metadataMaxWaitMs: o.metadataWaitSeconds * 1000 } : {}),
  });
  const plan = buildPlan(ctx);
  startupMark("plan");
  const warnings = plan.problems.some((p) => p.severity === "warning");

  if (o.dryRun) {
    process.stdout.write(o.json ? planJson(ctx, plan) : planText(ctx, plan));
    return plan.refusal ? EXIT.failed : warnings ? EXIT.degraded : EXIT.ok;
  }

  const path = (machinePath: string) => rootedPath(o.root, machinePath);
  const log = createLogger({ jsonlPath: path(AGENT_PATHS.log), stderr: process.stderr, level: "info" });
  const redact = (s: string) => redactValues(s, ctx.secrets);
  log.info(`agent ${VERSION} starting`, { root: o.root, userData: ctx.userData?.origin ?? null, metadata: ctx.metadata?.provider ?? null, startupMs: startupMarks() });
  for (const p of plan.problems) (p.severity === "error" ? log.error : p.severity === "warning" ? log.warn : log.info)(redact(formatProblem(p)));
  const status = createStatusWriter(
    path(AGENT_PATHS.status),
    { agentVersion: VERSION, stages: [...plan.stages.map((s) => s.stage.id), "finish"], dryRun: false, startedAt: new Date(ctx.startedAt * 1000), problems: plan.problems.map((p) => ({ ...p, message: redact(p.message) })) },
    { onWriteError: (err) => log.warn(`cannot write status.json: ${err.message}`) },
  );
  let watchdog: SpawnedWatchdog | undefined;
  let reserve: SpaceReserve | undefined;
  const supervisor = createSupervisor({ stopAt: ctx.deadline.effective, log, stopGraceSeconds: STOP_GRACE_SECONDS, signals: true });
  if (!plan.refusal) {
    // The heartbeat writes into the spool from the first second, before the layout stage runs.
    ensureParentDirsSync(path(AGENT_PATHS.joboutputs));
    // A payload that fills the disk must not leave the shutdown_message unwritable.
    reserve = await reserveSpace(path(AGENT_PATHS.joboutputs), { log });
    addServices(ctx, supervisor, log, o.metadataUrl);
  }
  await supervisor.start();
  startupMark("services");
  log.info("services started", { startupMs: startupMarks() });
  const executor = createExecutor({
    root: o.root,
    log,
    machineActionLog: AGENT_PATHS.machineActions,
    payloadControl: supervisor.control,
    clientCredentials: clientCredentials(ctx),
    uploadBudgetMs: () => (supervisor.stopRequested() !== null ? STOP_UPLOAD_BUDGET_MS : null),
    onWatchdog: (w) => (watchdog = w),
    ...stubCommands(o.root),
  });
  const result = await executePlan(ctx, plan, {
    apply: (actions, stageId) => executor.apply(actions, stageId),
    stageStarted: (id) => {
      status.stageStarted(id);
      log.event("stage-start", { stage: id });
    },
    stageFinished: (id, state, detail) => {
      status.stageFinished(id, state, detail);
      log.event("stage-finish", { stage: id, state, ...detail });
    },
    beforePowerOff: async (r) => {
      // Under --root the power-off is only recorded: the watchdog must not record a second one later.
      // On a VM it stays armed, in case the power-off below fails.
      if (o.root !== null && watchdog) await disarmWatchdog(o.root, watchdog, { log });
      status.finish({ state: r.outcome.code === 200 || r.outcome.code === 100 ? "done" : "failed", shutdownMessage: r.shutdownMessage });
      log.info(`finished: ${r.shutdownMessage}`);
    },
    beforeFinish: async () => {
      await supervisor.stop();
      await reserve?.release();
    },
    stopRequested: () => supervisor.stopRequested(),
    log,
    now: Date.now,
  });
  if (result.outcome.code !== 200 && result.outcome.code !== 100) return EXIT.failed;
  if (!result.finishOk) return EXIT.failed;
  return warnings || result.degradedStages.length > 0 ? EXIT.degraded : EXIT.ok;
}

/**
 * Black-box tests point every external command at stubs. Only honoured together with --root, so a
 * real run on a VM can never be redirected by its environment.
 */
function stubCommands(root: string | null): { commands?: { stubDir: string } } {
  const dir = root === null ? undefined : process.env.VACUUM_AGENT_TEST_STUB_DIR;
  return dir ? { commands: { stubDir: dir } } : {};
}

/**
 * An exception escaped the engine (a bug): write `700 …` unless a message exists, then power off
 * (recorded under --root). Exported for its test; nothing here may throw.
 */
export async function lastResort(root: string | null, err: unknown, deps: { powerOff?: boolean } = {}): Promise<number> {
  const text = err instanceof Error ? err.message : String(err);
  process.stderr.write(`agent: internal error: ${text}\n`);
  try {
    const file = rootedPath(root, `${AGENT_PATHS.joboutputs}/shutdown_message`);
    if (!existsSync(file)) {
      ensureParentDirsSync(rootedPath(root, AGENT_PATHS.joboutputs));
      await atomicWrite(file, shutdownMessage(700, `Internal error in vacuum-agent: ${text}`), { mode: 0o644 });
    }
  } catch (writeErr) {
    process.stderr.write(`agent: cannot write the shutdown_message: ${(writeErr as Error).message}\n`);
  }
  if (deps.powerOff !== false) {
    try {
      const log = createLogger({ jsonlPath: null, stderr: process.stderr, level: "info" });
      await createExecutor({ root, log, machineActionLog: AGENT_PATHS.machineActions }).apply([{ kind: "power-off", why: "the agent failed; the VM must still end" }], "last-resort");
    } catch (offErr) {
      process.stderr.write(`agent: cannot power off: ${(offErr as Error).message}\n`);
    }
  }
  return EXIT.internal;
}
