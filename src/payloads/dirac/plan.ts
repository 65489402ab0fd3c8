// The `dirac` payload: the pilot directory downloaded and verified, pilot.json checked for this
// space, then today's dirac-pilot.py run as an unprivileged user in a work directory on scratch,
// drained before the VM's deadline, its JobAgent lines turned into the shutdown code
// (src/payloads/dirac/outcome.ts). Replaces the recursive wget, sudo and grep of today's VMs
// (pilots.md 1, 8).
//
// Layout on scratch (machine paths):
//   <scratch>/dirac/                     0700 pilot user: its home
//     pilot/                             the downloaded pilot directory; the pilot's working directory
//     etc/grid-security/                 0700 pilot user
//       hostcert.pem, hostkey.pem        0600 pilot user (--cert --certLocation)

import { posix } from "node:path";
import { problem, type Problem, type Source } from "../../config/problem.ts";
import type { Context } from "../../context/context.ts";
import { CREDENTIAL_PATHS } from "../../credentials/paths.ts";
import { payloadCaDirectory } from "../../credentials/ca-directory.ts";
import { handoffEnv } from "../../isolation/handoff.ts";
import type { Action, FetchPilotAction, Owner, RunPayloadAction } from "../../plan/actions.ts";
import { planMintProxy } from "../../stages/credentials.ts";
import { isolationHandoff } from "../../stages/isolation.ts";
import { mjfExports } from "../../stages/mjf-environment.ts";
import { AGENT_PATHS } from "../../status/paths.ts";
import { pilotArgv, pilotCeType, pilotEnv } from "./argv.ts";
import { checkExtraOptions } from "./pilot-options.ts";
import { diracSettings, type DiracSettings } from "./settings.ts";

export const DIRAC_STDOUT = `${AGENT_PATHS.joboutputs}/dirac-pilot.log`;
export const DIRAC_STDERR = `${AGENT_PATHS.joboutputs}/dirac-pilot.err`;
/** Today's JobAgent matches no new job once this file exists (DIRAC JobAgent.execute). */
export const DIRAC_DRAIN_FILE = "/var/lib/dirac_drain";

export const FETCH_CONCURRENCY = 16;
export const FETCH_RETRIES = 4;
export const FETCH_TIMEOUT_MS = 60_000;
const CERT_COPY_TIMEOUT_MS = 30_000;

export interface DiracPaths {
  home: string;
  pilotDir: string;
  certDir: string;
}

export function diracPaths(ctx: Context): DiracPaths {
  const home = posix.join(ctx.config.scratch.mount_point, "dirac");
  return { home, pilotDir: `${home}/pilot`, certDir: `${home}/etc/grid-security` };
}

/** The directory of ##user_data_url## (cut back to its last "/"), as today's VMs do; null when it is not http(s). */
export function userDataDirectory(url: string | undefined): string | null {
  if (!url) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return null;
  u.search = "";
  u.hash = "";
  u.pathname = u.pathname.slice(0, u.pathname.lastIndexOf("/") + 1) || "/";
  return u.toString();
}

const asDirectory = (url: string): string => (url.endsWith("/") ? url : `${url}/`);

/** Pilot directory URLs in the order they are tried: pilot_url, else the user_data's directory; then the mirrors. */
export function pilotUrls(ctx: Context, s: DiracSettings = diracSettings(ctx)): string[] {
  const first = s.pilot_url ?? userDataDirectory(ctx.config.identity.user_data_url);
  return [...new Set([...(first ? [first] : []), ...s.pilot_mirrors].map(asDirectory))];
}

/** $JOBFEATURES/allocated_cpu, else the machine's processors. */
export function pilotProcessors(ctx: Context): number {
  const mjf = ctx.mjf?.jobfeatures.values.allocated_cpu;
  return Math.max(1, Math.floor(mjf !== undefined && mjf > 0 ? mjf : ctx.machine.cpus));
}

