// The compiled agent end to end: dry run (exact, changes nothing), a real run under --root,
// status, and the payload's outcome turned into the shutdown_message.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runAgent, hasAgentBinary } from "./run-binary.ts";
import { COMMAND_DOC, shellUserData, snapshot, tempDir, writeTemp } from "./fixtures.ts";

const EXAMPLE = "user_data/example-command.user_data";

describe.skipIf(!hasAgentBinary())("dist/agent run", () => {
  it("--help documents the commands and exit codes", async () => {
    const r = await runAgent(["--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("agent validate [FILE|-]");
    expect(r.stdout).toMatch(/64 +command-line usage error/);
  });

  it("a usage error exits 64 with one line and no stack trace", async () => {
    const r = await runAgent(["run", "--frobnicate"]);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain("agent: unknown option --frobnicate");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a real run without --root as an ordinary user is refused, not attempted", async () => {
    if (process.getuid?.() === 0) return; // CI runs as root: covered by the --root tests below
    const r = await runAgent(["run", "--user-data", EXAMPLE, "--metadata-url", "none"]);
    expect(r.exitCode).toBe(64);
  });

  it("--dry-run of the example prints the plan, and changes nothing under --root", async () => {
    const root = tempDir();
    writeTemp(root, "marker", "x");
    const before = snapshot(root);
    const r = await runAgent(["--dry-run", "--root", root, "--user-data", EXAMPLE, "--metadata-url", "none"]);
    expect(r.exitCode).toBe(0);
    expect(snapshot(root)).toEqual(before);
    expect(r.stdout).toContain("dry run, nothing on this machine is changed");
    expect(r.stdout).toContain("identity.space                    = vac01.example.org    [user_data, part 3 (text/x-vacuum-agent) line 3 (##user_data_space##)]");
    expect(r.stdout).toContain("- set-hostname vm-example-01.vac01.example.org");
    expect(r.stdout).toContain(`- run-payload command: /bin/sh -c 'echo "payload running as $(id -un) on $(hostname)"; sleep 1': the payload`);
    expect(r.stdout).toContain("stdout > /var/spool/joboutputs/payload-stdout.log, stderr > /var/spool/joboutputs/payload-stderr.log");
    expect(r.stdout).toContain("- write-file /var/spool/joboutputs/shutdown_message (mode 0644");
    expect(r.stdout).toContain("- power-off");
    expect(r.stdout).toMatch(/Deadline\n {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 24h 00m\)/);
  });

  it("--dry-run without --root leaves the machine's agent paths as they were", async () => {
    const paths = ["/var/lib/vacuum-agent/status.json", "/var/spool/joboutputs/shutdown_message", "/etc/profile.d/vacuum-mjf.sh"];
    const before = paths.map((p) => existsSync(p) && readFileSync(p, "utf8"));
    const r = await runAgent(["--dry-run", "--user-data", EXAMPLE, "--metadata-url", "none", "--set", "mjf.joboutputs=/tmp/jo"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("- write-file /etc/profile.d/vacuum-mjf.sh");
    expect(paths.map((p) => existsSync(p) && readFileSync(p, "utf8"))).toEqual(before);
  });

  it("--dry-run --json is one JSON document with every stage and the finish actions", async () => {
    const r = await runAgent(["run", "--dry-run", "--json", "--user-data", EXAMPLE, "--metadata-url", "none"]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.stages.map((s: { id: string }) => s.id)).toEqual(["layout", "watchdog", "context-record", "payload-config", "hostname", "metadata-lockdown", "scratch-disk", "accounts", "mjf-environment", "credentials", "cvmfs", "cvmfs-ready", "isolation", "payload"]);
    expect(doc.stages.find((s: { id: string }) => s.id === "payload").actions.at(-1)).toMatchObject({ kind: "run-payload", argv: ["/bin/sh", "-c", expect.stringContaining("payload running")] });
    expect(doc.finish.shutdownMessage).toBe("200 Payload completed");
    expect(doc.deadline.deadline - Math.floor(Date.parse(doc.startedAt) / 1000)).toBe(86_400);
    expect(doc.provenance["identity.hostname"].source).toBe("user_data");
  });

  it("a run under --root performs the plan, records machine-wide actions and writes 200", async () => {
    const root = tempDir();
    const r = await runAgent(["run", "--root", root, "--user-data", EXAMPLE, "--metadata-url", "none"], { timeoutMs: 20_000 });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toBe("200 Payload completed");
    expect(readFileSync(join(root, "var/spool/joboutputs/payload-stdout.log"), "utf8")).toMatch(/^payload running as \S+ on /);
    const recorded = readFileSync(join(root, "var/lib/vacuum-agent/machine-actions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    // (ip6tables rules are recorded too where the kernel has IPv6: not on every CI machine.)
    expect(recorded.filter((x) => !x.action.argv?.[0]?.startsWith("ip6tables")).map((x) => `${x.stage} ${x.action.kind}`)).toEqual([
      "hostname set-hostname",
      "metadata-lockdown firewall",
      "cvmfs run-command",
      "payload create-user",
      "finish power-off",
    ]);
    expect(recorded[0].action.hostname).toBe("vm-example-01.vac01.example.org");
    const timeline = readFileSync(join(root, "var/log/vacuum-agent/agent.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const finished = timeline.filter((e) => e.msg === "stage-finish" || e.type === "stage-finish");
    expect(finished.map((e) => e.stage)).toEqual(["layout", "watchdog", "context-record", "payload-config", "hostname", "metadata-lockdown", "scratch-disk", "accounts", "mjf-environment", "credentials", "cvmfs", "cvmfs-ready", "isolation", "payload", "finish"]);
    for (const e of finished) expect(typeof e.durationMs).toBe("number");
    const context = JSON.parse(readFileSync(join(root, "var/lib/vacuum-agent/context.json"), "utf8"));
    expect(context.config.identity.space).toBe("vac01.example.org");

    const status = await runAgent(["status", "--root", root]);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain("done, healthy");
    expect(status.stdout).toContain("shutdown_message: 200 Payload completed");
    const json = await runAgent(["status", "--root", root, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ health: "healthy", exitCode: 0, status: { state: "done" } });
  });

  it("a failing payload ends with 700, exit 1 and a failed status", async () => {
    const root = tempDir();
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, "payload.command.args[] = -c", "payload.command.args[] = echo broken >&2; exit 3"]));
    const r = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"]);
    expect(r.exitCode).toBe(1);
    const message = readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8");
    expect(message).toBe("700 Payload command exited with code 3");
    expect(readFileSync(join(root, "var/spool/joboutputs/payload-stderr.log"), "utf8")).toBe("broken\n");
    expect(message).not.toContain("\n");
    expect(readFileSync(join(root, "var/lib/vacuum-agent/machine-actions.jsonl"), "utf8")).toContain('"power-off"');
    const status = await runAgent(["status", "--root", root]);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toMatch(/failed +payload/);
  });

  it("status without a status file says so and exits 1", async () => {
    const r = await runAgent(["status", "--root", tempDir()]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("no status file: the agent has not started here");
  });
});
