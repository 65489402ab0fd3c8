// The exact command line and environment of dirac-pilot.py (pilots.md 2, 8). Long options only,
// each written `--name=value` so a value can never be taken for an option; every option here is
// in the table of src/payloads/dirac/pilot-options.ts (a test parses the result with it).
//
// Compared with today's VMs (`python dirac-pilot.py --debug -o /LocalSite/SubmitPool=... --Name
// <space> --Queue $QUEUE --MaxCycles 1 --CEType Sudo --cert --certLocation ... $DIRAC_OPTS`):
// no Sudo CE (removed from DIRAC), --wnVO always (a new-schema pilot.json without it makes the
// pilot read the VO from a host certificate and die), --StopAfterFailedMatches so a VM without
// work ends at once with 300, --pilotProcessors from Machine/Job Features, the site with --name.

import { CHILD_PATH } from "../../exec/commands.ts";

export interface PilotLaunch {
  /** Machine path of the downloaded pilot directory: the working directory, holding pilot.json. */
  pilotDir: string;
  /** The Vac/Vcycle space: the CE name (--Name) looked up in pilot.json's CEs. */
  space: string;
  queue: string;
  /** DIRAC site name (--name), when configured. */
  site?: string;
  setup?: string;
  maxCycles: number;
  ceType: string;
  /** Machine path of the directory holding hostcert.pem and hostkey.pem (--certLocation). */
  certDir: string;
  submitPool: string;
  vo: string;
  stopAfterFailedMatches: number;
  processors: number;
  /** Checked by checkExtraOptions(), already in long form. */
  extraOptions: readonly string[];
}

/**
 * The local CE the JobAgent submits to:
 * - one processor, no container: `InProcess`, the job runs in the pilot's own process tree;
 * - several processors: `Pool`, which splits the VM's processors between jobs (one multi-processor
 *   job, or several smaller ones), so a multi-processor VM runs multi-processor payloads; DIRAC
 *   then keeps the JobAgent in filling mode (MaxCycles 5000) and the drain file is what ends it;
 * - with a proven container runtime (the isolation stage passed): `Singularity`, or
 *   `Pool/Singularity` (each Pool slot runs its job through the Singularity CE), so payloads are
 *   isolated from the pilot and its credentials. `Sudo` (today's VMs) no longer exists in DIRAC.
 */
export function pilotCeType(processors: number, container: boolean): string {
  if (container) return processors > 1 ? "Pool/Singularity" : "Singularity";
  return processors > 1 ? "Pool" : "InProcess";
}

export const PILOT_SCRIPT = "dirac-pilot.py";

export function pilotArgv(l: PilotLaunch): string[] {
  return [
    "python3",
    `${l.pilotDir}/${PILOT_SCRIPT}`,
    `--Name=${l.space}`,
    `--Queue=${l.queue}`,
    ...(l.site ? [`--name=${l.site}`] : []),
    ...(l.setup ? [`--setup=${l.setup}`] : []),
    `--MaxCycles=${l.maxCycles}`,
    `--CEType=${l.ceType}`,
    "--cert",
    `--certLocation=${l.certDir}`,
    `--option=/LocalSite/SubmitPool=${l.submitPool}`,
    `--wnVO=${l.vo}`,
    `--StopAfterFailedMatches=${l.stopAfterFailedMatches}`,
    `--pilotProcessors=${l.processors}`,
    ...l.extraOptions,
  ];
}

export interface PilotEnvInput {
  space: string;
  /** The VM's job id: the VM uuid, else $JOBFEATURES/job_id. */
  jobId: string;
  vo: string;
  home: string;
  caDir?: string;
  /** MACHINEFEATURES, JOBFEATURES, JOBOUTPUTS. */
  mjf: readonly (readonly [string, string])[];
  /** The proven container runtime (its directory goes first on PATH so DIRAC's Singularity CE finds it). */
  containerRuntime?: string;
  extra?: Record<string, string>;
}

/**
 * PILOT_UUID is the pilot *reference* DIRAC registers (flavour CLOUD: it is checked last among the
 * batch systems' variables and wins); DIRAC_PILOT_VO backs up --wnVO. No X509_USER_PROXY: with
 * --cert the pilot points it at the certificate directory itself.
 */
export function pilotEnv(e: PilotEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    HOME: e.home,
    PILOT_UUID: `vm://${e.space}/${e.jobId}`,
    DIRAC_PILOT_VO: e.vo,
    ...Object.fromEntries(e.mjf),
    ...e.extra,
  };
  if (e.caDir) env.X509_CERT_DIR = e.caDir;
  if (e.containerRuntime) {
    const dir = e.containerRuntime.slice(0, e.containerRuntime.lastIndexOf("/")) || "/";
    env.PATH = `${dir}:${CHILD_PATH}`;
  }
  return env;
}