/** The VM's job id for PILOT_UUID: the VM uuid (which already falls back to MJF job_id), else MJF job_id, else the host name. */
export function pilotJobId(ctx: Context): string {
  return ctx.config.identity.uuid ?? ctx.mjf?.jobfeatures.values.job_id ?? ctx.machine.hostname;
}

/** When the pilot gets SIGTERM: the effective deadline (margin kept for the uploads). */
export const diracStopAt = (ctx: Context): number | null => ctx.deadline.effective;

/** Drain lead: drain_seconds, at most half of the time between the start and the stop. */
export function drainLeadSeconds(ctx: Context, s: DiracSettings = diracSettings(ctx)): number | null {
  const stopAt = diracStopAt(ctx);
  if (stopAt === null || s.drain_seconds <= 0) return null;
  return Math.max(0, Math.min(s.drain_seconds, Math.floor((stopAt - ctx.startedAt) / 2)));
}

type CertFiles = { kind: "pem"; cert: string; key: string; from: string } | { kind: "minted"; from: string } | null;

/**
 * The credentials the pilot presents with --cert. A proxy first: it is short-lived, and the pilot
 * user's payloads can read what the pilot can. The user_data's proxy; else the one the credentials
 * stage mints from the host certificate (credentials.mint_proxy, on by default), so the host key
 * stays root's; else, with minting off, the host certificate and key themselves.
 */
function certFiles(ctx: Context): CertFiles {
  const c = ctx.config.credentials;
  const nl = (s: string) => (s.endsWith("\n") ? s : `${s}\n`);
  if (c.x509_proxy) return { kind: "pem", cert: nl(c.x509_proxy), key: nl(c.x509_proxy), from: "the X.509 proxy from the user_data (certificate and key in one file)" };
  if (planMintProxy(ctx)) return { kind: "minted", from: `the X.509 proxy the agent mints from the host certificate (${CREDENTIAL_PATHS.x509proxy}; certificate and key in one file)` };
  if (c.hostcert && c.hostkey) return { kind: "pem", cert: nl(c.hostcert), key: nl(c.hostkey), from: "the host certificate and key from the user_data" };
  return null;
}

/**
 * --certLocation's hostcert.pem and hostkey.pem. With a minted proxy their contents exist only
 * once the credentials stage ran: each file is written empty (owned by the pilot user, 0600), then
 * root copies the proxy into it; cp into an existing file keeps that file's owner and mode.
 */
function certActions(certs: NonNullable<CertFiles>, certDir: string, me: Owner): Action[] {
  const names = { cert: "hostcert.pem", key: "hostkey.pem" } as const;
  return (["cert", "key"] as const).flatMap((k): Action[] => {
    const path = `${certDir}/${names[k]}`;
    if (certs.kind === "pem") return [{ kind: "write-file", path, contents: certs[k], mode: 0o600, owner: me, secret: true, why: `--cert: ${certs.from}` }];
    return [
      { kind: "write-file", path, contents: "", mode: 0o600, owner: me, secret: true, why: `--cert: owned by the pilot user before ${certs.from.split(" (")[0]} is copied in` },
      // The working directory, not an argument, names the target: under --root only it is rooted.
      { kind: "run-command", argv: ["cp", CREDENTIAL_PATHS.x509proxy, names[k]], cwd: certDir, timeoutMs: CERT_COPY_TIMEOUT_MS, machineWide: false, why: `--cert: ${certs.from}` },
    ];
  });
}

const sourceOf = (ctx: Context, path: string): Source => ctx.provenance[path]?.source ?? "user_data";

