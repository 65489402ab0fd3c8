// The `command` payload: any executable (a local path, or a URL verified by sha256) run as an
// unprivileged user with the MJF environment, supervised until the VM's deadline.

import type { Context } from "../context/context.ts";
import { mjfExports } from "../stages/mjf-environment.ts";
import type { Action } from "../plan/actions.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import { payloadCaDirectory } from "../credentials/ca-directory.ts";
import { isolationHandoff } from "../stages/isolation.ts";
import { handoffEnv } from "../isolation/handoff.ts";

export const FETCHED_COMMAND = `${AGENT_PATHS.stateDir}/payload/command`;
export const PAYLOAD_STDOUT = `${AGENT_PATHS.joboutputs}/payload-stdout.log`;
export const PAYLOAD_STDERR = `${AGENT_PATHS.joboutputs}/payload-stderr.log`;

/** When the payload gets SIGTERM: the effective deadline, or earlier by its own timeout_seconds. */
export function commandStopAt(ctx: Context): number | null {
  const own = ctx.config.payload.command?.timeout_seconds;
  const candidates = [ctx.deadline.effective, own === undefined ? null : ctx.startedAt + own].filter((x): x is number => x !== null);
  return candidates.length ? Math.min(...candidates) : null;
}

export function planCommand(ctx: Context): Action[] {
  const cmd = ctx.config.payload.command;
  if (!cmd || (!cmd.path && !cmd.url)) return [];
  const home = `${AGENT_PATHS.stateDir}/home/${cmd.user}`;
  const actions: Action[] = [
    { kind: "create-user", name: cmd.user, home, shell: "/usr/sbin/nologin", system: true, why: "unprivileged account for the payload" },
    { kind: "mkdir", path: home, mode: 0o700, owner: { user: cmd.user, group: cmd.user }, why: "payload's home and working directory" },
  ];
  let executable = cmd.path!;
  if (cmd.url) {
    executable = FETCHED_COMMAND;
    actions.push({ kind: "mkdir", path: `${AGENT_PATHS.stateDir}/payload`, mode: 0o755, why: "downloaded payload" });
    actions.push({ kind: "fetch", url: cmd.url, path: FETCHED_COMMAND, sha256: cmd.sha256!, mode: 0o755, timeoutMs: 120_000, why: "payload executable, verified by sha256" });
  }
  const env: Record<string, string> = { HOME: home, ...Object.fromEntries(mjfExports(ctx)), ...cmd.env };
  if (ctx.config.identity.uuid) env.VACUUM_VM_UUID = ctx.config.identity.uuid;
  if (ctx.config.identity.space) env.VACUUM_SPACE = ctx.config.identity.space;
  if (ctx.config.identity.machinetype) env.VACUUM_MACHINETYPE = ctx.config.identity.machinetype;
  // What host preparation established, handed on: the CA directory and the container runtime.
  const caDir = payloadCaDirectory(ctx);
  if (caDir) env.X509_CERT_DIR = caDir.path;
  const container = isolationHandoff(ctx);
  if (container) Object.assign(env, handoffEnv(container));
  actions.push({
    kind: "run-payload",
    name: "command",
    argv: [executable, ...cmd.args],
    user: cmd.user,
    cwd: home,
    env,
    stdoutPath: PAYLOAD_STDOUT,
    stderrPath: PAYLOAD_STDERR,
    stopAt: commandStopAt(ctx),
    killGraceSeconds: ctx.config.lifecycle.kill_grace_seconds,
    ...(cmd.liveness_seconds ? { liveness: { paths: [PAYLOAD_STDOUT, PAYLOAD_STDERR, ...cmd.log_files], staleSeconds: cmd.liveness_seconds } } : {}),
    messageFile: `${home}/shutdown_message`,
    why: "the payload",
  });
  return actions;
}
