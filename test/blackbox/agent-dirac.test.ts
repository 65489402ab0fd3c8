// The DIRAC payload end to end through the compiled agent: dist/agent `run --root` with
// `payload.type = dirac` downloads the pilot directory from a real HTTPS server (verified against
// the test CA placed at the machine's CA path under the root), checks pilot.json, runs the test
// dirac-pilot.py (python3) with the planned argv and environment, and turns its JobAgent lines into
// the shutdown_message. Everything is asserted from the outside: the job outputs, the pilot's own
// record of its argv and environment, the agent's JSON log, the server's request log.
// The runs are independent, so they all start at once in beforeAll; each test reads its run.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProxyPem } from "../lifecycle/joboutputs/proxy-certificate.ts";
import { makeTlsFixtures, type TlsFixtures } from "../support/tls-fixtures.ts";
import { agentLog, JOBOUTPUTS, makeDiracSite, pilotJsonForSpace, PILOT_DIR, runArgs, SPACE, tryRead, VM_UUID, VO, type DiracSite, type DiracSiteOptions } from "./dirac-site.ts";
import { hasAgentBinary, runAgent, type RunResult } from "./run-binary.ts";

interface Case {
  options: DiracSiteOptions;
  /** After the server started, before the run (e.g. listing links that need the server's port). */
  prepare?: (s: DiracSite) => void;
}

const now = Math.floor(Date.now() / 1000);
// Drain: the stop is 12 s after the start (deadline 80 s away, 68 s kept for uploads), the drain
// lead is half of that, so /var/lib/dirac_drain comes about 6 s in; the watchdog (60 s before the
// deadline, i.e. 20 s in) is not reached.
const NEAR_DEADLINE: Pick<DiracSiteOptions, "shutdowntime" | "doc"> = {
  shutdowntime: now + 80,
  doc: ["lifecycle.deadline_margin_seconds = 68", "payload.dirac.drain_seconds = 11"],
};
const WRONG_SHAPE = (() => {
  const doc = JSON.parse(pilotJsonForSpace());
  doc.Defaults.Pilot.Commands = ["CheckWorkerNode", "LaunchAgent"];
  return JSON.stringify(doc);
})();
const OUTSIDE = "/outside/evil.py";

const CASES = {
  job: { options: { scenario: "job" } },
  hostcert: { options: { scenario: "job", credentials: "hostcert" } },
  "no-match": { options: { scenario: "no-match" } },
  "version-mismatch": { options: { scenario: "version-mismatch" } },
  "payload-failure": { options: { scenario: "payload-failure" } },
  tampered: { options: { scenario: "job", faults: { tampered: { "pilot.json": Infinity } } } },
  missing: { options: { scenario: "job", faults: { missing: ["pilot.json"] } } },
  outside: {
    options: { scenario: "job", server: { manifest: false, outside: { [OUTSIDE]: "print('never')\n", "/etc/passwd": "root:x:0:0\n" } }, doc: ["payload.dirac.require_manifest = false"] },
    prepare: (s) =>
      s.server.setFaults({
        extraHrefs: ["../outside/evil.py", OUTSIDE, `https://127.0.0.1:${s.server.port}${OUTSIDE}`, "https://pilots.other.example/pilot/dirac-pilot.py", "sub/../../outside/evil.py", "%2e%2e/outside/evil.py", "/etc/passwd", "..%2Foutside%2Fevil.py"],
      }),
  },
  "wrong-shape": { options: { scenario: "job", files: { "pilot.json": WRONG_SHAPE } } },
  "unknown-option": { options: { scenario: "job", diracOpts: (s) => `--pythonVersion=3 --CVMFS_locations=${s.cvmfs}` } },
  drain: { options: { scenario: "drain", ...NEAR_DEADLINE } },
  "drain-idle": { options: { scenario: "drain-idle", ...NEAR_DEADLINE } },
} satisfies Record<string, Case>;
type Name = keyof typeof CASES;

