import { describe, expect, it } from "vitest";
import type { Action, RunPayloadAction } from "../../../src/plan/actions.ts";
import { DIRAC_DRAIN_FILE, DIRAC_STDERR, DIRAC_STDOUT, diracProblems, pilotUrls, planDirac, userDataDirectory } from "../../../src/payloads/dirac/plan.ts";
import { parsePilotArgv } from "../../../src/payloads/dirac/pilot-options.ts";
import type { Context } from "../../../src/context/context.ts";
import type { ContextOverrides } from "../../support/context.ts";
import { makeContext, T0 } from "../../support/context.ts";

const PROXY = "-----BEGIN CERTIFICATE-----\nMIIproxy\n-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\nMIIkey\n-----END RSA PRIVATE KEY-----";

type Dirac = NonNullable<NonNullable<ContextOverrides["config"]>["payload"]>["dirac"];

function diracContext(dirac: Partial<NonNullable<Dirac>> = {}, o: ContextOverrides & { allocatedCpu?: number; jobId?: string } = {}): Context {
  const ctx = makeContext({
    ...o,
    config: {
      ...o.config,
      identity: { space: "vac01.example.org", uuid: "5f0c-uuid", machinetype: "lhcb", ...o.config?.identity },
      credentials: { x509_proxy: PROXY, ca_dir: "/nonexistent/certificates", ...o.config?.credentials },
      cvmfs: { repositories: ["grid.cern.ch"], ...o.config?.cvmfs },
      payload: { type: "dirac", dirac: { queue: "default", submit_pool: "Test", vo: "lhcb", pilot_url: "https://pilots.example.org/lhcb/", ...dirac } },
    },
  });
  if (o.allocatedCpu !== undefined || o.jobId !== undefined) {
    const jobfeatures = { location: "/jf", kind: "directory" as const, values: { ...(o.allocatedCpu !== undefined ? { allocated_cpu: o.allocatedCpu } : {}), ...(o.jobId ? { job_id: o.jobId } : {}) }, raw: {} };
    return { ...ctx, mjf: { machinefeatures: { location: null, kind: null, values: {}, raw: {} }, jobfeatures, problems: [] } };
  }
  return ctx;
}

const runOf = (actions: Action[]): RunPayloadAction => actions.find((a): a is RunPayloadAction => a.kind === "run-payload")!;

