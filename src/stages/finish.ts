import { posix } from "node:path";
import { shutdownMessage, type ShutdownCode } from "../contract/codes.ts";
import type { Context } from "../context/context.ts";
import type { Action, UploadJobOutputsAction } from "../plan/actions.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import { htcondorJobOutputFiles } from "../payloads/htcondor/plan.ts";
import { managerJoboutputsUrl } from "../lifecycle/joboutputs/manager-target.ts";

export interface Outcome {
  code: ShutdownCode;
  text: string;
}

/** Largest file staged as a job output; bigger ones keep their head and tail around a marker. */
export const JOBOUTPUT_MAX_BYTES = 16 * 1024 * 1024;
/** The final upload's budget; a stop request cuts it (the host waits 30 s at most). */
export const UPLOAD_BUDGET_MS = 120_000;

/** What the agent itself leaves in the job outputs, next to the payload's own output. */
export function jobOutputFiles(ctx: Context): { from: string; name: string }[] {
  return [
    { from: AGENT_PATHS.log, name: "vacuum-agent.jsonl" },
    { from: AGENT_PATHS.context, name: "vacuum-agent-context.json" },
    { from: AGENT_PATHS.status, name: "vacuum-agent-status.json" },
    ...(ctx.config.payload.command?.log_files ?? []).map((f) => ({ from: f, name: posix.basename(f) })),
    ...(ctx.config.payload.type === "htcondor" ? htcondorJobOutputFiles(ctx) : []),
  ];
}

/** Every run ends here: logs staged, the shutdown_message written, all uploaded (the message last), power-off. */
export function planFinish(ctx: Context, outcome: Outcome): Action[] {
  const spool = AGENT_PATHS.joboutputs;
  const to = ctx.config.mjf.joboutputs;
  const creds = ctx.config.credentials;
  const actions: Action[] = [
    { kind: "mkdir", path: spool, mode: 0o755, why: "job outputs staged for upload" },
    { kind: "stage-joboutputs", spool, files: jobOutputFiles(ctx), maxBytes: JOBOUTPUT_MAX_BYTES, why: "the agent's log, timeline and context for the site and the experiment" },
    {
      kind: "write-file",
      path: `${spool}/shutdown_message`,
      mode: 0o644,
      contents: shutdownMessage(outcome.code, outcome.text),
      why: "the vacuum shutdown code Vac and Vcycle read (HSF-TN-2016-04)",
    },
  ];
  const upload = (url: string, clientCertificate: UploadJobOutputsAction["clientCertificate"], why: string): UploadJobOutputsAction => ({
    kind: "upload-joboutputs",
    spool,
    to: url,
    last: ["shutdown_message"],
    budgetMs: UPLOAD_BUDGET_MS,
    perRequestTimeoutMs: 30_000,
    caDir: creds.ca_dir,
    clientCertificate,
    why,
  });
  if (to && to.replace(/\/+$/, "") !== spool) {
    actions.push(upload(to.replace(/\/+$/, ""), creds.x509_proxy ? "x509_proxy" : creds.hostcert ? "hostcert" : null, "$JOBOUTPUTS: what Vac or Vcycle reads after the VM stops"));
  }
  // The VM's token rides in the manager URL's credentials: no client certificate needed.
  const manager = managerJoboutputsUrl(ctx);
  if (manager) actions.push(upload(manager, null, "the experiment's manager: its status page and records"));
  if (ctx.config.lifecycle.power_off) actions.push({ kind: "power-off", why: "a vacuum VM ends by powering off" });
  return actions;
}
