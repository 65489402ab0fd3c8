// The one effect executor: performs a stage's actions in order and stops at the first failure.
// Files (mkdir, write-file, fetch) are written under the root (rootedPath); with --root, actions
// that change the machine beyond files are appended to machine-actions.jsonl instead of being
// performed, so a run under --root changes nothing outside DIR except by run-commands the plan
// did not mark machine-wide. Every program goes through the runner; every file through an atomic
// write.

import { createHash } from "node:crypto";
import { appendFileSync, chownSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { posix } from "node:path";
import type { HttpRequest, HttpResponse } from "../net/http-client.ts";
import { isMachineWide, type Action, type Owner } from "../plan/actions.ts";
import { actionToJson, describeAction, octal, redactSecrets } from "../plan/describe.ts";
import type { LogSink } from "../status/log.ts";
import type { ShutdownCode } from "../contract/codes.ts";
import { performCheckPilotJson, performFetchPilot, performRunPilotHooks } from "./pilot-actions.ts";
import { ActionFailure } from "./action-failure.ts";
import { caDirectory } from "./ca-directory.ts";
export { ActionFailure } from "./action-failure.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import { findUser, resolveOwner, type OwnerIds } from "./accounts.ts";
import { atomicWrite, ensureDir, ensureParentDirsSync } from "./atomic-write.ts";
import type { CommandOverrides } from "./commands.ts";
import { rootedPath } from "./rooted.ts";
import { rootedInvocation } from "./rooted-invocation.ts";
import { watchdogArgv } from "../supervise/watchdog-args.ts";
import { mintProxyFile } from "../credentials/mint-proxy.ts";
import { performProbeCvmfs, performWaitPaths } from "../cvmfs/readiness.ts";
import { stageJobOutput } from "../lifecycle/joboutputs/stage-output.ts";
import { uploadJobOutputs } from "../lifecycle/joboutputs/upload.ts";
import { spawnWatchdog, type SpawnedWatchdog } from "../supervise/watchdog-spawn.ts";
import { runPayload, type PayloadControl, type PayloadResult } from "../supervise/payload-process.ts";
import { CommandError, runCommand, spawnDetached, type CommandResult, type RunCommand, type RunOptions, type SpawnDetached } from "./runner.ts";

export type HttpFetch = (req: HttpRequest) => Promise<HttpResponse>;

export interface ActionResult {
  action: Action;
  ok: boolean;
  /** Machine-wide action written to machine-actions.jsonl instead of performed (--root). */
  recorded: boolean;
  durationMs: number;
  /** One line: what failed and why. */
  error?: string;
  /** The shutdown code this failure means, when the action knows better than its stage (fetch-pilot: 500 vs 600). */
  code?: ShutdownCode;
  /** What was done, when worth saying ("already exists", "owner not applied: not root"). */
  detail?: string;
  /** For run-payload: how the payload ended (the engine maps it to the shutdown code). */
  payload?: PayloadResult;
}

export interface ExecutorOptions {
  /** --root DIR, or null for the real machine. */
  root: string | null;
  log: LogSink;
  runner?: RunCommand;
  spawner?: SpawnDetached;
  /** Defaults to src/net/http-client.ts httpRequest, loaded on first use. */
  fetch?: HttpFetch;
  /** Machine path of the record of machine-wide actions under --root. */
  machineActionLog?: string;
  /** Command table overrides (stub directory) for tests. */
  commands?: CommandOverrides;
  /** Whether chown and user switching are possible; defaults to "running as uid 0". */
  privileged?: boolean;
  /** Writes to /proc/sysrq-trigger; tests replace it (a real `o` powers the machine off at once). */
  sysrq?: (command: string) => void;
  /** Injectable wait (tests of the power-off fallback). */
  sleep?: (ms: number) => Promise<"timeout" | "sigterm" | void>;
  /** The agent binary the watchdog runs as (`agent watchdog …`); process.execPath by default. */
  agentExecutable?: string;
  /** Told about a started watchdog, so a normal end under --root can disarm it. */
  onWatchdog?: (w: SpawnedWatchdog) => void;
  /** The client certificate and key for job outputs over HTTPS (from the X.509 proxy or host certificate). */
  clientCredentials?: { x509_proxy?: { cert: string; key: string }; hostcert?: { cert: string; key: string } };
  /** A shorter budget for the final upload once a stop was requested (the host waits 30 s at most). */
  uploadBudgetMs?: () => number | null;
  /** Stop requests and the moving deadline for run-payload (the supervisor's side). */
  payloadControl?: PayloadControl;
  now?: () => Date;
}

export interface Executor {
  apply(actions: readonly Action[], stageId: string): Promise<ActionResult[]>;
}

interface Done {
  detail?: string;
  recorded?: boolean;
  payload?: PayloadResult;
}

/** Largest fetched file; bodies are held in memory to be checked before they are written. */
const FETCH_MAX_BYTES = 256 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
/** Resolves after ms, or at once with "sigterm" when the process gets SIGTERM. */
function sleepUntilSigterm(ms: number): Promise<"timeout" | "sigterm"> {
  return new Promise((resolve) => {
    const onTerm = () => {
      clearTimeout(timer);
      resolve("sigterm");
    };
    const timer = setTimeout(() => {
      process.off("SIGTERM", onTerm);
      resolve("timeout");
    }, ms);
    process.once("SIGTERM", onTerm);
  });
}

/** How long a requested power-off may take before SysRq `o` forces it. */
const POWER_OFF_WAIT_MS = 60_000;
const TIMEOUTS = { useradd: 60_000, mount: 120_000, hostname: 30_000, iptables: 30_000, poweroff: 30_000 } as const;

const oneLine = (s: string): string => s.replace(/\s+/g, " ").trim();
const joinNotes = (...notes: (string | undefined)[]): string | undefined => notes.filter(Boolean).join("; ") || undefined;

/** The target an error message names first. */
function targetOf(a: Action): string {
  switch (a.kind) {
    case "mkdir":
    case "write-file":
    case "fetch":
      return a.path;
    case "run-command":
    case "run-payload":
      return a.argv[0] ?? "";
    case "start-watchdog":
      return String(a.at);
    case "stage-joboutputs":
    case "upload-joboutputs":
      return a.spool;
    case "probe-cvmfs":
      return a.proxy;
    case "mint-proxy":
      return a.path;
    case "wait-paths":
      return a.paths[0] ?? "";
    case "create-user":
      return a.name;
    case "mount":
      return a.target;
    case "set-hostname":
      return a.hostname;
    case "start-service":
      return a.name;
    case "firewall":
      return a.rule.join(" ");
    case "power-off":
      return "";
    case "fetch-pilot":
    case "run-pilot-hooks":
      return a.dir;
    case "check-pilot-json":
      return a.path;
  }
}

/** `-A OUTPUT ...` / `-I OUTPUT 1 ...` as `-C OUTPUT ...`, or null when the rule is no append/insert. */
export function iptablesCheckForm(rule: readonly string[]): string[] | null {
  const i = rule.findIndex((r) => r === "-A" || r === "--append" || r === "-I" || r === "--insert");
  if (i < 0 || rule[i + 1] === undefined) return null;
  const insert = rule[i] === "-I" || rule[i] === "--insert";
  const skip = insert && /^[0-9]+$/.test(rule[i + 2] ?? "") ? 3 : 2;
  return [...rule.slice(0, i), "-C", rule[i + 1]!, ...rule.slice(i + skip)];
}

/** Mount points in /proc/self/mountinfo (field 5, with \040-style escapes undone). */
function mountPoints(): Set<string> {
  try {
    const text = readFileSync("/proc/self/mountinfo", "utf8");
    return new Set(
      text
        .split("\n")
        .map((l) => l.split(" ")[4])
        .filter((m): m is string => m !== undefined)
        .map((m) => m.replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8)))),
    );
  } catch {
    return new Set();
  }
}

