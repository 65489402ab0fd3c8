// A DIRAC site for black-box runs of dist/agent with `payload.type = dirac`: a real HTTPS pilot
// server (test/support/pilot-server.ts) publishing the test dirac-pilot.py with a pilot.json that
// lists the space, a root for `run --root` holding the test CA at the machine's CA path, MJF job
// features with allocated_cpu, a CVMFS-like tree with the VOMS directories the pilot looks for, and
// the user_data naming all of it. Temporary directories are removed by the caller's dispose(): the
// per-test cleanup of fixtures.ts would delete them under scenarios that run concurrently.
// No vitest import: scripts/bench-pilot-download.ts (run by bun) builds its agent runs with it too.

import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPilotServer, type PilotFaults, type PilotServer, type PilotServerOptions } from "../support/pilot-server.ts";
import type { TlsFixtures } from "../support/tls-fixtures.ts";

export const PILOT_SOURCE = "test/support/dirac-pilot/dirac-pilot.py";
export const PILOT_JSON_FIXTURE = "/work/shared/fixtures/pilot-json/pilot-new-schema.json";
export const SPACE = "vac01.example.org";
export const VO = "gridpp";
export const VM_UUID = "6f1c2b3a-5d4e-4f00-8a00-0123456789ab";
/** Where the agent's plan puts the pilot (scratch.mount_point /scratch), as a path under the root. */
export const PILOT_DIR = "scratch/dirac/pilot";
export const JOBOUTPUTS = "var/spool/joboutputs";
/** The machine's CA directory: created under the root, so the agent finds it where a VM has it. */
export const CA_DIR = "/etc/grid-security/certificates";

/** The real new-schema pilot.json with this space added as a CE whose commands end in LaunchAgent. */
export function pilotJsonForSpace(): string {
  const doc = JSON.parse(readFileSync(PILOT_JSON_FIXTURE, "utf8")) as { CEs: Record<string, unknown> };
  doc.CEs[SPACE] = { Site: "VAC.Example.uk", GridCEType: "TEST-FULL" };
  return JSON.stringify(doc, null, 1);
}

export interface DiracSiteOptions {
  /** The test pilot's scenario, published as the `scenario` file; none: the file is left out. */
  scenario?: string;
  /** Replaces or adds published files (pilot.json, dirac-pilot.py, ...). */
  files?: Record<string, string | Uint8Array>;
  server?: Pick<PilotServerOptions, "manifest" | "tar" | "listing" | "outside">;
  faults?: PilotFaults;
  /** More lines of the agent document (`payload.dirac.* = ...`, lifecycle, ...). */
  doc?: string[];
  /** `user_data_option_dirac_opts`; default: the CVMFS_locations of this site. */
  diracOpts?: (site: DiracSite) => string;
  allocatedCpu?: number;
  /** MJF machinefeatures/shutdowntime (Unix seconds). */
  shutdowntime?: number;
  /** What the pilot authenticates with: the X.509 proxy (default), or the test client certificate and key as host certificate and key. */
  credentials?: "proxy" | "hostcert";
}

export interface DiracSite extends DiracRoot {
  server: PilotServer;
  proxyPem: string;
  dispose(): Promise<void>;
}

/** The VOMS directories dirac-pilot.py requires (X509_VOMS_DIR, X509_VOMSES), as grid.cern.ch publishes them. */
function makeCvmfs(dir: string): void {
  mkdirSync(join(dir, "etc/grid-security/vomsdir/gridpp"), { recursive: true });
  writeFileSync(join(dir, "etc/grid-security/vomsdir/gridpp/voms.gridpp.ac.uk.lsc"), "/C=UK/O=eScience/OU=Manchester/L=HEP/CN=voms.gridpp.ac.uk\n/C=UK/O=eScienceCA/CN=UK e-Science CA 2B\n");
  mkdirSync(join(dir, "etc/grid-security/vomses"), { recursive: true });
  writeFileSync(join(dir, "etc/grid-security/vomses/gridpp-voms.gridpp.ac.uk"), '"gridpp" "voms.gridpp.ac.uk" "15000" "/C=UK/O=eScience/OU=Manchester/L=HEP/CN=voms.gridpp.ac.uk" "gridpp"\n');
}

/** A root for `run --root` with the test CA at the machine's CA path, and the inputs beside it. */
export interface DiracRoot {
  root: string;
  /** Inputs outside the root: user_data, MJF, the CVMFS-like tree. */
  inputs: string;
  userData: string;
  /** Environment for runAgent (MJF directories). */
  env: Record<string, string>;
  cvmfs: string;
  /** The drain file the agent creates under this root. */
  drainFile: string;
}