/** Planning-time errors (600: the template) and warnings, addressed to the key to fix. */
export function diracProblems(ctx: Context): Problem[] {
  if (ctx.config.payload.type !== "dirac") return [];
  const s = diracSettings(ctx);
  const out: Problem[] = [];
  const err = (path: string, message: string) => out.push(problem("error", sourceOf(ctx, path), path, message, 600));
  const warn = (path: string, message: string) => out.push(problem("warning", sourceOf(ctx, path), path, message));
  if (pilotUrls(ctx, s).length === 0) {
    err("payload.dirac.pilot_url", "no pilot directory: expected ##user_data_option_dirac_pilot_url##, a user_data fetched over http(s) (##user_data_url##), or payload.dirac.pilot_mirrors");
  }
  if (!s.vo) err("payload.dirac.vo", "expected the VO (##user_data_option_vo##): dirac-pilot.py gets it with --wnVO, and without it dies at start-up on a new-schema pilot.json");
  if (!ctx.config.identity.space) err("identity.space", "expected the space (##user_data_space##): it is the CE name dirac-pilot.py gets with --Name");
  if (s.user === "root") err("payload.dirac.user", "expected an unprivileged user: dirac-pilot.py and its payloads never run as root");
  if (s.extra_options !== undefined) {
    const x = checkExtraOptions(s.extra_options);
    for (const e of x.errors) err("payload.dirac.extra_options", `##user_data_option_dirac_opts##: ${e}`);
    for (const w of x.warnings) warn("payload.dirac.extra_options", w);
  }
  const c = ctx.config.credentials;
  if (!certFiles(ctx)) {
    err("credentials.x509_proxy", "the pilot authenticates with --cert: expected ##user_data_option_x509_proxy##, or ##user_data_option_hostcert## and ##user_data_option_hostkey## (which the site's user_data_file_hostcert and user_data_file_hostkey fill)");
  } else if (!c.x509_proxy && !planMintProxy(ctx)) {
    warn("credentials.x509_proxy", "no X.509 proxy and credentials.mint_proxy is off: the pilot gets the host key itself, which its payloads (same user) can read; prefer ##user_data_option_x509_proxy## or minting");
  }
  const repos = ctx.config.cvmfs.repositories ?? [];
  if (!repos.includes("grid.cern.ch") && !repos.includes("dirac.egi.eu")) {
    warn("cvmfs.repositories", "neither grid.cern.ch nor dirac.egi.eu: dirac-pilot.py finds X509_VOMS_DIR and X509_VOMSES there (CVMFS_locations) and exits 1 when it cannot");
  }
  if (s.run_hooks && !s.require_manifest) warn("payload.dirac.run_hooks", "hooks run only when checksums.sha512 covers them; without require_manifest a directory without one runs none");
  return out;
}