interface Run {
  site: DiracSite;
  r: RunResult;
  wallMs: number;
  message: string | null;
  /** The test pilot's record of its argv, cwd and environment (absent: it never started). */
  record: { argv: string[]; cwd: string; executable: string; env: Record<string, string> } | null;
  pilotLog: string;
}

let f: TlsFixtures;
let proxyPem: string;
const runs = new Map<Name, Run>();

async function run(name: Name): Promise<void> {
  const c: Case = CASES[name];
  const site = await makeDiracSite(f, proxyPem, c.options);
  c.prepare?.(site);
  const t0 = Date.now();
  const r = await runAgent(runArgs(site), { env: site.env, timeoutMs: 45_000 });
  const wallMs = Date.now() - t0;
  const record = tryRead(join(site.root, PILOT_DIR, "pilot-record.json"));
  runs.set(name, {
    site,
    r,
    wallMs,
    message: tryRead(join(site.root, JOBOUTPUTS, "shutdown_message")),
    record: record === null ? null : JSON.parse(record),
    pilotLog: tryRead(join(site.root, JOBOUTPUTS, "dirac-pilot.log")) ?? "",
  });
}

const get = (name: Name): Run => {
  const x = runs.get(name);
  if (!x) throw new Error(`run ${name} did not happen`);
  return x;
};

/** Every file under dir, as paths relative to it. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** The run never reached the pilot: no record, no pilot output, and the server saw no request (planning refusals). */
function pilotNeverStarted(x: Run): void {
  expect(x.record).toBeNull();
  expect(x.pilotLog).toBe("");
}