export function makeDiracRoot(tls: Pick<TlsFixtures, "caDir">, o: Pick<DiracSiteOptions, "allocatedCpu" | "shutdowntime"> = {}): DiracRoot {
  const root = mkdtempSync(join(tmpdir(), "agent-dirac-root-"));
  const inputs = mkdtempSync(join(tmpdir(), "agent-dirac-in-"));
  const caDir = join(root, CA_DIR);
  mkdirSync(caDir, { recursive: true });
  for (const name of readdirSync(tls.caDir)) copyFileSync(join(tls.caDir, name), join(caDir, name));
  const cvmfs = join(inputs, "cvmfs");
  makeCvmfs(cvmfs);
  mkdirSync(join(inputs, "jf"));
  mkdirSync(join(inputs, "mf"));
  writeFileSync(join(inputs, "jf/allocated_cpu"), `${o.allocatedCpu ?? 2}\n`);
  writeFileSync(join(inputs, "mf/total_cpu"), `${o.allocatedCpu ?? 2}\n`);
  if (o.shutdowntime !== undefined) writeFileSync(join(inputs, "mf/shutdowntime"), `${o.shutdowntime}\n`);
  return {
    root,
    inputs,
    userData: join(inputs, "user_data"),
    env: { JOBFEATURES: join(inputs, "jf"), MACHINEFEATURES: join(inputs, "mf") },
    cvmfs,
    drainFile: join(root, "var/lib/dirac_drain"),
  };
}

/** The agent document in a marker block of a shell script, as test/blackbox/fixtures.ts writes it. */
function shellUserData(lines: string[]): string {
  return ["#!/bin/sh", ": <<'VACUUM_AGENT_CONFIG'", "-----BEGIN VACUUM-AGENT CONFIG-----", ...lines, "-----END VACUUM-AGENT CONFIG-----", "VACUUM_AGENT_CONFIG", "exec /usr/local/bin/agent run", ""].join("\n");
}

/** The dirac user_data for this root: space, VM uuid, CA path, the proxy, pilot URL, VO, options. */
export function writeDiracUserData(r: DiracRoot, o: { pilotUrl: string; proxyPem: string; hostcert?: { cert: string; key: string }; diracOpts?: string; doc?: string[] }): void {
  const credentials = o.hostcert
    ? ["user_data_option_hostcert <<END_OF_HOSTCERT", o.hostcert.cert.trim(), "END_OF_HOSTCERT", "user_data_option_hostkey <<END_OF_HOSTKEY", o.hostcert.key.trim(), "END_OF_HOSTKEY"]
    : ["user_data_option_x509_proxy <<END_OF_X509_PROXY", o.proxyPem.trim(), "END_OF_X509_PROXY"];
  const doc = [
    "version = 1",
    `user_data_space = ${SPACE}`,
    "user_data_machinetype = dirac-test",
    `user_data_uuid = ${VM_UUID}`,
    `credentials.ca_dir = ${CA_DIR}`,
    ...credentials,
    "payload.type = dirac",
    `user_data_option_dirac_pilot_url = ${o.pilotUrl}`,
    `user_data_option_vo = ${VO}`,
    // The VOMS directories dirac-pilot.py requires come from this site's CVMFS-like tree.
    `user_data_option_dirac_opts = ${o.diracOpts ?? `--CVMFS_locations=${r.cvmfs}`}`,
    ...(o.doc ?? []),
  ];
  writeFileSync(r.userData, shellUserData(doc));
}

export async function makeDiracSite(tls: TlsFixtures, proxyPem: string, o: DiracSiteOptions = {}): Promise<DiracSite> {
  const r = makeDiracRoot(tls, o);
  const files: Record<string, string | Uint8Array> = {
    "dirac-pilot.py": readFileSync(PILOT_SOURCE),
    "pilot.json": pilotJsonForSpace(),
    // The agent creates its drain file under --root; the test pilot reads where from here.
    "drain-file": `${r.drainFile}\n`,
    ...(o.scenario ? { scenario: `${o.scenario}\n` } : {}),
    ...o.files,
  };
  const server = await startPilotServer({ tls: { ca: tls.caPem, cert: tls.serverCertPem, key: tls.serverKeyPem }, files, ...o.server, ...(o.faults ? { faults: o.faults } : {}) });
  const site: DiracSite = {
    ...r,
    server,
    proxyPem,
    dispose: async () => {
      await server.close();
      rmSync(r.root, { recursive: true, force: true });
      rmSync(r.inputs, { recursive: true, force: true });
    },
  };
  writeDiracUserData(r, {
    pilotUrl: server.url,
    proxyPem,
    ...(o.credentials === "hostcert" ? { hostcert: { cert: tls.clientCertPem, key: tls.clientKeyPem } } : {}),
    ...(o.diracOpts ? { diracOpts: o.diracOpts(site) } : {}),
    ...(o.doc ? { doc: o.doc } : {}),
  });
  return site;
}

/** `run --root` arguments for this site. */
export const runArgs = (s: DiracSite): string[] => ["run", "--root", s.root, "--user-data", s.userData, "--metadata-url", "none"];

export const readIn = (s: DiracSite, rel: string): string => readFileSync(join(s.root, rel), "utf8");

export function tryRead(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Every line of the agent's JSON logs under the root. */
export function agentLog(s: Pick<DiracRoot, "root">): Record<string, unknown>[] {
  const dir = join(s.root, "var/log/vacuum-agent");
  const out: Record<string, unknown>[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".jsonl")).sort()) {
    for (const line of readFileSync(join(dir, name), "utf8").split("\n")) if (line.trim()) out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}
