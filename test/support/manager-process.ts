// dist/manager serve as a child process for black-box tests: started with a minimal environment
// on a free loopback port, its URL read from the first line of stdout, its stderr kept.

import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

export const MANAGER_BINARY = resolve("dist/manager");

export interface ManagerProcess {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
}

/** `dist/manager serve ARGS --listen 127.0.0.1:0`; rejects when no URL is printed within 10 s. */
export async function startManagerProcess(args: readonly string[], env: Record<string, string> = {}): Promise<ManagerProcess> {
  const proc = spawn(MANAGER_BINARY, ["serve", ...args, "--listen", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const end = Date.now() + 10_000;
  while (!stdout.includes("\n")) {
    if (Date.now() > end || proc.exitCode !== null) {
      proc.kill("SIGKILL");
      throw new Error(`manager did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: stdout.split("\n")[0]!,
    proc,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const closed = new Promise((r) => proc.once("close", r));
      proc.kill("SIGTERM");
      await closed;
    },
  };
}
