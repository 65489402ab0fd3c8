// Spawns the compiled binary (dist/agent, built by scripts/build.sh) for black-box tests. Each run
// gets its own process group, so anything the agent leaves behind (payload children, sleepers) is
// killed when the test ends, and a hung binary cannot outlive its test.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach } from "vitest";

/** The x86-64 binary; scripts/test.sh builds it before vitest runs. */
export const AGENT_BINARY = resolve("dist/agent");
/** The linux-arm64 binary, checked by its ELF header here and run under qemu by scripts/test.sh. */
export const AGENT_ARM64_BINARY = resolve("dist/agent-linux-arm64");

export const hasAgentBinary = (): boolean => existsSync(AGENT_BINARY);

export interface RunOptions {
  /** Added to a minimal environment (PATH only): the developer's own variables never leak in. */
  env?: Record<string, string>;
  /** Written to standard input, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Working directory; the repository root by default. */
  cwd?: string;
  /** The binary is killed (whole process group, SIGKILL) after this long; default 10 s. */
  timeoutMs?: number;
  /** Another executable than dist/agent (e.g. a second app). */
  binary?: string;
}

export interface RunResult {
  /** null when the process died by a signal (see `signal`). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const live = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // The group is already gone: nothing left to clean up.
  }
}

afterEach(() => {
  for (const pid of live) killGroup(pid);
  live.clear();
});

export function runAgent(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { env = {}, input, cwd, timeoutMs = 10_000, binary = AGENT_BINARY } = options;
  return new Promise((resolveRun, reject) => {
    const child = spawn(binary, args, {
      cwd,
      env: { PATH: process.env.PATH ?? DEFAULT_PATH, ...env },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      detached: true, // its own process group, so leftovers can be killed together
    });
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      // Keep the pid while other members of its group may still run; afterEach kills them.
      resolveRun({ exitCode, signal, stdout, stderr, timedOut });
    });
    if (input !== undefined && child.stdin) {
      // The binary may exit without reading its input: that is not an error of the test.
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    }
  });
}
