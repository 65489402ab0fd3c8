// A real HTCondor 23.9.6 pool on loopback for tests: Debian trixie's package in the chroot that
// scripts/chroot-htcondor.sh builds once and caches (services.md "HTCondor"). Everything runs under
// the script's `prun` (pivot_root in a private mount+pid namespace): a daemon cannot outlive the
// process the test started, and nothing stays mounted.
//
//   startPool()       central manager (collector, negotiator, schedd) on 127.0.0.1:<free port>,
//                     its own private config under /srv/pools/<id>/cm, signing key made on start
//   pool.vm(...)      a directory for one execute node: the Context's --root inside the chroot, so
//                     the agent's planned paths (and the paths written into its config) are real
//   applyConfigPlan   the planned mkdir/write-file/run-command actions, done as the executor would
//   runNode           the planned run-payload through the agent's own supervisor (runPayload), its
//                     argv, readiness probe and drain commands wrapped in prun
//
// The CM follows services.md: SEC_ADVERTISE_*_AUTHENTICATION_METHODS so that the startd's token
// or password is really used (pitfall 10: FS would win on loopback), ENABLE_KERNEL_TUNING off
// (pitfall 2), short negotiation intervals.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand, type RunCommand } from "../../src/exec/runner.ts";
import type { Action, RunPayloadAction } from "../../src/plan/actions.ts";
import { runPayload, type PayloadControl, type PayloadResult } from "../../src/supervise/payload-process.ts";
import { afterAll, beforeAll } from "vitest";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";
import { closedPort } from "./closed-port.ts";

export const HTCONDOR_CHROOT_SCRIPT = join(process.cwd(), "scripts", "chroot-htcondor.sh");
const BUILD_TIMEOUT_MS = 300_000;

export interface HtcondorChroot {
  dir: string;
}

/** Builds (or reuses) the chroot; a reason to skip when it cannot be had (not root, no network). */
export function prepareHtcondorChroot(): { chroot: HtcondorChroot; skip: null } | { chroot: null; skip: string } {
  if (process.getuid?.() !== 0) return { chroot: null, skip: "the HTCondor chroot needs root (mount namespaces, pivot_root, condor_master as root)" };
  const build = spawnSync("sh", [HTCONDOR_CHROOT_SCRIPT, "build"], { encoding: "utf8", timeout: BUILD_TIMEOUT_MS });
  if (build.status !== 0) {
    const tail = `${build.stderr ?? ""}${build.stdout ?? ""}`.trim().split("\n").slice(-3).join(" | ");
    return { chroot: null, skip: `cannot build the trixie chroot with HTCondor (sh scripts/chroot-htcondor.sh build; no network?): ${tail || build.error?.message}` };
  }
  const dir = spawnSync("sh", [HTCONDOR_CHROOT_SCRIPT, "path"], { encoding: "utf8" }).stdout.trim();
  return { chroot: { dir }, skip: null };
}

/** argv run inside the chroot (after pivot_root). */
export const inChroot = (argv: readonly string[]): string[] => ["sh", HTCONDOR_CHROOT_SCRIPT, "prun", ...argv];

/** The agent's runner, with every program run inside the chroot. */
export const chrootRunCommand: RunCommand = (argv, o) => runCommand(inChroot(argv), o);

export function chrootIds(c: HtcondorChroot, user: string): { uid: number; gid: number } {
  const line = readFileSync(join(c.dir, "etc/passwd"), "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user} in the chroot's /etc/passwd`);
  const [, , uid = "0", gid = "0"] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The processes a prun started: unshare and its child, the pid namespace's init (e.g. condor_master). */
function prunTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children];
  } catch {
    return [pid];
  }
}

/**
 * Stops what a prun started: SIGTERM to the namespace's init (condor_master's graceful shutdown;
 * it calls setsid(), so a process-group signal would miss it), SIGKILL after `graceMs`; every other
 * process of the namespace ends with its init.
 */
export async function stopGroup(pid: number | undefined, graceMs = 20_000): Promise<void> {
  if (pid === undefined || !alive(pid)) return;
  const tree = prunTree(pid);
  // The init only: unshare waits for it (and reaps it), then exits with its status.
  process.kill(tree[tree.length - 1]!, "SIGTERM");
  const until = Date.now() + graceMs;
  while (tree.some(alive) && Date.now() < until) await sleep(100);
  for (const p of tree) killIfAlive(p);
}

