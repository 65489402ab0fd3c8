import { describe, expect, it } from "vitest";
import type { AgentConfig } from "../../../src/config/agent-config.ts";
import type { RunPayloadAction } from "../../../src/plan/actions.ts";
import { planHtcondorConfig, planHtcondorRun, readinessProbe } from "../../../src/payloads/htcondor/plan.ts";
import { makeContext, T0 } from "../../support/context.ts";

type Htc = NonNullable<AgentConfig["payload"]["htcondor"]>;
const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb25kb3JAdmFjdXVtLnRlc3QifQ.c2ln";
const ctx = (htc: Partial<Htc> = {}, o: Parameters<typeof makeContext>[0] = {}) =>
  makeContext({ ...o, config: { identity: { uuid: "vm-1" }, mjf: { jobfeatures: "/run/jf" }, payload: { type: "htcondor", htcondor: { collector: "cm.example.org:9618", idtoken: TOKEN, ...htc } } } });

describe("planHtcondorConfig", () => {
  it("directories with condor ownership, the configuration, the token 0600 and secret", () => {
    const plan = planHtcondorConfig(ctx());
    expect(plan.map((a) => `${a.kind} ${"path" in a ? a.path : ""}`)).toEqual([
      "mkdir /var/lib/vacuum-agent/condor",
      "mkdir /var/lib/vacuum-agent/condor/log",
      "mkdir /scratch/condor/execute",
      "mkdir /var/lib/vacuum-agent/condor/config.d",
      "write-file /var/lib/vacuum-agent/condor/condor_config",
      "mkdir /var/lib/vacuum-agent/condor/tokens.d",
      "write-file /var/lib/vacuum-agent/condor/tokens.d/vacuum-agent.token",
    ]);
    const log = plan[1]!;
    expect(log.kind === "mkdir" && log.owner).toEqual({ user: "condor", group: "condor" });
    const token = plan[6]!;
    expect(token).toMatchObject({ kind: "write-file", mode: 0o600, secret: true, contents: `${TOKEN}\n` });
    const tokens = plan[5]!;
    expect(tokens).toMatchObject({ mode: 0o700 });
  });

  it("the pool password file: base64 kept 0600, decoded to POOL by a command that leaves only the 0600 file", () => {
    const plan = planHtcondorConfig(ctx({ idtoken: undefined, pool_password_base64: "c2Vj\ncmV0" }, { root: "/srv/vm" }));
    const b64 = plan.find((a) => a.kind === "write-file" && a.path.endsWith("POOL.base64"));
    expect(b64).toMatchObject({ mode: 0o600, secret: true, contents: "c2VjcmV0\n" });
    const decode = plan.find((a) => a.kind === "run-command");
    expect(decode).toMatchObject({ argv: ["sh", "-c", expect.stringContaining("umask 077"), "sh", "/srv/vm/var/lib/vacuum-agent/condor/passwords.d/POOL.base64", "/srv/vm/var/lib/vacuum-agent/condor/passwords.d/POOL"] });
    expect(JSON.stringify(plan.filter((a) => !(a.kind === "write-file" && a.secret)))).not.toContain("c2Vj");
  });
});

describe("planHtcondorRun", () => {
  it("the START file, then condor_master -f as root with CONDOR_CONFIG, ready/drain/outcome rules", () => {
    const c = ctx({ ready_timeout_seconds: 120 }, { deadline: { deadline: T0 + 86400, effective: T0 + 86100 } });
    const [start, run] = planHtcondorRun(c) as [unknown, RunPayloadAction];
    expect(start).toMatchObject({ kind: "write-file", path: "/var/lib/vacuum-agent/condor/config.d/60-vacuum-agent-start.conf", contents: expect.stringContaining(`START = (True) && (time() < ${T0 + 86100 - 3600})`) });
    expect(run).toMatchObject({
      kind: "run-payload",
      name: "htcondor",
      argv: ["sh", "-c", expect.stringContaining("systemd-run --scope --slice=system.slice --property=Delegate=yes"), "sh", "/run/systemd/system"],
      env: { CONDOR_CONFIG: "/var/lib/vacuum-agent/condor/condor_config", JOBFEATURES: "/run/jf" },
      stopAt: T0 + 86100,
      outcome: { kind: "htcondor-history", historyPath: "/var/lib/vacuum-agent/condor/log/startd_history", logPaths: ["/var/lib/vacuum-agent/condor/log/MasterLog", "/var/lib/vacuum-agent/condor/log/StartLog", "/var/lib/vacuum-agent/condor/config.d/60-vacuum-agent-start.conf", "/var/spool/joboutputs/htcondor-master-stderr.log"] },
    });
    expect(run.user).toBeUndefined();
    expect(run.drain?.map((d) => [d.leadSeconds, d.do.kind === "run" ? d.do.argv.join(" ") : ""])).toEqual([
      [3600, "condor_off -peaceful -daemon master"],
      [600, "condor_off -graceful -daemon master"],
    ]);
    expect(run.ready).toMatchObject({ argv: ["condor_status", "-constraint", 'VacuumVmId == "vm-1"', "-af", "Name"], expect: "\\S", timeoutSeconds: 120, failure: { code: 600, text: "Collector cm.example.org unreachable: startd not visible after 120 s" } });
  });

  it("under --root condor_master itself: the master belongs to the test's tree, not to the host's systemd", () => {
    const [, run] = planHtcondorRun(ctx({}, { root: "/srv/vm" })) as [unknown, RunPayloadAction];
    expect(run.argv).toEqual(["condor_master", "-f"]);
  });

  it("no deadline: no drain steps, no retirement clause", () => {
    const [start, run] = planHtcondorRun(ctx()) as [{ contents: string }, RunPayloadAction];
    expect(run.drain).toEqual([]);
    expect(run.stopAt).toBeNull();
    expect(start.contents).toContain("START = True\n");
  });

  it("the system layout: no CONDOR_CONFIG, files in /etc/condor/config.d", () => {
    const c = ctx({ config_location: "system" });
    expect(readinessProbe(c).env).toEqual({});
    const [start] = planHtcondorRun(c) as unknown as [{ path: string }];
    expect(start.path).toBe("/etc/condor/config.d/60-vacuum-agent-start.conf");
    expect(planHtcondorConfig(c).some((a) => a.kind === "write-file" && a.path === "/etc/condor/config.d/50-vacuum-agent.conf")).toBe(true);
  });
});