describe("planDirac: the actions", () => {
  it("user, work area, credentials, download, pilot.json check, then the pilot", () => {
    const actions = planDirac(diracContext());
    expect(actions.map((a) => a.kind)).toEqual(["create-user", "mkdir", "mkdir", "mkdir", "write-file", "write-file", "fetch-pilot", "check-pilot-json", "run-payload"]);
    expect(actions[0]).toMatchObject({ name: "vacpilot", home: "/scratch/dirac", shell: "/usr/sbin/nologin", system: true });
    const files = actions.filter((a) => a.kind === "write-file");
    expect(files).toEqual([
      expect.objectContaining({ path: "/scratch/dirac/etc/grid-security/hostcert.pem", mode: 0o600, owner: { user: "vacpilot", group: "vacpilot" }, secret: true, contents: `${PROXY}\n` }),
      expect.objectContaining({ path: "/scratch/dirac/etc/grid-security/hostkey.pem", mode: 0o600, secret: true }),
    ]);
    expect(actions[6]).toMatchObject({ kind: "fetch-pilot", urls: ["https://pilots.example.org/lhcb/"], dir: "/scratch/dirac/pilot", requireManifest: true, owner: { user: "vacpilot" } });
    expect(actions[6]).not.toHaveProperty("manifestSha512");
    expect(actions[7]).toEqual(expect.objectContaining({ kind: "check-pilot-json", path: "/scratch/dirac/pilot/pilot.json", ce: "vac01.example.org", queue: "default", vo: "lhcb" }));
  });

  it.each([
    // mint_proxy, what hostcert.pem and hostkey.pem get
    [true, "the proxy the credentials stage minted, copied into files the pilot user owns"],
    [false, "the host certificate and key themselves"],
  ])("host certificate and key, mint_proxy %s: %s", (mint) => {
    const HOSTKEY = "-----BEGIN PRIVATE KEY-----\nMIIhostkey\n-----END PRIVATE KEY-----";
    const ctx = diracContext({}, { config: { credentials: { x509_proxy: undefined, hostcert: "-----BEGIN CERTIFICATE-----\nMIIhost\n-----END CERTIFICATE-----", hostkey: HOSTKEY, mint_proxy: mint } } });
    const actions = planDirac(ctx);
    const certDir = "/scratch/dirac/etc/grid-security";
    const owner = { user: "vacpilot", group: "vacpilot" };
    const creds = actions.filter((a) => (a.kind === "write-file" || a.kind === "run-command") && (("path" in a && a.path.startsWith(certDir)) || ("cwd" in a && a.cwd === certDir)));
    if (mint) {
      expect(creds).toEqual([
        expect.objectContaining({ kind: "write-file", path: `${certDir}/hostcert.pem`, contents: "", mode: 0o600, owner, secret: true }),
        expect.objectContaining({ kind: "run-command", argv: ["cp", "/var/lib/vacuum-agent/credentials/x509proxy.pem", "hostcert.pem"], cwd: certDir, machineWide: false }),
        expect.objectContaining({ kind: "write-file", path: `${certDir}/hostkey.pem`, contents: "", mode: 0o600, owner, secret: true }),
        expect.objectContaining({ kind: "run-command", argv: ["cp", "/var/lib/vacuum-agent/credentials/x509proxy.pem", "hostkey.pem"], cwd: certDir, machineWide: false }),
      ]);
      expect(JSON.stringify(actions)).not.toContain("MIIhostkey");
      expect(diracProblems(ctx).filter((p) => p.path === "credentials.x509_proxy")).toEqual([]);
    } else {
      expect(creds).toEqual([
        expect.objectContaining({ kind: "write-file", path: `${certDir}/hostcert.pem`, contents: expect.stringContaining("MIIhost"), owner, secret: true }),
        expect.objectContaining({ kind: "write-file", path: `${certDir}/hostkey.pem`, contents: `${HOSTKEY}\n`, owner, secret: true }),
      ]);
    }
    expect(runOf(actions).argv).toEqual(expect.arrayContaining(["--cert", `--certLocation=${certDir}`]));
  });

  it("the run-payload: argv, user, cwd, outputs, outcome rule", () => {
    const run = runOf(planDirac(diracContext({ site: "VAC.Example.uk", setup: "LHCb-Production", extra_options: "-d -r v11r0" })));
    expect(run.argv).toEqual([
      "python3",
      "/scratch/dirac/pilot/dirac-pilot.py",
      "--Name=vac01.example.org",
      "--Queue=default",
      "--name=VAC.Example.uk",
      "--setup=LHCb-Production",
      "--MaxCycles=1",
      "--CEType=Pool",
      "--cert",
      "--certLocation=/scratch/dirac/etc/grid-security",
      "--option=/LocalSite/SubmitPool=Test",
      "--wnVO=lhcb",
      "--StopAfterFailedMatches=0",
      "--pilotProcessors=2",
      "--debug",
      "--release=v11r0",
    ]);
    expect(run).toMatchObject({ name: "dirac", user: "vacpilot", cwd: "/scratch/dirac/pilot", stdoutPath: DIRAC_STDOUT, stderrPath: DIRAC_STDERR, killGraceSeconds: 60 });
    expect(DIRAC_STDOUT).toBe("/var/spool/joboutputs/dirac-pilot.log");
    expect(DIRAC_STDERR).toBe("/var/spool/joboutputs/dirac-pilot.err");
    expect(run.outcome).toEqual({ kind: "dirac-pilot-log", logPaths: [DIRAC_STDOUT, DIRAC_STDERR] });
    expect(run.env).toMatchObject({
      HOME: "/scratch/dirac",
      PILOT_UUID: "vm://vac01.example.org/5f0c-uuid",
      DIRAC_PILOT_VO: "lhcb",
      X509_CERT_DIR: "/cvmfs/grid.cern.ch/etc/grid-security/certificates",
      VACUUM_SPACE: "vac01.example.org",
      VACUUM_VM_UUID: "5f0c-uuid",
    });
    expect(run.env).not.toHaveProperty("X509_USER_PROXY");
  });

  it("every argv it plans is one today's pilot parses, long options only", () => {
    const run = runOf(planDirac(diracContext({ extra_options: "-o /Resources/X=1 -k" })));
    const parsed = parsePilotArgv(run.argv.slice(2));
    expect(parsed).toMatchObject({ ok: true, rest: [] });
    expect(run.argv.slice(2).every((a) => a.startsWith("--"))).toBe(true);
  });

  it.each([
    // processors, container, expected CE type
    [1, false, "InProcess"],
    [8, false, "Pool"],
  ])("CE type with %i processor(s), container %s: %s", (cpus, _c, ceType) => {
    const run = runOf(planDirac(diracContext({}, { allocatedCpu: cpus })));
    expect(run.argv).toContain(`--CEType=${ceType}`);
    expect(run.argv).toContain(`--pilotProcessors=${cpus}`);
  });

  it("processors: $JOBFEATURES/allocated_cpu wins over the machine's", () => {
    expect(runOf(planDirac(diracContext({}, { allocatedCpu: 4 }))).argv).toContain("--pilotProcessors=4");
    expect(runOf(planDirac(diracContext())).argv).toContain("--pilotProcessors=2");
  });

  it("PILOT_UUID falls back to MJF job_id when the VM has no uuid", () => {
    const ctx = diracContext({}, { jobId: "vac01:job-77", config: { identity: { uuid: undefined } } });
    expect(runOf(planDirac(ctx)).env!.PILOT_UUID).toBe("vm://vac01.example.org/vac01:job-77");
  });

  it.each([
    // drain_seconds, effective deadline (s after start), expected lead
    [1800, 86_400, 1800],
    [1800, 1000, 500],
    [600, 10_000, 600],
  ])("drain %i s with %i s to live: lead %i s", (drain, live, lead) => {
    const run = runOf(planDirac(diracContext({ drain_seconds: drain }, { deadline: { effective: T0 + live, deadline: T0 + live + 300 } })));
    expect(run.stopAt).toBe(T0 + live);
    expect(run.drain).toEqual([{ leadSeconds: lead, do: { kind: "create-file", path: DIRAC_DRAIN_FILE, contents: "" }, why: expect.stringContaining("no new job") }]);
  });

  it("no drain without a deadline, or with drain_seconds 0", () => {
    expect(runOf(planDirac(diracContext())).drain).toBeUndefined();
    expect(runOf(planDirac(diracContext({ drain_seconds: 0 }, { deadline: { effective: T0 + 3600 } }))).drain).toBeUndefined();
  });

  it("hooks only when run_hooks, with the old variables", () => {
    expect(planDirac(diracContext()).some((a) => a.kind === "run-pilot-hooks")).toBe(false);
    const actions = planDirac(diracContext({ run_hooks: true, hooks_timeout_seconds: 120, extra_options: "--debug" }));
    const hooks = actions.find((a) => a.kind === "run-pilot-hooks");
    expect(hooks).toMatchObject({ dir: "/scratch/dirac/pilot", timeoutSeconds: 120, env: { VO: "lhcb", QUEUE: "default", SUBMIT_POOL: "Test", DIRAC_OPTS: "--debug" } });
    expect(actions.map((a) => a.kind).slice(-3)).toEqual(["check-pilot-json", "run-pilot-hooks", "run-payload"]);
  });

  it("manifest pin, optional manifest and the client certificate reach fetch-pilot", () => {
    const sha = "a".repeat(128);
    const fetch = planDirac(diracContext({ checksums_sha512: sha, require_manifest: false, fetch_client_certificate: "x509_proxy" })).find((a) => a.kind === "fetch-pilot");
    expect(fetch).toMatchObject({ manifestSha512: sha, requireManifest: false, tls: { certPath: "/var/lib/vacuum-agent/credentials/x509proxy.pem", keyPath: "/var/lib/vacuum-agent/credentials/x509proxy.pem" } });
  });

  it("the host certificate and key when there is no proxy and none is minted", () => {
    const ctx = diracContext({}, { config: { credentials: { x509_proxy: undefined, hostcert: "CERT", hostkey: "KEY", mint_proxy: false } } });
    const files = planDirac(ctx).filter((a) => a.kind === "write-file");
    expect(files.map((f) => (f as { contents: string }).contents)).toEqual(["CERT\n", "KEY\n"]);
  });

  it("a configured user; nothing planned for another payload type", () => {
    expect(planDirac(diracContext({ user: "plt" }))[0]).toMatchObject({ name: "plt" });
    expect(planDirac(makeContext())).toEqual([]);
  });
});

