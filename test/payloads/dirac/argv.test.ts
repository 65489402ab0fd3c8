// The argv and environment of argv.ts/plan.ts run against the test dirac-pilot.py
// (test/support/dirac-pilot/) with python3: every argv planDirac produces is accepted, pilot.json
// is read from the working directory, and the outcome of each scenario is the right code.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../../src/exec/runner.ts";
import { pilotArgv, pilotCeType, pilotEnv, type PilotLaunch } from "../../../src/payloads/dirac/argv.ts";
import { diracOutcome } from "../../../src/payloads/dirac/outcome.ts";
import { PILOT_OPTIONS } from "../../../src/payloads/dirac/pilot-options.ts";
import { planDirac } from "../../../src/payloads/dirac/plan.ts";
import type { RunPayloadAction } from "../../../src/plan/actions.ts";
import { runPayload } from "../../../src/supervise/payload-process.ts";
import { allowSubprocess } from "../../setup/forbid-subprocess.ts";
import { makeContext } from "../../support/context.ts";

allowSubprocess(["python3"]);

const TEST_PILOT = "test/support/dirac-pilot/dirac-pilot.py";
const FIXTURES = "/work/shared/fixtures/pilot-json";
let tmp: string;
let n = 0;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "dirac-argv-"));
  // What CVMFS (grid.cern.ch) gives the pilot on a VM: non-empty CA and VOMS directories.
  for (const d of ["certificates", "vomsdir", "vomses"]) {
    mkdirSync(join(tmp, "grid-security", d), { recursive: true });
    writeFileSync(join(tmp, "grid-security", d, "x"), "x");
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A pilot directory with the test pilot and a pilot.json. */
function pilotDir(pilotJson: string | null, scenario?: string): string {
  const dir = join(tmp, `pilot-${++n}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(TEST_PILOT, join(dir, "dirac-pilot.py"));
  if (pilotJson !== null) writeFileSync(join(dir, "pilot.json"), pilotJson);
  if (scenario) writeFileSync(join(dir, "scenario"), scenario);
  return dir;
}

const siteEnv = (): Record<string, string> => ({
  X509_CERT_DIR: join(tmp, "grid-security/certificates"),
  X509_VOMS_DIR: join(tmp, "grid-security/vomsdir"),
  X509_VOMSES: join(tmp, "grid-security/vomses"),
});

const launch = (dir: string, o: Partial<PilotLaunch> = {}): PilotLaunch => ({
  pilotDir: dir,
  space: "jenkins-full.cern.ch",
  queue: "default",
  maxCycles: 1,
  ceType: "InProcess",
  certDir: join(dir, "etc/grid-security"),
  submitPool: "Test",
  vo: "gridpp",
  stopAfterFailedMatches: 0,
  processors: 1,
  extraOptions: [],
  ...o,
});

async function run(argv: string[], cwd: string, env: Record<string, string>) {
  return runCommand(argv, { cwd, env: { ...siteEnv(), ...env }, timeoutMs: 20_000, okCodes: [0, 1, 255], privileged: false });
}

describe("the test pilot knows exactly the option table of pilot-options.ts", () => {
  it("same long names, short letters and value flags", async () => {
    const r = await runCommand(["python3", TEST_PILOT], { env: { DIRAC_TEST_PILOT_DUMP_OPTIONS: "1" }, timeoutMs: 20_000, privileged: false });
    const table = (JSON.parse(r.stdout) as [string, string][]).map(([s, l]) => ({ long: l.replace(/=$/, ""), short: s.replace(":", "") || undefined, value: l.endsWith("=") }));
    expect(table).toEqual(PILOT_OPTIONS.map((o) => ({ long: o.long, short: o.short, value: o.value })));
  });
});

describe("argv and environment run against the test pilot (new-schema fixture)", () => {
  it.each([
    ["job", 0, 200, "Job 123456789 received and done"],
    ["no-match", 0, 300, "Nothing to do: no job matched"],
    ["version-mismatch", 0, 600, "Cannot match jobs with this pilot version"],
    ["payload-failure", 0, 700, "Payload execution failed: error code 2"],
    ["crash", 1, 700, "dirac-pilot.py exited with code 1: RuntimeError: test pilot asked to crash"],
  ])("scenario %s: exit %i, outcome %i", async (scenario, exitCode, code, text) => {
    const dir = pilotDir(readFileSync(`${FIXTURES}/pilot-new-schema.json`, "utf8"), scenario);
    const l = launch(dir);
    const env = pilotEnv({ space: l.space, jobId: "vm-uuid-1", vo: l.vo, home: dir, mjf: [["JOBFEATURES", "/jf"]] });
    const r = await run(pilotArgv(l), dir, env);
    expect(r.exitCode).toBe(exitCode);
    const outcome = diracOutcome(`${r.stdout}\n${r.stderr}`, { kind: "exited", exitCode: r.exitCode! });
    expect(outcome.code).toBe(code);
    expect(outcome.text).toContain(text);
  });

  it("records the argv and the environment it got", async () => {
    const dir = pilotDir(readFileSync(`${FIXTURES}/pilot-new-schema.json`, "utf8"));
    const l = launch(dir, { site: "VAR_JENKINS_SITE", processors: 4, ceType: pilotCeType(4, false), extraOptions: ["--debug"] });
    const env = pilotEnv({ space: l.space, jobId: "vm-uuid-1", vo: l.vo, home: dir, mjf: [["MACHINEFEATURES", "/mf"]] });
    await run(pilotArgv(l), dir, { ...env, SOME_SECRET_TOKEN: "hunter2" });
    const rec = JSON.parse(readFileSync(join(dir, "pilot-record.json"), "utf8")) as { argv: string[]; cwd: string; env: Record<string, string> };
    expect(rec.argv).toEqual(pilotArgv(l).slice(1));
    expect(rec.cwd).toBe(dir);
    expect(rec.env).toMatchObject({ PILOT_UUID: "vm://jenkins-full.cern.ch/vm-uuid-1", DIRAC_PILOT_VO: "gridpp", MACHINEFEATURES: "/mf", HOME: dir });
    expect(rec.env).not.toHaveProperty("SOME_SECRET_TOKEN");
    expect(rec.argv).toContain("--CEType=Pool");
  });
});

describe("the test pilot fails as the real one does", () => {
  const newSchema = () => readFileSync(`${FIXTURES}/pilot-new-schema.json`, "utf8");
  it.each<[string, () => { dir: string; argv: string[]; env: Record<string, string> }, number, string, number]>([
    [
      "an unknown option: getopt traceback",
      () => {
        const dir = pilotDir(newSchema());
        return { dir, argv: [...pilotArgv(launch(dir)), "--pythonVersion=3"], env: {} };
      },
      1,
      "getopt.GetoptError: option --pythonVersion not recognized",
      600,
    ],
    [
      "no pilot.json in the working directory",
      () => {
        const dir = pilotDir(null);
        return { dir, argv: pilotArgv(launch(dir)), env: {} };
      },
      1,
      "FileNotFoundError",
      600,
    ],
    [
      "new schema without ConfigurationServers",
      () => {
        const js = JSON.parse(newSchema()) as Record<string, unknown>;
        delete js.ConfigurationServers;
        const dir = pilotDir(JSON.stringify(js));
        return { dir, argv: pilotArgv(launch(dir)), env: {} };
      },
      1,
      "KeyError: 'ConfigurationServers'",
      600,
    ],
    [
      "no --wnVO, a host certificate as X509_USER_PROXY",
      () => {
        const dir = pilotDir(newSchema());
        writeFileSync(join(dir, "hostcert.pem"), "-----BEGIN CERTIFICATE-----\nMIIhost\n-----END CERTIFICATE-----\n");
        return { dir, argv: pilotArgv(launch(dir)).filter((a) => !a.startsWith("--wnVO")), env: { X509_USER_PROXY: join(dir, "hostcert.pem") } };
      },
      1,
      "NotImplementedError",
      600,
    ],
    [
      "no CA directory anywhere",
      () => {
        const dir = pilotDir(newSchema());
        return { dir, argv: pilotArgv(launch(dir)), env: { X509_VOMSES: join(dir, "nowhere") } };
      },
      1,
      "Could not find/set X509_VOMSES",
      500,
    ],
    [
      "a command it cannot instantiate: exit 255",
      () => {
        const dir = pilotDir(readFileSync(`${FIXTURES}/pilot-old-schema.json`, "utf8"));
        return { dir, argv: pilotArgv(launch(dir, { space: "jenkins-lhcb.cern.ch" })), env: {} };
      },
      255,
      "Command LHCbInstallDIRAC could not be instantiated",
      600,
    ],
  ])("%s", async (_n, setup, exitCode, message, code) => {
    const { dir, argv, env } = setup();
    const r = await run(argv, dir, env);
    expect(r.exitCode).toBe(exitCode);
    expect(`${r.stdout}\n${r.stderr}`).toContain(message);
    expect(diracOutcome(`${r.stdout}\n${r.stderr}`, { kind: "exited", exitCode: r.exitCode! }).code).toBe(code);
  });

  it("the wnVO the agent always passes avoids the host-certificate death", async () => {
    const dir = pilotDir(newSchema());
    writeFileSync(join(dir, "hostcert.pem"), "-----BEGIN CERTIFICATE-----\nMIIhost\n-----END CERTIFICATE-----\n");
    const r = await run(pilotArgv(launch(dir)), dir, { X509_USER_PROXY: join(dir, "hostcert.pem") });
    expect(r.exitCode).toBe(0);
  });
});

describe("every argv planDirac produces is accepted by the test pilot", () => {
  it.each([
    ["defaults", {}, "pilot-new-schema.json", "jenkins-full.cern.ch"],
    ["site, setup, extra options", { site: "VAR_JENKINS_SITE", setup: "DIRAC-Certification", extra_options: "-d -r v8r0 -o /Resources/Computing/CEDefaults/X=1 --userEnvVariables=A:::1" }, "pilot-old-schema.json", "jenkins-full.cern.ch"],
    ["a space not in CEs, more cycles", { site: "VAC.Example.uk", max_cycles: 3, stop_after_failed_matches: 2 }, "pilot-old-schema.json", "vac01.example.org"],
    ["old CI file", { queue: "DIRACQUEUE" }, "pilot-ci.json", "ce.dirac.org"],
  ])("%s", async (_n, dirac, fixture, space) => {
    const scratch = join(tmp, `scratch-${++n}`);
    const caDir = join(tmp, "grid-security/certificates");
    const ctx = makeContext({
      config: {
        identity: { space, uuid: "uuid-9" },
        scratch: { mount_point: scratch },
        credentials: { x509_proxy: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----", ca_dir: caDir },
        payload: { type: "dirac", dirac: { queue: "default", submit_pool: "Test", vo: "gridpp", pilot_url: "https://p/", ...dirac } },
      },
    });
    const runAction = planDirac(ctx).find((a): a is RunPayloadAction => a.kind === "run-payload")!;
    const dir = runAction.cwd!;
    mkdirSync(dir, { recursive: true });
    copyFileSync(TEST_PILOT, join(dir, "dirac-pilot.py"));
    writeFileSync(join(dir, "pilot.json"), readFileSync(`${FIXTURES}/${fixture}`, "utf8"));
    const r = await run(runAction.argv, dir, runAction.env!);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("Executing commands");
    expect(runAction.env!.X509_CERT_DIR).toBe(caDir);
  });
});

describe("the drain before the deadline, through the real supervisor", () => {
  it("the drain file is created before stopAt, the pilot ends by itself, the job counts (200)", async () => {
    const dir = pilotDir(readFileSync(`${FIXTURES}/pilot-new-schema.json`, "utf8"), "drain");
    const drainFile = join(tmp, `dirac_drain-${n}`);
    const l = launch(dir);
    const stopAt = Math.floor(Date.now() / 1000) + 8;
    const action: RunPayloadAction = {
      kind: "run-payload",
      name: "dirac",
      argv: pilotArgv(l),
      cwd: dir,
      env: { ...pilotEnv({ space: l.space, jobId: "u", vo: l.vo, home: dir, mjf: [] }), ...siteEnv(), DIRAC_DRAIN_FILE: drainFile },
      stdoutPath: join(dir, "dirac-pilot.log"),
      stderrPath: join(dir, "dirac-pilot.err"),
      stopAt,
      killGraceSeconds: 2,
      outcome: { kind: "dirac-pilot-log", logPaths: [join(dir, "dirac-pilot.log"), join(dir, "dirac-pilot.err")] },
      drain: [{ leadSeconds: 6, do: { kind: "create-file", path: drainFile, contents: "" }, why: "test" }],
      why: "test",
    };
    const result = await runPayload(action, { root: null, privileged: false, pollMs: 100 });
    expect(existsSync(drainFile)).toBe(true);
    expect(result.end).toEqual({ kind: "exited", exitCode: 0 });
    const text = Object.values(result.evidence ?? {}).join("\n");
    expect(diracOutcome(text, result.end)).toEqual({ code: 200, text: "Job 123456789 received and done, then drained" });
  });

  it("a hung pilot is stopped at the deadline: 100 naming the job", async () => {
    const dir = pilotDir(readFileSync(`${FIXTURES}/pilot-new-schema.json`, "utf8"), "hang");
    const l = launch(dir);
    const stopAt = Math.floor(Date.now() / 1000) + 2;
    const action: RunPayloadAction = {
      kind: "run-payload",
      name: "dirac",
      argv: pilotArgv(l),
      cwd: dir,
      env: { ...pilotEnv({ space: l.space, jobId: "u", vo: l.vo, home: dir, mjf: [] }), ...siteEnv() },
      stdoutPath: join(dir, "dirac-pilot.log"),
      stderrPath: join(dir, "dirac-pilot.err"),
      stopAt,
      killGraceSeconds: 2,
      outcome: { kind: "dirac-pilot-log", logPaths: [join(dir, "dirac-pilot.log")] },
      why: "test",
    };
    const result = await runPayload(action, { root: null, privileged: false, pollMs: 100 });
    expect(result.end.kind).toBe("deadline");
    const o = diracOutcome(Object.values(result.evidence ?? {}).join("\n"), result.end);
    expect(o.code).toBe(100);
    expect(o.text).toContain("after job 123456789");
  });
});

describe("pilotCeType and pilotEnv", () => {
  it.each([
    [1, false, "InProcess"],
    [2, false, "Pool"],
    [1, true, "Singularity"],
    [8, true, "Pool/Singularity"],
  ])("%i processor(s), container %s: %s", (processors, container, ceType) => expect(pilotCeType(processors, container)).toBe(ceType));

  it("puts the proven container runtime's directory first on PATH", () => {
    const env = pilotEnv({ space: "s", jobId: "j", vo: "v", home: "/h", mjf: [], containerRuntime: "/cvmfs/oasis.opensciencegrid.org/mis/apptainer/bin/apptainer" });
    expect(env.PATH?.split(":")[0]).toBe("/cvmfs/oasis.opensciencegrid.org/mis/apptainer/bin");
    expect(pilotEnv({ space: "s", jobId: "j", vo: "v", home: "/h", mjf: [] })).not.toHaveProperty("PATH");
  });
});
