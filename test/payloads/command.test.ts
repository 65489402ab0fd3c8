import { describe, expect, it } from "vitest";
import { commandTimeoutSeconds, FETCHED_COMMAND, planCommand } from "../../src/payloads/command.ts";
import { makeContext, T0 } from "../support/context.ts";

describe("command payload plan", () => {
  it("runs a local path as the payload user with the MJF environment", () => {
    const ctx = makeContext({
      config: {
        identity: { uuid: "u-1", space: "vac01.example.org" },
        mjf: { jobfeatures: "/etc/jobfeatures" },
        payload: { type: "command", command: { path: "/opt/run.sh", args: ["-v"], env: { A: "1" }, user: "pay" } },
      },
    });
    const actions = planCommand(ctx);
    expect(actions.map((a) => a.kind)).toEqual(["create-user", "mkdir", "run-command"]);
    expect(actions[0]).toMatchObject({ name: "pay", shell: "/usr/sbin/nologin", system: true });
    expect(actions[2]).toMatchObject({
      argv: ["/opt/run.sh", "-v"],
      user: "pay",
      env: { A: "1", JOBFEATURES: "/etc/jobfeatures", VACUUM_VM_UUID: "u-1", VACUUM_SPACE: "vac01.example.org" },
    });
  });

  it("fetches a URL payload with its sha256 before running it", () => {
    const sha = "0".repeat(64);
    const actions = planCommand(makeContext({ config: { payload: { type: "command", command: { url: "https://h/p.sh", sha256: sha, args: [], env: {}, user: "pay" } } } }));
    expect(actions.map((a) => a.kind)).toEqual(["create-user", "mkdir", "mkdir", "fetch", "run-command"]);
    expect(actions[3]).toMatchObject({ url: "https://h/p.sh", sha256: sha, path: FETCHED_COMMAND, mode: 0o755 });
    expect(actions[4]).toMatchObject({ argv: [FETCHED_COMMAND] });
  });

  it.each([
    ["no deadline, no limit", undefined, null, 86_400],
    ["own limit", 600, null, 600],
    ["deadline earlier than own limit", 7200, T0 + 3600, 3600],
    ["deadline already passed", undefined, T0 - 10, 1],
  ])("timeout: %s", (_n, own, effective, expected) => {
    const ctx = makeContext({
      config: { payload: { type: "command", command: { path: "/bin/true", args: [], env: {}, user: "p", ...(own ? { timeout_seconds: own } : {}) } } },
      deadline: { effective, deadline: effective },
    });
    expect(commandTimeoutSeconds(ctx)).toBe(expected);
  });
});
