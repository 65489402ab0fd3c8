// The typed actions a stage's plan returns. Plans are pure data: the executor (src/exec/executor.ts)
// is the only module that performs them, and src/plan/describe.ts prints them for --dry-run, so the
// dry run shows the very list a real run applies.
//
// Paths are machine paths ("/etc/profile.d/mjf.sh"); the executor roots them under --root at the
// moment of the effect (ignition's late rooting), so plans are identical with and without --root.

export interface Owner {
  user: string;
  group: string;
}

interface Base {
  /** Why this action exists, one short phrase; printed by the dry run and logged. */
  why: string;
  /**
   * Independent of the action before it: the executor runs it at the same time (a stage's
   * consecutive `alongside` actions join the one before them; the stage goes on when all ended).
   */
  alongside?: true;
}

export interface MkdirAction extends Base {
  kind: "mkdir";
  path: string;
  mode: number;
  owner?: Owner;
}

export interface WriteFileAction extends Base {
  kind: "write-file";
  path: string;
  contents: string;
  mode: number;
  owner?: Owner;
  /** Contents are a secret (key, proxy, token): redacted in the dry run and logs; mode must be 0600 or stricter. */
  secret?: boolean;
}

export interface RunCommandAction extends Base {
  kind: "run-command";
  argv: string[];
  /** Run as this user (root when absent). */
  user?: string;
  timeoutMs: number;
  env?: Record<string, string>;
  /** Names of env entries whose values are secrets (redacted in the dry run and logs). */
  secretEnv?: string[];
  cwd?: string;
  /** Exit codes that count as success; [0] when absent. */
  okCodes?: number[];
  /** Changes the machine outside the root (mkfs, sysctl, iptables...): recorded, not run, under --root. */
  machineWide?: boolean;
}

/**
 * The payload: a supervised child process. Unlike run-command it may run for days: its output goes
 * to files (job outputs), it is stopped (SIGTERM, then SIGKILL after a grace) at the deadline, when
 * the agent is told to stop (signal, preemption notice) or when it makes no progress.
 */
export interface RunPayloadAction extends Base {
  kind: "run-payload";
  /** The payload type, for logs and messages ("command", "dirac", "htcondor"). */
  name: string;
  argv: string[];
  user?: string;
  cwd?: string;
  env?: Record<string, string>;
  secretEnv?: string[];
  /** Machine paths of the files that receive stdout and stderr. */
  stdoutPath: string;
  stderrPath: string;
  /** Unix seconds when the payload gets SIGTERM (the effective deadline at plan time; it can only move earlier), or null. */
  stopAt: number | null;
  killGraceSeconds: number;
  /** The payload is ended when none of these files grew for staleSeconds (a live heartbeat must not hide a hung payload). */
  liveness?: { paths: string[]; staleSeconds: number };
  /** Machine path where the payload may write its own `NNN text` shutdown message. */
  messageFile?: string;
  /** How its end becomes the shutdown code when the exit status cannot tell (DIRAC, HTCondor); exit status when absent. */
  outcome?: OutcomeRule;
  /** Steps done before stopAt so that running work can finish and no new work starts (DIRAC, HTCondor drains). */
  drain?: DrainStep[];
  /** Polled after the start until it succeeds; when it never does the payload is stopped and the run ends with its failure. */
  ready?: ReadinessProbe;
}

/**
 * Evidence read (machine paths) after the payload ended, turned into the shutdown code by a pure
 * function of that payload type: src/payloads/dirac/outcome.ts, src/payloads/htcondor/outcome.ts.
 */
export type OutcomeRule =
  | { kind: "dirac-pilot-log"; logPaths: string[] }
  | { kind: "htcondor-history"; historyPath: string; logPaths: string[] };

/** One drain step, done `leadSeconds` before the payload's stopAt (at once when that moment has passed). */
export interface DrainStep {
  leadSeconds: number;
  do:
    | { kind: "create-file"; path: string; contents: string }
    | { kind: "run"; argv: string[]; user?: string; env?: Record<string, string>; timeoutSeconds: number };
  why: string;
}

export interface ReadinessProbe {
  argv: string[];
  user?: string;
  env?: Record<string, string>;
  /** A regular expression (source text) the probe's stdout must match; exit status 0 is required too. */
  expect: string;
  timeoutSeconds: number;
  intervalMs: number;
  /** The outcome when the probe never succeeded in time (the payload is then stopped). */
  failure: { code: 500 | 600 | 700; text: string };
  why: string;
}

/**
 * Download a pilot directory (DIRAC): the files `checksums.sha512` lists, each verified, or, when
 * none is published and `requireManifest` is false, the files of the server's directory listing.
 * Performed by src/pilot/download.ts; a failure carries its own shutdown code (600 when every URL
 * failed on the server side, 500 for local network or CA problems).
 */
export interface FetchPilotAction extends Base {
  kind: "fetch-pilot";
  /** Directory URLs (ending in "/"), tried in order. */
  urls: string[];
  /** Machine path of the destination directory (created, emptied of earlier downloads). */
  dir: string;
  owner?: Owner;
  /** Lower-case hex SHA-512 that checksums.sha512 itself must have (pinned in user_data). */
  manifestSha512?: string;
  requireManifest: boolean;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  /** Machine paths of the CA directory and client certificate/key for https. */
  tls: { caDir?: string; certPath?: string; keyPath?: string };
}

