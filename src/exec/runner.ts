// The one subprocess chokepoint. Every program the agent runs goes through runCommand (or
// spawnDetached for services): the argv is resolved through the command table, PATH is set
// explicitly, a timeout kills the whole process group (SIGTERM, then SIGKILL after a grace), a
// failure is a typed CommandError whose message is one redacted line, and a policy hook lets unit
// tests forbid subprocesses unless they opt in (cloud-init's disable_subp_usage).

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { userInfo } from "node:os";
import { posix } from "node:path";
import { redactSecrets } from "../plan/describe.ts";
import { findUser } from "./accounts.ts";
import { childPath, commandPath, isCommandName, type CommandOverrides } from "./commands.ts";
import { shellQuote } from "./shell-quote.ts";

export interface RunOptions {
  /** Run as this user; only possible when the agent is root, otherwise it runs as itself (see ranAs). */
  user?: string;
  timeoutMs: number;
  /** Added to the child's minimal environment (PATH, LC_ALL=C, HOME, USER, LOGNAME). */
  env?: Record<string, string>;
  cwd?: string;
  /** Exit codes that count as success; [0] when absent. */
  okCodes?: number[];
  /** Written to the child's stdin, which is otherwise /dev/null. */
  input?: string | Uint8Array;
  /** Values blanked out of error messages (secret env values). */
  secrets?: readonly string[];
  /** Stub directory / path overrides for the command table (tests). */
  commands?: CommandOverrides;
  /** Between SIGTERM and SIGKILL on timeout; 5 s when absent. */
  killGraceMs?: number;
  /** Output kept per stream (the tail); 4 MiB when absent. */
  maxOutputBytes?: number;
  /** Whether we may switch users; defaults to "running as uid 0". */
  privileged?: boolean;
}

export interface CommandResult {
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Who the command really ran as. */
  ranAs: string;
  /** Set when the requested user could not be honoured. */
  note?: string;
}

export type RunCommand = (argv: readonly string[], options: RunOptions) => Promise<CommandResult>;

export class CommandError extends Error {
  override name = "CommandError";
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string,
    readonly timedOut: boolean,
    readonly durationMs: number,
  ) {
    super(message);
  }
}

export class UnexpectedSubprocessError extends Error {
  override name = "UnexpectedSubprocessError";
}

// ---- policy hook -------------------------------------------------------------------------------

/** Throws to forbid a subprocess; receives the argv as planned (before user switching). */
export type SubprocessPolicy = (argv: readonly string[]) => void;

// On globalThis so a test setup file and the code under test share it even if a module is loaded
// twice; a missing policy means "allowed" (production).
const POLICY = Symbol.for("vacuum-agent.subprocess-policy");
type PolicyHolder = { [POLICY]?: SubprocessPolicy | null };

export function setSubprocessPolicy(policy: SubprocessPolicy | null): void {
  (globalThis as PolicyHolder)[POLICY] = policy;
}

function checkPolicy(argv: readonly string[]): void {
  const policy = (globalThis as PolicyHolder)[POLICY];
  if (policy) policy(argv);
}

// ---- argv, user and environment ---------------------------------------------------------------

function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
}

const isPrivileged = (o: { privileged?: boolean }): boolean => o.privileged ?? process.getuid?.() === 0;

/** Table commands by absolute path; anything else is found on the explicit child PATH. */
function resolveProgram(name: string, commands: CommandOverrides | undefined): string {
  return !name.includes("/") && isCommandName(name) ? commandPath(name, commands) : name;
}

export interface Prepared {
  argv: string[];
  env: Record<string, string>;
  ranAs: string;
  note?: string;
}

/** The argv (wrapped for user switching), environment and identity a child will run with. */
export function prepare(argv: readonly string[], o: Omit<RunOptions, "timeoutMs">): Prepared {
  if (argv.length === 0 || !argv[0]) throw new CommandError("empty command line", argv, null, null, "", false, 0);
  checkPolicy(argv);
  const program = [resolveProgram(argv[0], o.commands), ...argv.slice(1)];
  const me = whoAmI();
  const base: Record<string, string> = { PATH: childPath(o.commands), LC_ALL: "C" };
  const wanted = o.user;
  if (wanted === undefined || wanted === me) {
    const self = findUser(null, me);
    return { argv: program, env: { ...base, HOME: self?.home ?? "/", USER: me, LOGNAME: me, ...o.env }, ranAs: me };
  }
  if (!isPrivileged(o)) {
    const self = findUser(null, me);
    return {
      argv: program,
      env: { ...base, HOME: self?.home ?? "/", USER: me, LOGNAME: me, ...o.env },
      ranAs: me,
      note: `asked to run as ${wanted}, but not running as root: ran as ${me}`,
    };
  }
  const entry = findUser(null, wanted);
  const env = { ...base, HOME: entry?.home ?? "/", USER: wanted, LOGNAME: wanted, ...o.env };
  // setpriv changes ids without PAM or a login shell; runuser covers users only NSS knows.
  const wrapped = entry
    ? [commandPath("setpriv", o.commands), `--reuid=${entry.uid}`, `--regid=${entry.gid}`, "--init-groups", "--", ...program]
    : [commandPath("runuser", o.commands), "-u", wanted, "--", ...program];
  return { argv: wrapped, env, ranAs: wanted };
}

