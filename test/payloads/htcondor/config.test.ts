import { describe, expect, it } from "vitest";
import type { AgentConfig } from "../../../src/config/agent-config.ts";
import type { Context } from "../../../src/context/context.ts";
import { classadString, collectorHost, htcondorBaseConfig, htcondorStartConfig, htcondorStartExpression } from "../../../src/payloads/htcondor/config.ts";
import { htcondorLifetime } from "../../../src/payloads/htcondor/lifetime.ts";
import { candidatePaths, type IsolationFacts } from "../../../src/isolation/probe.ts";
import { makeContext, T0 } from "../../support/context.ts";

type Htc = NonNullable<AgentConfig["payload"]["htcondor"]>;
const TOKEN = "eyJhbGciOiJIUzI1NiIsImtpZCI6IlBPT0wifQ.eyJzdWIiOiJjb25kb3JAdmFjdXVtLnRlc3QifQ.c2ln";

function ctx(htc: Partial<Htc> = {}, o: Parameters<typeof makeContext>[0] = {}): Context {
  const base = makeContext({ ...o, config: { ...o.config, identity: { uuid: "vm-1", space: "vac.example", machinetype: "condor", ...o.config?.identity }, payload: { type: "htcondor", htcondor: { collector: "cm.example.org:9618", idtoken: TOKEN, ...htc } } } });
  return base;
}
const lines = (text: string) => text.split("\n");

describe("htcondorBaseConfig", () => {
  it("a private configuration: own LOCAL_DIR, the image's /etc/condor never read, START False until the host is ready", () => {
    const t = lines(htcondorBaseConfig(ctx()));
    for (const l of [
      "use security:recommended_v9_0",
      "LOCAL_DIR = /var/lib/vacuum-agent/condor",
      "LOCAL_CONFIG_FILE =",
      "LOCAL_CONFIG_DIR = $(LOCAL_DIR)/config.d",
      "EXECUTE = /scratch/condor/execute",
      "CONDOR_HOST = cm.example.org",
      "COLLECTOR_HOST = cm.example.org:9618",
      "CCB_ADDRESS = $(COLLECTOR_HOST)",
      "DAEMON_LIST = MASTER, STARTD",
      "SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS",
      "ENABLE_KERNEL_TUNING = False",
      "START = False",
      "STARTD_NOCLAIM_SHUTDOWN = 600",
      "SLOT_TYPE_1_PARTITIONABLE = True",
      'VacuumSpace = "vac.example"',
      'VacuumMachinetype = "condor"',
      'VacuumVmId = "vm-1"',
      "STARTD_ATTRS = $(STARTD_ATTRS) VacuumSpace VacuumMachinetype VacuumVmId",
      "STARTD_HISTORY = /var/lib/vacuum-agent/condor/log/startd_history",
      "MAXJOBRETIREMENTTIME = 172800",
    ])
      expect(t).toContain(l);
    expect(t.filter((l) => l.startsWith("START ="))).toEqual(["START = False"]);
  });

  it("never contains the token or the pool password", () => {
    const text = htcondorBaseConfig(ctx({ pool_password_base64: "c2VjcmV0LXBvb2wtcGFzc3dvcmQ=" }));
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("c2VjcmV0");
    expect(text).toContain("SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS, PASSWORD");
  });

  it("the system layout writes only what the VM needs, with the packages' LOG and credential directories", () => {
    const t = lines(htcondorBaseConfig(ctx({ config_location: "system" })));
    expect(t).toContain("LOG = /var/log/condor");
    expect(t).toContain("SEC_TOKEN_SYSTEM_DIRECTORY = /etc/condor/tokens.d");
    expect(t).toContain("STARTD_HISTORY = /var/log/condor/startd_history");
    expect(t.some((l) => l.startsWith("LOCAL_DIR") || l.startsWith("use security"))).toBe(false);
  });

  it("under --root the paths HTCondor reads are inside the root", () => {
    const t = lines(htcondorBaseConfig(ctx({}, { root: "/srv/vm" })));
    expect(t).toContain("LOCAL_DIR = /srv/vm/var/lib/vacuum-agent/condor");
    expect(t).toContain("EXECUTE = /srv/vm/scratch/condor/execute");
  });

  it.each([
    ["static slot", { slot_type: "static" as const }, "SLOT_TYPE_1_PARTITIONABLE = False"],
    ["no CCB", { ccb: false }, null],
    ["idle shutdown off", { idle_shutdown_seconds: 0 }, null],
    ["extra lines last", { extra_config: ["NUM_CPUS = 3"] }, "NUM_CPUS = 3"],
    ["UID_DOMAIN", { uid_domain: "vacuum.test" }, "UID_DOMAIN = vacuum.test"],
  ])("%s", (_n, htc, line) => {
    const t = lines(htcondorBaseConfig(ctx(htc)));
    if (line) expect(t).toContain(line);
    if ("ccb" in htc) expect(t.some((l) => l.startsWith("CCB_ADDRESS"))).toBe(false);
    if ("idle_shutdown_seconds" in htc) expect(t.some((l) => l.startsWith("STARTD_NOCLAIM_SHUTDOWN"))).toBe(false);
  });

  it("sizes the slot from MJF allocated_cpu and max_rss_bytes, and takes wall_limit_secs as retirement", () => {
    const c = ctx();
    const withMjf: Context = { ...c, mjf: { machinefeatures: { location: null, kind: null, values: {}, raw: {} }, jobfeatures: { location: null, kind: null, values: { allocated_cpu: 4, max_rss_bytes: 8 * 2 ** 30, wall_limit_secs: 86400 }, raw: {} }, problems: [] } };
    const t = lines(htcondorBaseConfig(withMjf));
    expect(t).toContain("NUM_CPUS = 4");
    expect(t).toContain("MEMORY = 8192");
    expect(t).toContain("MAXJOBRETIREMENTTIME = 86400");
  });

  it.each([
    ["host certificate", { hostcert: "C", hostkey: "K" }, "auto", "/etc/grid-security/hostcert.pem", "/etc/grid-security/hostkey.pem"],
    ["X.509 proxy (VMCondor's GSI)", { x509_proxy: "P", mint_proxy: false }, "auto", "/var/lib/vacuum-agent/credentials/x509proxy.pem", "/var/lib/vacuum-agent/credentials/x509proxy.pem"],
    ["proxy asked for, minted from the host certificate", { hostcert: "C", hostkey: "K" }, "x509_proxy", "/var/lib/vacuum-agent/credentials/x509proxy.pem", "/var/lib/vacuum-agent/credentials/x509proxy.pem"],
  ] as const)("SSL with the %s", (_n, creds, ssl, cert, key) => {
    const t = lines(htcondorBaseConfig(ctx({ ssl }, { config: { credentials: creds } })));
    expect(t).toContain("SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS, SSL");
    expect(t).toContain(`AUTH_SSL_CLIENT_CERTFILE = ${cert}`);
    expect(t).toContain(`AUTH_SSL_CLIENT_KEYFILE = ${key}`);
    expect(t).toContain("AUTH_SSL_CLIENT_CADIR = /etc/grid-security/certificates");
  });

  it("container knobs only when the isolation stage hands a proven runtime over", () => {
    expect(htcondorBaseConfig(ctx())).not.toContain("SINGULARITY");
    const c = ctx({}, { config: { isolation: { required: true, image: "/srv/sbx" } } });
    const facts: IsolationFacts = {
      candidates: candidatePaths({ path: "/usr/bin" }).map((x) => ({ ...x, executable: x.path === "/usr/bin/apptainer" })),
      userns: { maxUserNamespaces: 96343, unprivilegedUsernsClone: null, apparmorRestrictUnprivilegedUserns: null },
      image: { path: "/srv/sbx", kind: "sandbox" },
    };
    const withFacts = { ...c, machine: { ...c.machine, isolation: facts } } as Context;
    expect(lines(htcondorBaseConfig(withFacts))).toContain("SINGULARITY = /usr/bin/apptainer");
  });
});