export function planDirac(ctx: Context): Action[] {
  if (ctx.config.payload.type !== "dirac") return [];
  const s = diracSettings(ctx);
  const space = ctx.config.identity.space;
  const urls = pilotUrls(ctx, s);
  const certs = certFiles(ctx);
  // diracProblems refuses these before any stage; the dry run of a refused run shows no payload.
  if (!space || !s.vo || urls.length === 0 || !certs || s.user === "root") return [];
  const extra = checkExtraOptions(s.extra_options ?? "");
  if (extra.errors.length) return [];

  const p = diracPaths(ctx);
  const me: Owner = { user: s.user, group: s.user };
  const caDir = payloadCaDirectory(ctx)?.path;
  const container = isolationHandoff(ctx);
  const processors = pilotProcessors(ctx);
  const fetchTls: FetchPilotAction["tls"] = { ...(caDir ? { caDir } : {}) };
  if (s.fetch_client_certificate === "x509_proxy") Object.assign(fetchTls, { certPath: CREDENTIAL_PATHS.x509proxy, keyPath: CREDENTIAL_PATHS.x509proxy });
  if (s.fetch_client_certificate === "hostcert") Object.assign(fetchTls, { certPath: CREDENTIAL_PATHS.hostcert, keyPath: CREDENTIAL_PATHS.hostkey });

  const actions: Action[] = [
    { kind: "create-user", name: s.user, home: p.home, shell: "/usr/sbin/nologin", system: true, why: "unprivileged account for dirac-pilot.py (no sudo)" },
    { kind: "mkdir", path: p.home, mode: 0o700, owner: me, why: "the pilot's home and work area on scratch" },
    { kind: "mkdir", path: `${p.home}/etc`, mode: 0o700, owner: me, why: "the pilot's credentials directory" },
    { kind: "mkdir", path: p.certDir, mode: 0o700, owner: me, why: "--certLocation" },
    ...certActions(certs, p.certDir, me),
    {
      kind: "fetch-pilot",
      urls,
      dir: p.pilotDir,
      owner: me,
      ...(s.checksums_sha512 ? { manifestSha512: s.checksums_sha512 } : {}),
      requireManifest: s.require_manifest,
      concurrency: FETCH_CONCURRENCY,
      retries: FETCH_RETRIES,
      timeoutMs: FETCH_TIMEOUT_MS,
      tls: fetchTls,
      why: s.require_manifest ? "the pilot directory, every file verified against checksums.sha512" : "the pilot directory (checksums.sha512 when published, else the directory listing)",
    },
    {
      kind: "check-pilot-json",
      path: `${p.pilotDir}/pilot.json`,
      ce: space,
      queue: s.queue,
      vo: s.vo,
      ...(s.setup ? { setup: s.setup } : {}),
      ...(s.site ? { site: s.site } : {}),
      why: "pilot.json describes this space, queue and VO (else dirac-pilot.py stops with a traceback)",
    },
  ];
  const mjf = mjfExports(ctx);
  if (s.run_hooks) {
    actions.push({
      kind: "run-pilot-hooks",
      dir: p.pilotDir,
      env: {
        VO: s.vo,
        QUEUE: s.queue,
        SUBMIT_POOL: s.submit_pool,
        DIRAC_OPTS: s.extra_options ?? "",
        ...Object.fromEntries(mjf),
        ...(space ? { VACUUM_SPACE: space } : {}),
      },
      timeoutSeconds: s.hooks_timeout_seconds,
      why: "payload.dirac.run_hooks: the include_vm_*.sh hooks checksums.sha512 covers",
    });
  }
  const argv = pilotArgv({
    pilotDir: p.pilotDir,
    space,
    queue: s.queue,
    ...(s.site ? { site: s.site } : {}),
    ...(s.setup ? { setup: s.setup } : {}),
    maxCycles: s.max_cycles,
    ceType: pilotCeType(processors, container !== null),
    certDir: p.certDir,
    submitPool: s.submit_pool,
    vo: s.vo,
    stopAfterFailedMatches: s.stop_after_failed_matches,
    processors,
    extraOptions: extra.argv,
  });
  const identity = ctx.config.identity;
  const env = pilotEnv({
    space,
    jobId: pilotJobId(ctx),
    vo: s.vo,
    home: p.home,
    ...(caDir ? { caDir } : {}),
    mjf,
    ...(container ? { containerRuntime: container.runtime } : {}),
    extra: {
      ...(identity.uuid ? { VACUUM_VM_UUID: identity.uuid } : {}),
      VACUUM_SPACE: space,
      ...(identity.machinetype ? { VACUUM_MACHINETYPE: identity.machinetype } : {}),
      ...(container ? handoffEnv(container) : {}),
    },
  });
  const lead = drainLeadSeconds(ctx, s);
  const run: RunPayloadAction = {
    kind: "run-payload",
    name: "dirac",
    argv,
    user: s.user,
    cwd: p.pilotDir,
    env,
    stdoutPath: DIRAC_STDOUT,
    stderrPath: DIRAC_STDERR,
    stopAt: diracStopAt(ctx),
    killGraceSeconds: ctx.config.lifecycle.kill_grace_seconds,
    // stderr too: the pilot's start-up failures are Python tracebacks there.
    outcome: { kind: "dirac-pilot-log", logPaths: [DIRAC_STDOUT, DIRAC_STDERR] },
    ...(lead !== null
      ? {
          drain: [
            {
              leadSeconds: lead,
              do: { kind: "create-file", path: DIRAC_DRAIN_FILE, contents: "" },
              why: `drain the pilot ${lead} s before its stop: the JobAgent matches no new job and a running one can finish`,
            },
          ],
        }
      : {}),
    why: `dirac-pilot.py for space ${space}, queue ${s.queue}, VO ${s.vo}, ${processors} processor(s)`,
  };
  actions.push(run);
  return actions;
}
