// Signals to the compiled agent while its payload runs: an ACPI power-button press reaches the
// agent as SIGTERM; the payload is stopped and the VM ends with a 100 message within 20 s.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AGENT_BINARY, hasAgentBinary } from "./run-binary.ts";
import { COMMAND_DOC, shellUserData, tempDir, writeTemp } from "./fixtures.ts";

function startAgent(args: string[]): { pid: number; done: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(AGENT_BINARY, args, { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdout.resume();
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })));
  return { pid: child.pid!, done };
}

const waitFor = async (check: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
};

describe.skipIf(!hasAgentBinary())("dist/agent signals", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("%s during the payload: the payload is stopped, 100 written, power-off, within 20 s", async (sig) => {
    const root = tempDir();
    // The payload ignores SIGTERM: only the agent's SIGKILL after its short grace ends it.
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, "payload.command.args[] = -c", "payload.command.args[] = trap '' TERM; echo started; sleep 60"]));
    const agent = startAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"]);
    const stdout = join(root, "var/spool/joboutputs/payload-stdout.log");
    await waitFor(() => {
      try {
        return readFileSync(stdout, "utf8").includes("started");
      } catch {
        return false;
      }
    }, 10_000);
    const t0 = Date.now();
    process.kill(agent.pid, sig);
    const r = await agent.done;
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.code).toBe(2); // degraded: the work was stopped, not failed
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toBe(`100 Payload command stopped: ${sig} received (ACPI power button or host shutdown)`);
    expect(readFileSync(join(root, "var/lib/vacuum-agent/machine-actions.jsonl"), "utf8")).toContain('"power-off"');
  }, 30_000);
});