describe("pilot directory URLs", () => {
  it.each([
    ["pilot_url first, then mirrors", { pilot_url: "https://a/p", pilot_mirrors: ["https://b/p/", "https://a/p/"] }, undefined, ["https://a/p/", "https://b/p/"]],
    ["else the directory of user_data_url", { pilot_url: undefined }, "https://vo.example.org/vm/user_data?x=1", ["https://vo.example.org/vm/"]],
    ["user_data_url at the root", { pilot_url: undefined }, "https://vo.example.org/user_data", ["https://vo.example.org/"]],
    ["else the mirrors", { pilot_url: undefined, pilot_mirrors: ["https://m/p"] }, undefined, ["https://m/p/"]],
    ["none at all", { pilot_url: undefined }, undefined, []],
  ])("%s", (_n, dirac, userDataUrl, urls) => {
    const ctx = diracContext(dirac, { config: { identity: { user_data_url: userDataUrl } } });
    expect(pilotUrls(ctx)).toEqual(urls);
  });

  it.each([
    ["ftp://x/y", null],
    ["not a url", null],
    [undefined, null],
    ["http://h/a/b/c", "http://h/a/b/"],
  ])("userDataDirectory(%s) = %s", (url, dir) => expect(userDataDirectory(url)).toBe(dir));
});