describe.skipIf(!hasAgentBinary())("dist/agent with a DIRAC pilot", () => {
  beforeAll(async () => {
    f = await makeTlsFixtures();
    proxyPem = makeProxyPem(f.clientCertPem, f.clientKeyPem);
    await Promise.all((Object.keys(CASES) as Name[]).map(run));
  }, 90_000);
  afterAll(async () => {
    for (const x of runs.values()) await x.site.dispose();
    await f?.cleanup();
  });

  it("a job: 200, dirac-pilot.py launched by python3 with the planned options and PILOT_UUID", () => {
    const x = get("job");
    expect(x.r.stderr).not.toMatch(/\n\s+at /);
    // 2: degraded by the one warning of this setup (no CVMFS repository: the VOMS directories come
    // from --CVMFS_locations instead); nothing else is wrong.
    expect(x.r.exitCode).toBe(2);
    expect(x.r.stderr.split("\n").filter((l) => / (warn|error) /.test(l))).toEqual([expect.stringContaining("warning: user_data: cvmfs.repositories: neither grid.cern.ch nor dirac.egi.eu")]);
    expect(x.message).toBe("200 Job 123456789 received and done");
    expect(x.pilotLog).toContain("Received JobID=123456789");
    const rec = x.record!;
    expect(rec.executable).toMatch(/(^|\/)python3(\.\d+)?$/);
    const pilotDir = join(x.site.root, PILOT_DIR);
    expect(rec.cwd).toBe(pilotDir);
    expect(rec.argv[0]).toBe(join(pilotDir, "dirac-pilot.py"));
    const certDir = join(x.site.root, "scratch/dirac/etc/grid-security");
    expect(rec.argv.slice(1)).toEqual([
      `--Name=${SPACE}`,
      "--Queue=default",
      "--MaxCycles=1",
      "--CEType=Pool",
      "--cert",
      `--certLocation=${certDir}`,
      "--option=/LocalSite/SubmitPool=Test",
      `--wnVO=${VO}`,
      "--StopAfterFailedMatches=0",
      "--pilotProcessors=2",
      `--CVMFS_locations=${x.site.cvmfs}`,
    ]);
    for (const name of ["hostcert.pem", "hostkey.pem"]) expect(statSync(join(certDir, name)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(certDir, "hostkey.pem"), "utf8")).toContain("PRIVATE KEY");
    expect(rec.env).toMatchObject({
      PILOT_UUID: `vm://${SPACE}/${VM_UUID}`,
      DIRAC_PILOT_VO: VO,
      JOBFEATURES: x.site.env.JOBFEATURES,
      X509_CERT_DIR: join(x.site.root, "etc/grid-security/certificates"),
      HOME: join(x.site.root, "scratch/dirac"),
    });
    // The download went over verified HTTPS: every published file was fetched, nothing else.
    expect(x.site.server.requests.filter((q) => q.status !== 200)).toEqual([]);
  });

  it("a job: no private key in any job output, log or record under the root", () => {
    const x = get("job");
    const keyLines = proxyPem.split("\n").filter((l, i, all) => i > 0 && /PRIVATE KEY-----$/.test(all[i - 1]!) && l.length > 40);
    expect(keyLines.length).toBe(1);
    const keyFiles = new Set(["var/lib/vacuum-agent/credentials/x509proxy.pem", "scratch/dirac/etc/grid-security/hostcert.pem", "scratch/dirac/etc/grid-security/hostkey.pem"]);
    const scanned = filesUnder(x.site.root).filter((p) => !keyFiles.has(p));
    expect(scanned).toEqual(expect.arrayContaining([`${JOBOUTPUTS}/shutdown_message`, `${JOBOUTPUTS}/dirac-pilot.log`, `${JOBOUTPUTS}/vacuum-agent.jsonl`, `${PILOT_DIR}/pilot-record.json`]));
    for (const p of scanned) {
      const text = readFileSync(join(x.site.root, p), "latin1");
      expect.soft(text.includes(keyLines[0]!) || text.includes("PRIVATE KEY-----"), p).toBe(false);
    }
    expect(x.r.stdout + x.r.stderr).not.toContain("PRIVATE KEY");
  });

  it("a host certificate and key, no proxy: the pilot gets the proxy the agent minted, never the host key", () => {
    const x = get("hostcert");
    expect(x.message).toBe("200 Job 123456789 received and done");
    expect(x.r.stderr).not.toContain("no X.509 proxy");
    const minted = readFileSync(join(x.site.root, "var/lib/vacuum-agent/credentials/x509proxy.pem"), "utf8");
    // The minted proxy: its own certificate and key, then the host certificate it was issued by.
    expect(minted.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(minted).toContain(f.clientCertPem.replace(/\r\n/g, "\n").trim());
    const hostKeyLine = f.clientKeyPem.split(/\r?\n/)[1]!;
    expect(hostKeyLine.length).toBeGreaterThan(40);
    const certDir = join(x.site.root, "scratch/dirac/etc/grid-security");
    for (const name of ["hostcert.pem", "hostkey.pem"]) {
      expect(readFileSync(join(certDir, name), "utf8"), name).toBe(minted);
      expect(statSync(join(certDir, name)).mode & 0o777, name).toBe(0o600);
    }
    // Only root's own copy holds the host key.
    for (const p of filesUnder(x.site.root).filter((p) => p !== "etc/grid-security/hostkey.pem")) {
      expect.soft(readFileSync(join(x.site.root, p), "latin1").includes(hostKeyLine), p).toBe(false);
    }
    expect(x.record!.argv).toEqual(expect.arrayContaining(["--cert", `--certLocation=${certDir}`]));
    for (const name of ["hostcert.pem", "hostkey.pem"]) expect(x.pilotLog).toContain(`test pilot: --cert ${name}: readable, 2 certificate(s), a private key`);
  });

  it("the agent's JSON log times the fetch-pilot action and lists each verified file", () => {
    const x = get("job");
    const log = agentLog(x.site);
    const fetch = log.filter((l) => l.kind === "fetch-pilot");
    expect(fetch).toHaveLength(1);
    expect(fetch[0]!.durationMs).toEqual(expect.any(Number));
    expect(String(fetch[0]!.detail)).toMatch(/verified by checksums\.sha512/);
    const progress = log.map((l) => String(l.msg)).filter((m) => /^pilot: \S+ \d+ bytes sha512 ok/.test(m));
    expect(progress.map((m) => m.split(" ")[1]).sort()).toEqual(["dirac-pilot.py", "drain-file", "pilot.json", "pilot.tar", "scenario"]);
  });

  it.each([
    ["no-match", "300 Nothing to do: no job matched"],
    ["version-mismatch", "600 Cannot match jobs with this pilot version"],
    ["payload-failure", "700 Payload execution failed: error code 2"],
  ] as const)("scenario %s: %s", (name, message) => {
    const x = get(name);
    expect(x.record).not.toBeNull();
    expect(x.message).toBe(message);
  });

  it("a file tampered with on the server: 600 naming it, the pilot never started", () => {
    const x = get("tampered");
    expect(x.message).toMatch(/^600 /);
    expect(x.message).toMatch(/pilot\.json/);
    expect(x.message).toMatch(/sha512|SHA-512|checksum/i);
    pilotNeverStarted(x);
    expect(existsSync(join(x.site.root, PILOT_DIR, "pilot.json"))).toBe(false);
  });

  it("a listed file missing on the server: 600 naming it, the pilot never started", () => {
    const x = get("missing");
    expect(x.message).toMatch(/^600 .*: pilot\.json is listed in checksums\.sha512 but not published \(HTTP 404\)/);
    pilotNeverStarted(x);
  });

  it("a listing that points outside the directory (no manifest required): nothing outside is requested", () => {
    const x = get("outside");
    expect(x.message).toBe("200 Job 123456789 received and done");
    const paths = x.site.server.requests.map((q) => q.path);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !p.startsWith("/pilot/"))).toEqual([]);
    expect(paths.filter((p) => /outside|evil|passwd|\.\./i.test(decodeURIComponent(p)))).toEqual([]);
    expect(readdirSync(join(x.site.root, PILOT_DIR)).filter((n) => /evil|passwd/.test(n))).toEqual([]);
  });

  it("a pilot.json of the wrong shape: 600 naming the JSON path, the pilot never started", () => {
    const x = get("wrong-shape");
    expect(x.message).toMatch(/^600 .*pilot\.json: Defaults\.Pilot\.Commands: expected an object keyed by GridCEType or Defaults, found a list$/);
    pilotNeverStarted(x);
  });

  it("an unknown extra option: refused at planning time with 600, nothing fetched or run; the dry run shows it", async () => {
    const x = get("unknown-option");
    expect(x.message).toMatch(/^600 .*payload\.dirac\.extra_options.*--pythonVersion/);
    pilotNeverStarted(x);
    expect(x.site.server.requests).toEqual([]);
    const dry = await runAgent(["--dry-run", ...runArgs(x.site).slice(1)], { env: x.site.env });
    expect(dry.stdout + dry.stderr).toMatch(/payload\.dirac\.extra_options.*--pythonVersion/);
    expect(dry.stdout).not.toContain("run-payload dirac");
    expect(x.site.server.requests).toEqual([]);
  });

  it.each([
    ["drain", "200 Job 123456789 received and done, then drained"],
    ["drain-idle", "100 Drained before a job was matched"],
  ] as const)("a near deadline (%s): the agent creates the drain file, the pilot stops matching: %s", (name, message) => {
    const x = get(name);
    expect(x.message).toBe(message);
    expect(existsSync(join(x.site.root, "var/lib/dirac_drain"))).toBe(true);
    expect(x.pilotLog).toContain('JobAgent will stop with message "Node is being drained by an operator"');
    const drainLine = agentLog(x.site).find((l) => /^drain: /.test(String(l.msg)));
    expect(drainLine).toBeDefined();
    // Drained, not stopped: the pilot ended by itself before its stop time (12 s after the start).
    expect(x.wallMs).toBeLessThan(12_000);
  });
});
