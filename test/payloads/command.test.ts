import { describe, expect, it } from "vitest";
import { commandStopAt, FETCHED_COMMAND, PAYLOAD_STDOUT, planCommand } from "../../src/payloads/command.ts";
import { makeContext, T0 } from "../support/context.ts";

describe("command payload plan", () => {
  it("runs a local path as the payload user with the MJF environment", () => {
    const ctx = makeContext({
      config: {
        identity: { uuid: "u-1", space: "vac01.example.org" },
        mjf: { jobfeatures: "/etc/jobfeatures" },
        payload: { type: "command", command: { path: "/opt/run.sh", args: ["-v"], env: { A: "1" }, user: "pay", log_files: [] } },
      },
    });
    const actions = planCommand(ctx);
    expect(actions.map((a) => a.kind)).toEqual(["create-user", "mkdir", "run-payload"]);
    expect(actions[0]).toMatchObject({ name: "pay", shell: "/usr/sbin/nologin", system: true });
    expect(actions[2]).toMatchObject({
      argv: ["/opt/run.sh", "-v"],
      user: "pay",
      env: { A: "1", JOBFEATURES: "/etc/jobfeatures", VACUUM_VM_UUID: "u-1", VACUUM_SPACE: "vac01.example.org" },
      stdoutPath: PAYLOAD_STDOUT,
      killGraceSeconds: 60,
      messageFile: "/var/lib/vacuum-agent/home/pay/shutdown_message",
    });
    expect(actions[2]).not.toHaveProperty("liveness");
  });

  it("fetches a URL payload with its sha256 before running it", () => {
    const sha = "0".repeat(64);
    const actions = planCommand(makeContext({ config: { payload: { type: "command", command: { url: "https://h/p.sh", sha256: sha, args: [], env: {}, user: "pay", log_files: [] } } } }));
    expect(actions.map((a) => a.kind)).toEqual(["create-user", "mkdir", "mkdir", "fetch", "run-payload"]);
    expect(actions[3]).toMatchObject({ url: "https://h/p.sh", sha256: sha, path: FETCHED_COMMAND, mode: 0o755 });
    expect(actions[4]).toMatchObject({ argv: [FETCHED_COMMAND] });
  });

  it.each([
    ["no deadline, no limit", undefined, null, null],
    ["own limit", 600, null, T0 + 600],
    ["deadline earlier than own limit", 7200, T0 + 3600, T0 + 3600],
    ["own limit earlier than the deadline", 60, T0 + 3600, T0 + 60],
  ])("stop time: %s", (_n, own, effective, expected) => {
    const ctx = makeContext({
      config: { payload: { type: "command", command: { path: "/bin/true", args: [], env: {}, user: "p", log_files: [], ...(own ? { timeout_seconds: own } : {}) } } },
      deadline: { effective, deadline: effective },
    });
    expect(commandStopAt(ctx)).toBe(expected);
  });

  it("watches stdout, stderr and the declared logs when liveness_seconds is set", () => {
    const ctx = makeContext({ config: { payload: { type: "command", command: { path: "/bin/true", args: [], env: {}, user: "p", log_files: ["/tmp/x.log"], liveness_seconds: 600 } } } });
    const run = planCommand(ctx).at(-1)!;
    expect(run).toMatchObject({ kind: "run-payload", liveness: { paths: [PAYLOAD_STDOUT, "/var/spool/joboutputs/payload-stderr.log", "/tmp/x.log"], staleSeconds: 600 } });
  });
});

describe("what host preparation hands to the command payload", () => {
  it("X509_CERT_DIR: the CVMFS CA directory when the configured one is missing and grid.cern.ch is mounted", () => {
    const ctx = makeContext({ config: { credentials: { ca_dir: "/nonexistent/certificates" }, cvmfs: { repositories: ["grid.cern.ch"] } } });
    expect(planCommand(ctx).at(-1)).toMatchObject({ env: { X509_CERT_DIR: "/cvmfs/grid.cern.ch/etc/grid-security/certificates" } });
  });
  it("no X509_CERT_DIR when there is none at all", () => {
    const ctx = makeContext({ config: { credentials: { ca_dir: "/nonexistent/certificates" } } });
    expect((planCommand(ctx).at(-1) as { env: Record<string, string> }).env.X509_CERT_DIR).toBeUndefined();
  });
});