describe("diracProblems: a bad template is refused (600) before anything runs", () => {
  it("a good configuration has no error", () => {
    expect(diracProblems(diracContext()).filter((p) => p.severity === "error")).toEqual([]);
  });

  it.each([
    ["no pilot URL at all", { pilot_url: undefined }, {}, "payload.dirac.pilot_url", "##user_data_option_dirac_pilot_url##"],
    ["no VO", { vo: undefined }, {}, "payload.dirac.vo", "##user_data_option_vo##"],
    ["an unknown extra option", { extra_options: "--pythonVersion=3" }, {}, "payload.dirac.extra_options", "##user_data_option_dirac_opts##: --pythonVersion=3: not an option"],
    ["an agent-owned extra option", { extra_options: "--Queue=x" }, {}, "payload.dirac.extra_options", "payload.dirac.queue"],
    ["root", { user: "root" }, {}, "payload.dirac.user", "unprivileged"],
    ["no space", {}, { config: { identity: { space: undefined } } }, "identity.space", "##user_data_space##"],
    ["no credentials", {}, { config: { credentials: { x509_proxy: undefined } } }, "credentials.x509_proxy", "##user_data_option_x509_proxy##"],
    // The patterns dirac.template carries; ##user_data_file_hostcert## is the deprecated spelling.
    ["no credentials: the host certificate's patterns", {}, { config: { credentials: { x509_proxy: undefined } } }, "credentials.x509_proxy", "or ##user_data_option_hostcert## and ##user_data_option_hostkey##"],
  ])("%s", (_n, dirac, o, path, message) => {
    const ctx = diracContext(dirac, o);
    const errors = diracProblems(ctx).filter((p) => p.severity === "error");
    expect(errors).toContainEqual(expect.objectContaining({ path, code: 600, message: expect.stringContaining(message) }));
    expect(planDirac(ctx)).toEqual([]);
  });

  it.each([
    ["host key instead of a proxy (minting off)", {}, { config: { credentials: { x509_proxy: undefined, hostcert: "C", hostkey: "K", mint_proxy: false } } }, "credentials.x509_proxy"],
    ["no CVMFS repository with the VOMS directories", {}, { config: { cvmfs: { repositories: ["lhcb.cern.ch"] } } }, "cvmfs.repositories"],
    ["an ignored extra option", { extra_options: "-h" }, {}, "payload.dirac.extra_options"],
  ])("warning: %s", (_n, dirac, o, path) => {
    const problems = diracProblems(diracContext(dirac, o));
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(problems).toContainEqual(expect.objectContaining({ severity: "warning", path }));
  });

  it("nothing for another payload type", () => expect(diracProblems(makeContext())).toEqual([]));
});