export interface Pool {
  chroot: HtcondorChroot;
  id: string;
  port: number;
  /** host:port for payload.htcondor.collector. */
  collector: string;
  /** The CM's CONDOR_CONFIG inside the chroot. */
  cmConfig: string;
  /** Runs argv inside the chroot with the CM's configuration (as root, or as `user`). */
  tool(argv: readonly string[], user?: string, timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  /** An IDTOKEN signed by the pool for condor@vacuum.test. */
  token(): string;
  /** The pool's POOL signing key file, base64: what payload.htcondor.pool_password_base64 carries. */
  poolPasswordBase64(): string;
  /** A fresh execute-node root inside the chroot: { inner: as HTCondor sees it, host: on this machine }. */
  vm(name: string): { inner: string; host: string };
  /** Submits a vanilla job as user ci; returns its cluster id. */
  submit(lines: string[]): number;
  stop(): Promise<void>;
}

const CM_CONFIG = (dir: string, port: number) => `use security:recommended_v9_0
LOCAL_DIR = ${dir}
RELEASE_DIR = /usr
LIBEXEC = /usr/libexec/condor
ETC = $(LOCAL_DIR)
LOG = $(LOCAL_DIR)/log
SPOOL = $(LOCAL_DIR)/spool
EXECUTE = $(LOCAL_DIR)/execute
LOCK = $(LOCAL_DIR)/lock
RUN = $(LOCAL_DIR)/run
SEC_TOKEN_SYSTEM_DIRECTORY = $(LOCAL_DIR)/tokens.d
SEC_TOKEN_DIRECTORY = $(LOCAL_DIR)/tokens.d
SEC_PASSWORD_DIRECTORY = $(LOCAL_DIR)/passwords.d
LOCAL_CONFIG_FILE =
LOCAL_CONFIG_DIR =
CONDOR_HOST = 127.0.0.1
COLLECTOR_HOST = 127.0.0.1:${port}
NETWORK_INTERFACE = 127.0.0.1
BIND_ALL_INTERFACES = False
ENABLE_IPV6 = False
USE_SHARED_PORT = False
DAEMON_LIST = MASTER, COLLECTOR, NEGOTIATOR, SCHEDD
MASTER_NAME = cm
SCHEDD_NAME = cm
UID_DOMAIN = vacuum.test
SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS, PASSWORD
SEC_ADVERTISE_STARTD_AUTHENTICATION_METHODS = IDTOKENS, PASSWORD
SEC_ADVERTISE_MASTER_AUTHENTICATION_METHODS = IDTOKENS, PASSWORD
ENABLE_KERNEL_TUNING = False
NEGOTIATOR_INTERVAL = 5
NEGOTIATOR_CYCLE_DELAY = 5
SCHEDD_INTERVAL = 5
`;

/** Lines a test execute node needs only because the CM shares its host (services.md pitfalls 3, 10). */
export const LOOPBACK_NODE_LINES = [
  "NETWORK_INTERFACE = 127.0.0.1",
  "BIND_ALL_INTERFACES = False",
  "ENABLE_IPV6 = False",
  "SEC_USE_FAMILY_SESSION = False",
];

/**
 * One pool for the enclosing describe block: started before its tests (the chroot's `sh` allowed
 * for the whole file), stopped after them; `use` receives it.
 */
export function poolForSuite(chroot: () => HtcondorChroot, use: (pool: Pool) => void): void {
  let pool: Pool | undefined;
  beforeAll(async () => {
    allowSubprocess(["sh"]);
    pool = await startPool(chroot());
    use(pool);
  }, 60_000);
  afterAll(async () => {
    await pool?.stop();
  }, 30_000);
}

export async function startPool(c: HtcondorChroot): Promise<Pool> {
  const id = `p${process.pid}-${randomBytes(3).toString("hex")}`;
  const inner = `/srv/pools/${id}`;
  const host = join(c.dir, inner.slice(1));
  const port = await closedPort();
  const condor = chrootIds(c, "condor");
  const ci = chrootIds(c, "ci");
  mkdirSync(join(host, "cm", "log"), { recursive: true });
  chownSync(join(host, "cm", "log"), condor.uid, condor.gid);
  mkdirSync(join(host, "cm", "passwords.d"), { recursive: true, mode: 0o700 });
  mkdirSync(join(host, "jobs"), { recursive: true });
  chownSync(join(host, "jobs"), ci.uid, ci.gid);
  const cmConfig = `${inner}/cm/condor_config`;
  writeFileSync(join(host, "cm", "condor_config"), CM_CONFIG(`${inner}/cm`, port));
  const master: ChildProcess = spawn("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", "env", `CONDOR_CONFIG=${cmConfig}`, "condor_master", "-f"], { detached: true, stdio: "ignore" });
  const tool: Pool["tool"] = (argv, user, timeoutMs = 60_000) => {
    const who = user ? (() => {
      const u = chrootIds(c, user);
      return ["setpriv", `--reuid=${u.uid}`, `--regid=${u.gid}`, "--clear-groups", "env", `HOME=/home/${user}`];
    })() : [];
    const r = spawnSync("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", ...who, "env", `CONDOR_CONFIG=${cmConfig}`, ...argv], { encoding: "utf8", timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };
  // The collector answers ~0.3 s after the master starts; the schedd a little later.
  const until = Date.now() + 30_000;
  for (;;) {
    const r = tool(["condor_status", "-schedd", "-af", "Name"]);
    if (r.status === 0 && r.stdout.includes("cm@")) break;
    if (Date.now() > until) {
      await stopGroup(master.pid, 0);
      throw new Error(`the pool's central manager did not come up in 30 s: ${r.stderr.trim()}`);
    }
    await sleep(300);
  }
  let jobs = 0;
  return {
    chroot: c,
    id,
    port,
    collector: `127.0.0.1:${port}`,
    cmConfig,
    tool,
    token: () => {
      const r = tool(["condor_token_create", "-identity", "condor@vacuum.test", "-lifetime", "3600"]);
      if (r.status !== 0) throw new Error(`condor_token_create failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    poolPasswordBase64: () => readFileSync(join(host, "cm", "passwords.d", "POOL")).toString("base64"),
    vm: (name) => ({ inner: `${inner}/${name}`, host: join(host, name) }),
    submit: (lines) => {
      const file = `job${++jobs}.sub`;
      writeFileSync(join(host, "jobs", file), ["universe = vanilla", "should_transfer_files = YES", "request_memory = 64", "request_disk = 1024", ...lines, "queue", ""].join("\n"));
      chownSync(join(host, "jobs", file), ci.uid, ci.gid);
      const r = spawnSync("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", "setpriv", `--reuid=${ci.uid}`, `--regid=${ci.gid}`, "--clear-groups", "env", "HOME=/home/ci", `CONDOR_CONFIG=${cmConfig}`, "sh", "-c", `cd ${inner}/jobs && condor_submit -terse ${file}`], { encoding: "utf8", timeout: 60_000 });
      const m = /^(\d+)\.\d+/.exec(r.stdout.trim());
      if (r.status !== 0 || !m) throw new Error(`condor_submit failed: ${r.stderr}${r.stdout}`);
      return Number(m[1]);
    },
    stop: async () => {
      // The group holds unshare and condor_master (the namespace's init): SIGTERM is the master's
      // graceful shutdown; when it exits, the kernel ends every daemon of its namespace.
      await stopGroup(master.pid);
      // Daemons of the namespace die with its init, their last log lines a moment later.
      if (existsSync(host)) rmSync(host, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}

/**
 * Performs a config plan's actions on an execute node's root as the executor would (files under
 * `hostRoot`, owners from the chroot's passwd, commands inside the chroot).
 */
export async function applyConfigPlan(c: HtcondorChroot, hostRoot: string, actions: readonly Action[]): Promise<void> {
  for (const a of actions) {
    if (a.kind === "mkdir") {
      const p = join(hostRoot, a.path);
      mkdirSync(p, { recursive: true, mode: a.mode });
      if (a.owner) {
        const ids = chrootIds(c, a.owner.user);
        chownSync(p, ids.uid, ids.gid);
      }
    } else if (a.kind === "write-file") {
      const p = join(hostRoot, a.path);
      mkdirSync(join(p, ".."), { recursive: true });
      writeFileSync(p, a.contents, { mode: a.mode });
      if (a.owner) {
        const ids = chrootIds(c, a.owner.user);
        chownSync(p, ids.uid, ids.gid);
      }
    } else if (a.kind === "run-command") {
      await chrootRunCommand(a.argv, { timeoutMs: a.timeoutMs, ...(a.env ? { env: a.env } : {}) });
    } else if (a.kind !== "run-payload") {
      throw new Error(`applyConfigPlan: no ${a.kind} expected in an htcondor plan`);
    }
  }
}

/** Every process started with this CONDOR_CONFIG (a master and its daemons: each in its own session). */
export function processesWithConfig(condorConfig: string): number[] {
  const want = `CONDOR_CONFIG=${condorConfig}`;
  const out: number[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(want)) out.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/**
 * The planned run-payload through the agent's supervisor, with condor_master and its probes in the
 * chroot. The supervisor's SIGKILL goes to its child's process group, which the setsid'd master
 * (and the daemons it started) left: whatever of this node is still running afterwards is killed here.
 */
export async function runNode(a: RunPayloadAction, hostRoot: string, control?: PayloadControl): Promise<PayloadResult> {
  const r = await runPayload(
    { ...a, argv: inChroot(a.argv) },
    { root: hostRoot, runCommand: chrootRunCommand, pollMs: 500, ...(control ? { control } : {}) },
  );
  const config = a.env?.CONDOR_CONFIG;
  if (config) for (const pid of processesWithConfig(config)) killIfAlive(pid);
  return r;
}

/** A daemon may exit between being listed and being killed: that is what we wanted anyway. */
function killIfAlive(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}