describe("START, retirement and the deadline", () => {
  it("START is the configured expression when no deadline is known", () => {
    expect(htcondorStartConfig(ctx({ start: 'TARGET.Owner == "atlas"' }))).toBe('# Written by vacuum-agent once host preparation passed: the startd may take jobs.\nSTART = TARGET.Owner == "atlas"\n');
  });

  it.each([
    // life, drain, graceful -> peaceful lead, graceful lead
    [48 * 3600, 3600, 600, 3600, 600],
    [40 * 60, 3600, 600, 1200, 600],
    [600, 3600, 600, 300, 300],
  ])("a %i s lifetime with drain %i / graceful %i: leads %i / %i", (life, drain, graceful, peaceful, gracefulLead) => {
    const c = ctx({ drain_seconds: drain, graceful_drain_seconds: graceful }, { deadline: { deadline: T0 + life + 300, effective: T0 + life } });
    const l = htcondorLifetime(c);
    expect([l.peacefulLead, l.gracefulLead]).toEqual([peaceful, gracefulLead]);
    expect(l.retireAt).toBe(T0 + life - peaceful);
    expect(l.maxJobRetirementSeconds).toBe(life - gracefulLead);
    expect(htcondorStartExpression(c)).toBe(`(True) && (time() < ${T0 + life - peaceful})`);
    expect(htcondorBaseConfig(c)).toContain(`VacuumDeadline = ${T0 + life}\nVacuumRetireTime = ${T0 + life - peaceful}\n`);
  });
});

describe("helpers", () => {
  it.each([
    ["cm.example.org:9618", "cm.example.org"],
    ["cm.example.org", "cm.example.org"],
    ["[2001:db8::1]:9618", "2001:db8::1"],
    ["127.0.0.1:19618", "127.0.0.1"],
  ])("collectorHost(%s) = %s", (c, h) => expect(collectorHost(c)).toBe(h));

  it("classadString escapes quotes and backslashes and cannot start a new config line", () => {
    expect(classadString('a"b\\c\nSTART = True')).toBe('"a\\"b\\\\c START = True"');
  });
});