// ---- output ------------------------------------------------------------------------------------

/** Keeps the last `max` bytes of a stream: the end of stderr is where the reason is. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString("utf8");
  }
}

function blank(text: string, secrets: readonly string[] | undefined): string {
  let out = redactSecrets(text);
  for (const s of secrets ?? []) if (s) out = out.split(s).join("<redacted>");
  return out;
}

const oneLine = (s: string): string => s.replace(/\s+/g, " ").trim();

function failure(
  how: string,
  argv: readonly string[],
  o: RunOptions,
  r: { exitCode: number | null; signal: string | null; stderr: string; timedOut: boolean; durationMs: number },
): CommandError {
  const tail = oneLine(blank(r.stderr, o.secrets)).slice(-300);
  const shown = blank(shellQuote(argv), o.secrets);
  return new CommandError(`${shown}: ${how}${tail ? `: ${tail}` : ""}`, argv, r.exitCode, r.signal, tail, r.timedOut, r.durationMs);
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole group, so a shell's children die with it and release the pipes.
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

// ---- running -----------------------------------------------------------------------------------

export const runCommand: RunCommand = async (argv, o) => {
  const p = prepare(argv, o);
  const okCodes = o.okCodes ?? [0];
  const max = o.maxOutputBytes ?? 4 * 1024 * 1024;
  const started = performance.now();
  return await new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(p.argv[0]!, p.argv.slice(1), {
      cwd: o.cwd,
      env: p.env,
      detached: true,
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const stdout = new Tail(max);
    const stderr = new Tail(max);
    child.stdout?.on("data", (c: Buffer) => stdout.push(c));
    child.stderr?.on("data", (c: Buffer) => stderr.push(c));
    if (o.input !== undefined && child.stdin) {
      child.stdin.on("error", () => undefined); // the child may exit without reading
      child.stdin.end(o.input);
    }
    let timedOut = false;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGTERM");
      grace = setTimeout(() => killGroup(child, "SIGKILL"), o.killGraceMs ?? 5000);
    }, o.timeoutMs);
    const done = () => {
      settled = true;
      clearTimeout(timer);
      if (grace) clearTimeout(grace);
    };
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      done();
      const durationMs = Math.round(performance.now() - started);
      const r = { exitCode: null, signal: null, stderr: "", timedOut: false, durationMs };
      reject(failure(`cannot run: ${err.code ?? err.message}`, argv, o, r));
    });
    child.on("close", (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      done();
      const durationMs = Math.round(performance.now() - started);
      const result: CommandResult = {
        argv: [...argv],
        exitCode,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs,
        ranAs: p.ranAs,
        ...(p.note ? { note: p.note } : {}),
      };
      const r = { exitCode, signal, stderr: result.stderr, timedOut, durationMs };
      if (timedOut) reject(failure(`timed out after ${o.timeoutMs} ms (killed)`, argv, o, r));
      else if (signal !== null) reject(failure(`killed by ${signal}`, argv, o, r));
      else if (exitCode === null || !okCodes.includes(exitCode)) reject(failure(`exited with ${exitCode}`, argv, o, r));
      else resolve(result);
    });
  });
};

export interface DetachedOptions {
  user?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** stdout and stderr are appended here; discarded when absent. */
  outputPath?: string;
  commands?: CommandOverrides;
  privileged?: boolean;
}

export interface Detached {
  pid: number;
  ranAs: string;
  note?: string;
}

export type SpawnDetached = (argv: readonly string[], options: DetachedOptions) => Promise<Detached>;

/** Start a long-running service in its own session; resolves once it has been exec'd. */
export const spawnDetached: SpawnDetached = async (argv, o) => {
  const p = prepare(argv, o);
  const out = o.outputPath === undefined ? "ignore" : openSync(o.outputPath, "a", 0o640);
  try {
    return await new Promise<Detached>((resolve, reject) => {
      const child = spawn(p.argv[0]!, p.argv.slice(1), { cwd: o.cwd, env: p.env, detached: true, stdio: ["ignore", out, out] });
      child.once("error", (err: NodeJS.ErrnoException) =>
        reject(new CommandError(`${blank(shellQuote(argv), undefined)}: cannot start: ${err.code ?? err.message}`, argv, null, null, "", false, 0)),
      );
      child.once("spawn", () => {
        child.unref();
        resolve({ pid: child.pid!, ranAs: p.ranAs, ...(p.note ? { note: p.note } : {}) });
      });
    });
  } finally {
    if (typeof out === "number") closeSync(out);
  }
};

/** The program name a policy sees: the basename of argv[0]. */
export const programName = (argv: readonly string[]): string => posix.basename(argv[0] ?? "");