/** Validate the downloaded pilot.json for this VM's CE, queue and VO before the pilot starts (src/payloads/dirac/pilot-json.ts). */
export interface CheckPilotJsonAction extends Base {
  kind: "check-pilot-json";
  /** Machine path of pilot.json. */
  path: string;
  ce: string;
  queue: string;
  vo?: string;
  setup?: string;
  /** The DIRAC site name (--name), which makes a space absent from pilot.json's CEs acceptable. */
  site?: string;
}

/** Run the pilot directory's include_vm_*.sh hooks as root, only those checksums.sha512 covered, each with a timeout. */
export interface RunPilotHooksAction extends Base {
  kind: "run-pilot-hooks";
  /** Machine path of the downloaded pilot directory. */
  dir: string;
  env: Record<string, string>;
  timeoutSeconds: number;
}

export interface FetchAction extends Base {
  kind: "fetch";
  url: string;
  path: string;
  /** Lower-case hex sha256 the body must have; the file is only put in place when it matches. */
  sha256?: string;
  mode: number;
  owner?: Owner;
  timeoutMs: number;
}

export interface CreateUserAction extends Base {
  kind: "create-user";
  name: string;
  home: string;
  /** No login shell by default: /usr/sbin/nologin. */
  shell: string;
  system: boolean;
  groups?: string[];
}

export interface MountAction extends Base {
  kind: "mount";
  device: string;
  target: string;
  fstype: string;
  options: string[];
}

export interface SetHostnameAction extends Base {
  kind: "set-hostname";
  hostname: string;
}

export interface StartServiceAction extends Base {
  kind: "start-service";
  /** A name for logs and status ("condor_master"). */
  name: string;
  argv: string[];
  user?: string;
  env?: Record<string, string>;
}

export interface FirewallAction extends Base {
  kind: "firewall";
  /** A rule in iptables argument form, e.g. ["-A","OUTPUT","-d","169.254.169.254","-p","tcp","--dport","80","-m","owner","!","--uid-owner","0","-j","REJECT"]. */
  rule: string[];
}

/**
 * A process independent of the agent (own session, or its own systemd unit) that writes a
 * shutdown_message if none exists and powers the VM off at `at`: an agent killed with SIGKILL, or
 * hung, still ends the VM before the site destroys it. It runs under --root too (its power-off is
 * then recorded), and is disarmed at a normal end under --root.
 */
export interface StartWatchdogAction extends Base {
  kind: "start-watchdog";
  /** Unix seconds. */
  at: number;
  /** The `NNN text` line it writes when the agent left none. */
  message: string;
}

/** Copy files into the job outputs spool under flat names, cutting huge ones (head + marker + tail). */
export interface StageJobOutputsAction extends Base {
  kind: "stage-joboutputs";
  spool: string;
  files: { from: string; name: string }[];
  maxBytes: number;
}

/**
 * PUT every file of the spool to $JOBOUTPUTS (or copy it to a directory), `last` after all others,
 * with retries inside a time budget. The client certificate, when one is used, is named here, never
 * included: the executor takes it from the credentials.
 */
export interface UploadJobOutputsAction extends Base {
  kind: "upload-joboutputs";
  spool: string;
  to: string;
  last: string[];
  budgetMs: number;
  perRequestTimeoutMs: number;
  caDir?: string;
  clientCertificate: "x509_proxy" | "hostcert" | null;
}

/** Fetch each repository's manifest through every configured CVMFS proxy; report the unusable ones. */
export interface ProbeCvmfsAction extends Base {
  kind: "probe-cvmfs";
  /** The CVMFS_HTTP_PROXY value written to default.local. */
  proxy: string;
  repositories: string[];
  /** CVMFS_SERVER_URL entries, with @fqrn@. */
  serverUrls: string[];
  /** Fail when no way to the repositories is found; otherwise only report. */
  required: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** Wait, bounded, until each directory exists and is non-empty (e.g. the CA directory on CVMFS). */
export interface WaitPathsAction extends Base {
  kind: "wait-paths";
  /** Machine paths. */
  paths: string[];
  timeoutMs: number;
}

/**
 * Mint an RFC 3820 proxy from the host certificate and key (native RSA-2048 key), valid until
 * `notAfter` (cut to the host certificate's end). Not pure, so it is an action: a dry run shows it
 * and generates no key.
 */
export interface MintProxyAction extends Base {
  kind: "mint-proxy";
  /** Machine paths. */
  certPath: string;
  keyPath: string;
  path: string;
  /** Unix seconds. */
  notAfter: number;
  owner: Owner;
  mode: number;
}

export interface PowerOffAction extends Base {
  kind: "power-off";
}

export type Action =
  | FetchPilotAction
  | CheckPilotJsonAction
  | RunPilotHooksAction
  | MkdirAction
  | WriteFileAction
  | RunCommandAction
  | RunPayloadAction
  | FetchAction
  | CreateUserAction
  | MountAction
  | SetHostnameAction
  | StartServiceAction
  | FirewallAction
  | StartWatchdogAction
  | StageJobOutputsAction
  | UploadJobOutputsAction
  | ProbeCvmfsAction
  | WaitPathsAction
  | MintProxyAction
  | PowerOffAction;

export type ActionKind = Action["kind"];

/** Kinds that change the machine beyond files: under --root they are recorded instead of performed. */
export const MACHINE_WIDE_KINDS: ReadonlySet<ActionKind> = new Set([
  "create-user",
  "mount",
  "set-hostname",
  "start-service",
  "firewall",
  "power-off",
  // Remote scripts run as root could change anything: never under --root.
  "run-pilot-hooks",
]);

export const isMachineWide = (a: Action): boolean =>
  MACHINE_WIDE_KINDS.has(a.kind) || (a.kind === "run-command" && a.machineWide === true);