export function createExecutor(o: ExecutorOptions): Executor {
  const root = o.root;
  const run = o.runner ?? runCommand;
  const spawnService = o.spawner ?? spawnDetached;
  const privileged = o.privileged ?? process.getuid?.() === 0;
  const now = o.now ?? (() => new Date());
  const commands = o.commands;
  const at = (machinePath: string): string => rootedPath(root, machinePath);
  const runOpts = (timeoutMs: number, extra: Partial<RunOptions> = {}): RunOptions => ({
    timeoutMs,
    privileged,
    ...(commands ? { commands } : {}),
    ...extra,
  });

  /** uid/gid to apply, or a note saying why the owner is not applied. */
  function ownerIds(owner: Owner | undefined): { ids?: OwnerIds; note?: string } {
    if (!owner) return {};
    if (!privileged) return { note: `owner ${owner.user}:${owner.group} not applied (not running as root)` };
    const r = resolveOwner(root, owner);
    if (!("error" in r)) return { ids: r };
    // Under --root the user may exist only as a recorded create-user.
    if (root !== null) return { note: `owner not applied: ${r.error}` };
    throw new Error(r.error);
  }

  const ensureParent = (path: string): void => ensureParentDirsSync(posix.dirname(path));

  function record(a: Action, stageId: string): Done {
    const path = at(o.machineActionLog ?? AGENT_PATHS.machineActions);
    ensureParent(path);
    appendFileSync(path, JSON.stringify({ time: now().toISOString(), stage: stageId, action: actionToJson(a) }) + "\n", { mode: 0o644 });
    return { recorded: true, detail: `recorded in ${path}, not performed (--root)` };
  }

  const ran = (r: CommandResult): string | undefined => r.note;

  async function perform(a: Action, stageId: string): Promise<Done> {
    if (root !== null && isMachineWide(a)) return record(a, stageId);
    switch (a.kind) {
      case "mkdir": {
        const path = at(a.path);
        const { ids, note } = ownerIds(a.owner);
        const created = await ensureDir(path, a.mode);
        if (ids) chownSync(path, ids.uid, ids.gid);
        return { detail: joinNotes(created ? undefined : "already existed, mode set", note) };
      }
      case "write-file": {
        if (a.secret && (a.mode & 0o077) !== 0)
          throw new Error(`refusing to write a secret with mode ${octal(a.mode)}: group and other must have no access (0600 or stricter)`);
        const path = at(a.path);
        const { ids, note } = ownerIds(a.owner);
        ensureParent(path);
        await atomicWrite(path, a.contents, { mode: a.mode, ...(ids ?? {}) });
        return { detail: note };
      }
      case "fetch": {
        const path = at(a.path);
        const { ids, note } = ownerIds(a.owner);
        const http = o.fetch ?? (await import("../net/http-client.ts")).httpRequest;
        const res = await http({ url: a.url, connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, a.timeoutMs), timeoutMs: a.timeoutMs, maxBytes: FETCH_MAX_BYTES });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}, expected 200`);
        const actual = createHash("sha256").update(res.body).digest("hex");
        if (a.sha256 !== undefined && actual !== a.sha256.toLowerCase())
          throw new Error(`sha256 mismatch: expected ${a.sha256.toLowerCase()}, got ${actual} (${res.body.byteLength} bytes); file not written`);
        ensureParent(path);
        await atomicWrite(path, res.body, { mode: a.mode, ...(ids ?? {}) });
        return { detail: joinNotes(`${res.body.byteLength} bytes, sha256 ${actual}`, note) };
      }
      case "run-command": {
        const secrets = (a.secretEnv ?? []).map((k) => a.env?.[k]).filter((v): v is string => !!v);
        const { argv, user, note: rootNote } = rootedInvocation(root, a.argv, a.user);
        const r = await run(
          argv,
          runOpts(a.timeoutMs, {
            ...(user !== undefined ? { user } : {}),
            ...(a.env ? { env: a.env } : {}),
            ...(a.cwd !== undefined ? { cwd: at(a.cwd) } : {}),
            ...(a.okCodes ? { okCodes: a.okCodes } : {}),
            secrets,
          }),
        );
        return { detail: joinNotes(`exit ${r.exitCode} after ${r.durationMs} ms`, ran(r), rootNote) };
      }
      case "run-payload": {
        const r = await runPayload(a, { root, privileged, runCommand: run, log: o.log, ...(commands ? { commands } : {}), ...(o.payloadControl ? { control: o.payloadControl } : {}) });
        const how = r.end.kind === "exited" ? `exit ${r.end.exitCode}` : r.end.kind;
        return { detail: joinNotes(`${how} after ${r.durationMs} ms, ran as ${r.ranAs}`, r.note), payload: r };
      }
      case "stage-joboutputs": {
        const notes: string[] = [];
        for (const f of a.files) {
          if (!existsSync(at(f.from))) continue;
          const r = await stageJobOutput(at(a.spool), f.name, { path: at(f.from) }, { maxBytes: a.maxBytes, redact: redactSecrets, replace: true });
          notes.push(r.ok ? `${r.name}${r.cutBytes ? ` (${r.cutBytes} bytes cut)` : ""}` : `${f.name}: ${r.reason}`);
        }
        return { detail: notes.join(", ") || "nothing to stage" };
      }
      case "upload-joboutputs": {
        const cred = a.clientCertificate ? o.clientCredentials?.[a.clientCertificate] : undefined;
        const budget = Math.min(a.budgetMs, o.uploadBudgetMs?.() ?? a.budgetMs);
        const to = a.to.startsWith("/") ? at(a.to) : a.to;
        const r = await uploadJobOutputs({
          spoolDir: at(a.spool),
          joboutputs: to,
          last: a.last,
          tls: { ...(caDirectory(a.caDir, at) ? { caDir: caDirectory(a.caDir, at)! } : {}), ...(cred ? { cert: cred.cert, key: cred.key } : {}) },
          perRequestTimeoutMs: Math.min(a.perRequestTimeoutMs, budget),
          totalBudgetMs: budget,
          retries: 3,
          backoffMs: 1000,
          log: o.log,
        });
        const detail = `${r.uploaded.length} uploaded${r.failed.length ? `, failed: ${r.failed.map((f) => `${f.name} (${f.reason})`).join("; ")}` : ""}${r.skippedForBudget.length ? `, no time left for ${r.skippedForBudget.join(", ")}` : ""}`;
        // Never fatal: the VM must still power off; Vac and Vcycle see what arrived.
        if (r.failed.length || r.skippedForBudget.length) o.log.warn(`job outputs: ${detail}`);
        return { detail };
      }
      case "probe-cvmfs":
        return await performProbeCvmfs(a);
      case "mint-proxy": {
        const ids = ownerIds(a.owner);
        const r = await mintProxyFile({ certPath: at(a.certPath), keyPath: at(a.keyPath), path: at(a.path), notAfter: a.notAfter, mode: a.mode, ...(ids.ids ? { uid: ids.ids.uid, gid: ids.ids.gid } : {}) });
        return { detail: joinNotes(r.detail, ids.note) };
      }
      case "wait-paths":
        return await performWaitPaths(a, at);
      case "start-watchdog": {
        const argv = watchdogArgv(o.agentExecutable ?? process.execPath, { at: a.at, root, spool: AGENT_PATHS.joboutputs, message: a.message });
        const w = await spawnWatchdog(argv, { root, log: o.log, ...(commands ? { commands } : {}) });
        o.onWatchdog?.(w);
        return { detail: w.how === "systemd-run" ? `systemd unit ${w.unit}` : `pid ${w.pid}, detached` };
      }
      case "create-user": {
        if (findUser(root, a.name)) return { detail: `user ${a.name} already exists` };
        const argv = [
          "useradd",
          ...(a.system ? ["--system"] : []),
          "--home-dir", a.home,
          "--shell", a.shell,
          "--no-create-home",
          // Its own group of the same name, which the planned homes are owned by.
          "--user-group",
          ...(a.groups?.length ? ["--groups", a.groups.join(",")] : []),
          a.name,
        ];
        try {
          await run(argv, runOpts(TIMEOUTS.useradd));
        } catch (err) {
          // 9: name in use; created meanwhile by someone else, which is what we wanted.
          if (err instanceof CommandError && err.exitCode === 9 && findUser(root, a.name)) return { detail: `user ${a.name} already exists` };
          throw err;
        }
        return {};
      }
      case "mount": {
        const target = at(a.target);
        if (mountPoints().has(target)) return { detail: `${target} is already a mount point` };
        await run(["mount", "-t", a.fstype, ...(a.options.length ? ["-o", a.options.join(",")] : []), a.device, target], runOpts(TIMEOUTS.mount));
        return {};
      }
      case "set-hostname": {
        try {
          await run(["hostnamectl", "set-hostname", a.hostname], runOpts(TIMEOUTS.hostname));
          return {};
        } catch (first) {
          // No systemd (containers, minimal images): set the kernel's name and the file.
          await run(["hostname", a.hostname], runOpts(TIMEOUTS.hostname));
          await atomicWrite(at("/etc/hostname"), `${a.hostname}\n`, { mode: 0o644 });
          return { detail: `hostnamectl failed (${oneLine((first as Error).message)}); used hostname and /etc/hostname` };
        }
      }
      case "start-service": {
        const name = a.name.replace(/[^A-Za-z0-9_.-]/g, "_");
        const logPath = at(`${AGENT_PATHS.logDir}/${name}.log`);
        ensureParent(logPath);
        const d = await spawnService(a.argv, {
          ...(a.user !== undefined ? { user: a.user } : {}),
          ...(a.env ? { env: a.env } : {}),
          outputPath: logPath,
          privileged,
          ...(commands ? { commands } : {}),
        });
        const pidPath = at(`${AGENT_PATHS.services}/${name}.pid`);
        ensureParent(pidPath);
        await atomicWrite(pidPath, `${d.pid}\n`, { mode: 0o644 });
        return { detail: joinNotes(`pid ${d.pid}, output in ${logPath}`, d.note) };
      }
      case "firewall": {
        const check = iptablesCheckForm(a.rule);
        if (check) {
          const r = await run(["iptables", "-w", ...check], runOpts(TIMEOUTS.iptables, { okCodes: [0, 1] }));
          if (r.exitCode === 0) return { detail: "rule already present" };
        }
        await run(["iptables", "-w", ...a.rule], runOpts(TIMEOUTS.iptables));
        return {};
      }
      case "power-off": {
        // `shutdown -h now` (a halt that powers off; never a reboot: Vac destroys a rebooting VM),
        // falling back to poweroff -f; if the machine is still up a minute later, SysRq `o`.
        const tried: string[] = [];
        let asked = false;
        for (const argv of [["shutdown", "-h", "now"], ["systemctl", "poweroff"], ["poweroff", "-f"]]) {
          try {
            await run(argv, runOpts(TIMEOUTS.poweroff));
            tried.push(argv.join(" "));
            asked = true;
            break;
          } catch (err) {
            tried.push(oneLine((err as Error).message));
          }
        }
        // A SIGTERM while waiting is the shutdown itself reaching us: end at once, or systemd-shutdown
        // waits for the agent (up to 90 s, past the host's deadline).
        if (asked && (await (o.sleep ?? sleepUntilSigterm)(POWER_OFF_WAIT_MS)) === "sigterm") return { detail: joinNotes("SIGTERM: the machine is going down", ...tried) };
        // Still here: no init system did it. Sync, then power off through magic SysRq.
        const sysrq = o.sysrq ?? ((c: string) => writeFileSync("/proc/sysrq-trigger", c));
        sysrq("s");
        sysrq("o");
        return { detail: joinNotes("sysrq-trigger o", ...tried) };
      }
      case "check-pilot-json":
        return performCheckPilotJson(a, at, o.log);
      case "fetch-pilot": {
        const ids = ownerIds(a.owner);
        const r = await performFetchPilot(a, at, ids.ids, o.log);
        return { detail: joinNotes(r.detail, ids.note) ?? r.detail };
      }
      case "run-pilot-hooks":
        return performRunPilotHooks(a, at, run, commands, o.log);
      default: {
        const unknown: never = a;
        throw new Error(`unknown action ${JSON.stringify(unknown)}`);
      }
    }
  }

  return {
    async apply(actions, stageId) {
      const results: ActionResult[] = [];
      // Runs one action; its result, logged. Never throws.
      const one = async (action: Action): Promise<ActionResult> => {
        const summary = describeAction(action)[0] ?? action.kind;
        const t0 = performance.now();
        try {
          const done = await perform(action, stageId);
          const result: ActionResult = {
            action,
            ok: true,
            recorded: done.recorded ?? false,
            durationMs: Math.round(performance.now() - t0),
            ...(done.detail ? { detail: done.detail } : {}),
            ...(done.payload ? { payload: done.payload } : {}),
          };
          o.log.info(`stage ${stageId}: ${summary}`, {
            stage: stageId,
            kind: action.kind,
            durationMs: result.durationMs,
            ...(result.recorded ? { recorded: true } : {}),
            ...(result.detail ? { detail: result.detail } : {}),
          });
          return result;
        } catch (err) {
          const target = targetOf(action);
          const error = oneLine(`${action.kind}${target ? ` ${target}` : ""}: ${err instanceof Error ? err.message : String(err)}`);
          const code = err instanceof ActionFailure ? err.code : undefined;
          const result: ActionResult = { action, ok: false, recorded: false, durationMs: Math.round(performance.now() - t0), error, ...(code ? { code } : {}) };
          o.log.error(`stage ${stageId}: failed: ${error}`, { stage: stageId, kind: action.kind, durationMs: result.durationMs });
          return result;
        }
      };
      // In order; an action with `alongside` runs together with the group before it. The first
      // failure ends the stage once its group has ended (the results keep the plan's order).
      for (let i = 0; i < actions.length; ) {
        let end = i + 1;
        while (end < actions.length && actions[end]!.alongside) end++;
        const group = await Promise.all(actions.slice(i, end).map(one));
        results.push(...group);
        if (group.some((r) => !r.ok)) break;
        i = end;
      }
      return results;
    },
  };
}
