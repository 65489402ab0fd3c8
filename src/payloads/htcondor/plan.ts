// The HTCondor payload as plan actions, in two parts the engine puts in two places:
//
//   planHtcondorConfig  early (before host preparation): directories, the configuration with
//                       START = False, the token and the pool password file
//   planHtcondorRun     the payload stage: the START file, then condor_master -f as root (it drops
//                       privileges itself; under systemd in a delegated scope, see masterArgv),
//                       ready when the startd is in the collector, drained before the deadline,
//                       its outcome read from the startd history and logs

import type { Context } from "../../context/context.ts";
import type { Action, DrainStep, ReadinessProbe, RunPayloadAction } from "../../plan/actions.ts";
import { AGENT_PATHS } from "../../status/paths.ts";
import { mjfExports } from "../../stages/mjf-environment.ts";
import { htcondorAuth } from "./auth.ts";
import { collectorHost, htcondorBaseConfig, htcondorStartConfig, vmId, classadString } from "./config.ts";
import { condorEnv, htcondorLayout, TOKEN_FILE_NAME, type HtcondorLayout } from "./layout.ts";
import { htcondorLifetime } from "./lifetime.ts";
import { MASTER_NOT_FOUND } from "./outcome.ts";
import { htcondorSettings } from "./settings.ts";

export const HTCONDOR_STDOUT = `${AGENT_PATHS.joboutputs}/htcondor-master-stdout.log`;
export const HTCONDOR_STDERR = `${AGENT_PATHS.joboutputs}/htcondor-master-stderr.log`;
/** The package's account: the daemons write LOG as condor (services.md pitfall 7). */
const CONDOR = { user: "condor", group: "condor" };
const ROOT = { user: "root", group: "root" };
/** A condor_off answers in well under a second; a hung collector must not hold the drain. */
const CONDOR_OFF_TIMEOUT_SECONDS = 60;
const PROBE_INTERVAL_MS = 1000;

/** The directory that exists when PID 1 is systemd (sd_booted()). */
export const SYSTEMD_BOOTED_DIR = "/run/systemd/system";

// Started from the agent, condor_master lives in the agent's own unit (cloud-final.service or
// cloud-init-main.service), whose cgroup is not delegated: systemd has enabled only the
// controllers it needs there (memory pids), HTCondor 23's starter fails to enable "+cpu +io
// +memory +pids" for its job cgroups (ENOENT), and every job runs with no cgroup: no memory limit,
// no usage, no OOM handling (seen in the real-VM test: "Error setting cgroup memory limit ... No
// such file or directory"). HTCondor's own condor.service has Delegate=yes; a transient scope
// with Delegate=yes does the same for the agent's master, and `systemd-run --scope` execs the
// master itself, so the supervisor's child (its signals, its exit status) is still condor_master.
// No --collect or --quiet: systemd 219 (EL7, CernVM 4) has neither.
const MASTER_SCRIPT = [
  `command -v condor_master > /dev/null 2>&1 || { echo "${MASTER_NOT_FOUND}" >&2; exit 127; }`,
  'if [ -d "$1" ] && command -v systemd-run > /dev/null 2>&1; then',
  '  exec systemd-run --scope --slice=system.slice --property=Delegate=yes --unit="vacuum-agent-htcondor-$$" -- condor_master -f',
  "fi",
  "exec condor_master -f",
].join("\n");

/** condor_master -f; on the real machine through the wrapper above (systemd is looked for when it runs). */
export function masterArgv(ctx: Context): string[] {
  // Under --root the master belongs to the test's tree, never to the host's systemd.
  return ctx.root === null ? ["sh", "-c", MASTER_SCRIPT, "sh", SYSTEMD_BOOTED_DIR] : ["condor_master", "-f"];
}

/** The user_data's base64 without the whitespace of line wrapping. */
export const normalBase64 = (base64: string): string => base64.replace(/\s+/g, "");

export function planHtcondorConfig(ctx: Context): Action[] {
  const s = htcondorSettings(ctx);
  const l = htcondorLayout(ctx);
  const auth = htcondorAuth(ctx);
  const actions: Action[] = [];
  if (l.localDir) actions.push({ kind: "mkdir", path: l.localDir, mode: 0o755, owner: ROOT, why: "the execute node's private HTCondor LOCAL_DIR" });
  actions.push(
    { kind: "mkdir", path: l.logDir, mode: 0o755, owner: CONDOR, why: "HTCondor's logs and the startd history (written by the condor account)" },
    { kind: "mkdir", path: l.executeDir, mode: 0o755, owner: CONDOR, why: "job sandboxes on the scratch disk" },
  );
  if (l.location === "private") actions.push({ kind: "mkdir", path: `${l.localDir}/config.d`, mode: 0o755, owner: ROOT, why: "where the START file goes" });
  actions.push({ kind: "write-file", path: l.configFile, mode: 0o644, owner: ROOT, contents: htcondorBaseConfig(ctx), why: "the execute node's configuration, START = False until the host is ready" });
  if (auth.token) {
    actions.push(
      { kind: "mkdir", path: l.tokenDir, mode: 0o700, owner: ROOT, why: "IDTOKENS directory" },
      { kind: "write-file", path: `${l.tokenDir}/${TOKEN_FILE_NAME}`, mode: 0o600, owner: ROOT, contents: `${s.idtoken!.trim()}\n`, secret: true, why: "the pool's IDTOKEN for this execute node" },
    );
  }
  if (auth.password) {
    const b64 = `${l.passwordDir}/POOL.base64`;
    const pool = `${l.passwordDir}/POOL`;
    actions.push(
      { kind: "mkdir", path: l.passwordDir, mode: 0o700, owner: ROOT, why: "pool password directory" },
      { kind: "write-file", path: b64, mode: 0o600, owner: ROOT, contents: `${normalBase64(s.pool_password_base64!)}\n`, secret: true, why: "the pool password file from the user_data, still base64" },
      {
        kind: "run-command",
        // The file is binary and write-file writes text: decoded here, 0600 from the start (HTCondor
        // refuses a password file others can read), the base64 copy removed.
        argv: ["sh", "-c", 'umask 077 && base64 -d < "$1" > "$2.tmp" && mv -f "$2.tmp" "$2" && rm -f "$1"', "sh", l.seen(b64), l.seen(pool)],
        timeoutMs: 10_000,
        why: "the pool password file in place: $(SEC_PASSWORD_DIRECTORY)/POOL (signs this node's own IDTOKENS, or PASSWORD)",
      },
    );
  }
  return actions;
}

