// Signals to the compiled agent while its payload runs: an ACPI power-button press reaches the
// agent as SIGTERM; the payload is stopped and the VM ends with a 100 message within 20 s.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

describe.skipIf(!hasAgentBinary())("dist/agent watchdog", () => {
  it("an agent killed with SIGKILL: the watchdog still writes a 700 message and powers off before the deadline", async () => {
    const root = tempDir();
    const now = Math.floor(Date.now() / 1000);
    const mf = join(root, "mf");
    mkdirSync(mf);
    // The deadline is 65 s away: the watchdog fires 60 s before it, i.e. about 10 s after the start.
    writeFileSync(join(mf, "shutdowntime"), String(now + 65));
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, "lifecycle.deadline_margin_seconds = 30", "payload.command.args[] = -c", "payload.command.args[] = echo started; sleep 120"]));
    const child = spawn(AGENT_BINARY, ["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], {
      stdio: "ignore",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MACHINEFEATURES: mf },
      detached: true,
    });
    const stdout = join(root, "var/spool/joboutputs/payload-stdout.log");
    await waitFor(() => existsSync(stdout) && readFileSync(stdout, "utf8").includes("started"), 10_000);
    // Kill the agent and its whole process group (the payload too): nothing of it survives.
    process.kill(-child.pid!, "SIGKILL");
    const records = join(root, "var/lib/vacuum-agent/machine-actions.jsonl");
    await waitFor(() => existsSync(records) && readFileSync(records, "utf8").includes('"stage":"watchdog"'), 25_000);
    expect(Date.now() / 1000).toBeLessThan(now + 65);
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toBe("700 Agent did not finish before its deadline; the watchdog powered the VM off");
    const powerOffs = readFileSync(records, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.action.kind === "power-off");
    expect(powerOffs).toEqual([expect.objectContaining({ stage: "watchdog" })]);
  }, 40_000);

  it("a normal end under --root disarms the watchdog: one power-off only", async () => {
    const root = tempDir();
    const now = Math.floor(Date.now() / 1000);
    const mf = join(root, "mf");
    mkdirSync(mf);
    writeFileSync(join(mf, "shutdowntime"), String(now + 72));
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, "lifecycle.deadline_margin_seconds = 30", "payload.command.args[] = -c", "payload.command.args[] = true"]));
    const child = spawn(AGENT_BINARY, ["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { stdio: "ignore", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MACHINEFEATURES: mf } });
    await new Promise((r) => child.on("close", r));
    await new Promise((r) => setTimeout(r, 14_000)); // past the watchdog's time (start + 12 s)
    const records = readFileSync(join(root, "var/lib/vacuum-agent/machine-actions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(records.filter((r) => r.action.kind === "power-off").map((r) => r.stage)).toEqual(["finish"]);
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toBe("200 Payload completed");
  }, 40_000);
});

describe.skipIf(!hasAgentBinary())("dist/agent preemption and stops during the finish", () => {
  it.each([
    ["ec2", { action: "terminate", time: "2026-11-22T10:00:00Z" }, /^100 Payload command stopped: EC2 spot interruption: terminate/],
    ["gce", true, /^100 Payload command stopped: GCE instance preempted/],
  ])("a %s preemption notice stops the running payload gracefully with 100", async (variant, notice, message) => {
    const { startMetadataServer } = await import("../support/metadata-server.ts");
    const root = tempDir();
    const ud = shellUserData([...COMMAND_DOC, "payload.command.args[] = -c", "payload.command.args[] = echo started; sleep 60"]);
    const md = await startMetadataServer({ variant: variant as "ec2", userData: ud });
    try {
      const agent = startAgent(["run", "--root", root, "--metadata-url", md.url, "--metadata-wait", "0"]);
      const stdout = join(root, "var/spool/joboutputs/payload-stdout.log");
      await waitFor(() => existsSync(stdout) && readFileSync(stdout, "utf8").includes("started"), 15_000);
      md.setPreemption(notice);
      const r = await agent.done;
      expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toMatch(message);
      expect(r.code).toBe(2);
    } finally {
      await md.close();
    }
  }, 40_000);

  it("SIGTERM during the final upload: the upload and the power-off still complete", async () => {
    const { startJobOutputsServer } = await import("../support/joboutputs-server.ts");
    const s = await startJobOutputsServer({ style: "vac", failWith: "slow", slowMs: 1500 });
    try {
      const root = tempDir();
      const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, `user_data_joboutputs_url = ${s.url}`, "payload.command.args[] = -c", "payload.command.args[] = true"]));
      const agent = startAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"]);
      // The heartbeat is slow too; wait until the finish has started uploading, then press the button.
      await waitFor(() => s.requests.some((q) => q.name === "vacuum-agent.jsonl" || q.name === "payload-stdout.log"), 20_000);
      const t0 = Date.now();
      process.kill(agent.pid, "SIGTERM");
      const r = await agent.done;
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(r.code).toBe(0);
      expect(s.files.get("shutdown_message")?.toString()).toBe("200 Payload completed");
      expect(readFileSync(join(root, "var/lib/vacuum-agent/machine-actions.jsonl"), "utf8")).toContain('"power-off"');
    } finally {
      await s.close();
    }
  }, 40_000);
});