/** condor_status asking the pool's collector for this VM's slot (VacuumVmId is unique per VM). */
export function readinessProbe(ctx: Context, l: HtcondorLayout = htcondorLayout(ctx)): ReadinessProbe {
  const s = htcondorSettings(ctx);
  return {
    // Slot ads (plain condor_status): since 23.x -startd also lists the startd daemon ad, which is
    // published before any slot can match.
    argv: ["condor_status", "-constraint", `VacuumVmId == ${classadString(vmId(ctx))}`, "-af", "Name"],
    env: condorEnv(l),
    expect: "\\S",
    timeoutSeconds: s.ready_timeout_seconds,
    intervalMs: PROBE_INTERVAL_MS,
    failure: { code: 600, text: notReadyText(collectorHost(s.collector ?? "?"), s.ready_timeout_seconds) },
    why: `the startd is visible in the collector ${s.collector ?? "?"}`,
  };
}

export const notReadyText = (host: string, seconds: number): string => `Collector ${host} unreachable: startd not visible after ${seconds} s`;

export function drainSteps(ctx: Context, l: HtcondorLayout = htcondorLayout(ctx)): DrainStep[] {
  const life = htcondorLifetime(ctx);
  if (life.peacefulLead === null || life.gracefulLead === null) return [];
  const off = (how: string): DrainStep["do"] => ({ kind: "run", argv: ["condor_off", how, "-daemon", "master"], env: condorEnv(l), timeoutSeconds: CONDOR_OFF_TIMEOUT_SECONDS });
  return [
    { leadSeconds: life.peacefulLead, do: off("-peaceful"), why: "no new jobs; running jobs finish, then the master exits" },
    { leadSeconds: life.gracefulLead, do: off("-graceful"), why: "jobs still running get their retirement time, then leave" },
  ];
}

/** The files the outcome reads besides the history, and the job outputs to keep. */
export function htcondorLogFiles(ctx: Context, l: HtcondorLayout = htcondorLayout(ctx)): string[] {
  // The master's stderr: where it says why it could not even open its log (services.md pitfall 7).
  return [`${l.logDir}/MasterLog`, `${l.logDir}/StartLog`, l.startFile, HTCONDOR_STDERR];
}

/** Everything worth keeping in the job outputs (flat names, htcondor- prefixed); no secrets in any. */
export function htcondorJobOutputFiles(ctx: Context): { from: string; name: string }[] {
  const l = htcondorLayout(ctx);
  const starters = ["StarterLog", "StarterLog.slot1", ...Array.from({ length: 8 }, (_, i) => `StarterLog.slot1_${i + 1}`)];
  return [
    ...["MasterLog", "StartLog", ...starters, "startd_history"].map((f) => ({ from: `${l.logDir}/${f}`, name: `htcondor-${f}` })),
    { from: l.configFile, name: "htcondor-config" },
    { from: l.startFile, name: "htcondor-start-config" },
  ];
}

export function planHtcondorRun(ctx: Context): Action[] {
  const l = htcondorLayout(ctx);
  const life = htcondorLifetime(ctx);
  const run: RunPayloadAction = {
    kind: "run-payload",
    name: "htcondor",
    argv: masterArgv(ctx),
    // As root: the master starts the startd as root, which runs jobs as nobody (or slot users).
    env: { ...Object.fromEntries(mjfExports(ctx)), ...condorEnv(l) },
    stdoutPath: HTCONDOR_STDOUT,
    stderrPath: HTCONDOR_STDERR,
    stopAt: life.stopAt,
    killGraceSeconds: ctx.config.lifecycle.kill_grace_seconds,
    outcome: { kind: "htcondor-history", historyPath: l.historyFile, logPaths: htcondorLogFiles(ctx, l) },
    drain: drainSteps(ctx, l),
    ready: readinessProbe(ctx, l),
    why: "the VM as an HTCondor execute node until it is idle or its deadline",
  };
  return [
    { kind: "write-file", path: l.startFile, mode: 0o644, owner: ROOT, contents: htcondorStartConfig(ctx), why: "host preparation passed: START flipped to the configured expression" },
    run,
  ];
}
