// The execute node's HTCondor configuration, from the Context alone (pure). Two texts:
//
//   htcondorBaseConfig   written early (START = False): daemons, collector and CCB, security,
//                        slot, policy, idle shutdown, retirement, advertised attributes, history
//   htcondorStartConfig  written after host preparation has passed: the configured START, with
//                        the retirement clause `time() < retireAt` when the VM has a deadline
//
// The pool's view of the VM before START is true is a slot that matches nothing: VMCondor's gate.
// Secrets never appear here: the token and the password file are separate 0600 files in the
// directories these texts name. Settings verified against a real pool: services.md "HTCondor".

import type { Context } from "../../context/context.ts";
import { isolationHandoff } from "../../stages/isolation.ts";
import { htcondorKnobs } from "../../isolation/handoff.ts";
import { htcondorAuth } from "./auth.ts";
import { htcondorLayout, type HtcondorLayout } from "./layout.ts";
import { htcondorLifetime } from "./lifetime.ts";
import { htcondorSettings } from "./settings.ts";

/** A ClassAd string literal; control characters (a newline would start a new config line) become spaces. */
export function classadString(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The host of a `host[:port]` collector ([v6]:port too): CONDOR_HOST. */
export function collectorHost(collector: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(collector);
  if (v6) return v6[1]!;
  const i = collector.lastIndexOf(":");
  return i > 0 && collector.indexOf(":") === i ? collector.slice(0, i) : collector;
}

/** The VM's identity as the pool sees it (VacuumVmId): the uuid, else the host name. */
export function vmId(ctx: Context): string {
  return ctx.config.identity.uuid ?? ctx.config.identity.hostname ?? ctx.machine.hostname;
}

function fileLocations(l: HtcondorLayout): string[] {
  if (l.location === "system") {
    return [
      "# The image's own condor_config reads this file; only what the VM needs is set here.",
      `LOG = ${l.seen(l.logDir)}`,
      `SEC_TOKEN_SYSTEM_DIRECTORY = ${l.seen(l.tokenDir)}`,
      `SEC_TOKEN_DIRECTORY = ${l.seen(l.tokenDir)}`,
      `SEC_PASSWORD_DIRECTORY = ${l.seen(l.passwordDir)}`,
      `EXECUTE = ${l.seen(l.executeDir)}`,
    ];
  }
  return [
    "# A private configuration: the image's /etc/condor is never read.",
    "use security:recommended_v9_0",
    "RELEASE_DIR = /usr",
    "LIBEXEC = /usr/libexec/condor",
    `LOCAL_DIR = ${l.seen(l.localDir!)}`,
    "ETC = $(LOCAL_DIR)",
    "LOG = $(LOCAL_DIR)/log",
    "SPOOL = $(LOCAL_DIR)/spool",
    "LOCK = $(LOCAL_DIR)/lock",
    "RUN = $(LOCAL_DIR)/run",
    `EXECUTE = ${l.seen(l.executeDir)}`,
    "SEC_TOKEN_SYSTEM_DIRECTORY = $(LOCAL_DIR)/tokens.d",
    "SEC_TOKEN_DIRECTORY = $(LOCAL_DIR)/tokens.d",
    "SEC_PASSWORD_DIRECTORY = $(LOCAL_DIR)/passwords.d",
    "LOCAL_CONFIG_FILE =",
    "LOCAL_CONFIG_DIR = $(LOCAL_DIR)/config.d",
  ];
}

function slotLines(ctx: Context): string[] {
  const s = htcondorSettings(ctx);
  const jf = ctx.mjf?.jobfeatures.values;
  const lines: string[] = [];
  // MJF says what the VM was given; without it HTCondor's own detection is right for a whole VM.
  if (jf?.allocated_cpu !== undefined && jf.allocated_cpu > 0) lines.push(`NUM_CPUS = ${jf.allocated_cpu}`);
  if (jf?.max_rss_bytes !== undefined && jf.max_rss_bytes > 0) lines.push(`MEMORY = ${Math.floor(jf.max_rss_bytes / 2 ** 20)}`);
  lines.push("NUM_SLOTS_TYPE_1 = 1", "SLOT_TYPE_1 = 100%");
  lines.push(`SLOT_TYPE_1_PARTITIONABLE = ${s.slot_type === "partitionable" ? "True" : "False"}`);
  return lines;
}

function advertised(ctx: Context): string[] {
  const id = ctx.config.identity;
  const life = htcondorLifetime(ctx);
  const attrs: [string, string][] = [];
  if (id.space) attrs.push(["VacuumSpace", classadString(id.space)]);
  if (id.machinetype) attrs.push(["VacuumMachinetype", classadString(id.machinetype)]);
  attrs.push(["VacuumVmId", classadString(vmId(ctx))]);
  if (life.stopAt !== null) attrs.push(["VacuumDeadline", String(life.stopAt)]);
  if (life.retireAt !== null) attrs.push(["VacuumRetireTime", String(life.retireAt)]);
  return [...attrs.map(([k, v]) => `${k} = ${v}`), `STARTD_ATTRS = $(STARTD_ATTRS) ${attrs.map(([k]) => k).join(" ")}`];
}

/** The first file: everything but START, which stays False until host preparation has passed. */
export function htcondorBaseConfig(ctx: Context): string {
  const s = htcondorSettings(ctx);
  const l = htcondorLayout(ctx);
  const auth = htcondorAuth(ctx);
  const life = htcondorLifetime(ctx);
  const collector = s.collector ?? "";
  const out: string[] = [
    "# Written by vacuum-agent: this VM as an HTCondor execute node (MASTER and STARTD).",
    ...fileLocations(l),
    "",
    "# The pool",
    `CONDOR_HOST = ${collectorHost(collector)}`,
    `COLLECTOR_HOST = ${collector}`,
    ...(s.ccb ? ["# A VM behind NAT: the schedd reaches the startd through the collector.", "CCB_ADDRESS = $(COLLECTOR_HOST)", "CCB_HEARTBEAT_INTERVAL = 120"] : []),
    "DAEMON_LIST = MASTER, STARTD",
    "USE_SHARED_PORT = False",
    "UPDATE_COLLECTOR_WITH_TCP = True",
    `UPDATE_INTERVAL = ${s.update_interval_seconds}`,
    `MASTER_UPDATE_INTERVAL = ${s.update_interval_seconds}`,
    ...(s.uid_domain ? [`UID_DOMAIN = ${s.uid_domain}`] : []),
    "",
    "# Security: no GSI in current HTCondor; FS first so the startd can talk to its own starter.",
    "SEC_DEFAULT_AUTHENTICATION = REQUIRED",
    `SEC_DEFAULT_AUTHENTICATION_METHODS = ${auth.methods.join(", ")}`,
    "SEC_DEFAULT_INTEGRITY = REQUIRED",
    "SEC_DEFAULT_ENCRYPTION = REQUIRED",
    ...(auth.ssl
      ? [
          `# SSL with the ${auth.ssl.from === "hostcert" ? "host certificate" : "X.509 proxy"} (VMCondor's GSI credential).`,
          `AUTH_SSL_CLIENT_CERTFILE = ${l.seen(auth.ssl.certFile)}`,
          `AUTH_SSL_CLIENT_KEYFILE = ${l.seen(auth.ssl.keyFile)}`,
          `AUTH_SSL_CLIENT_CADIR = ${l.seen(auth.ssl.caDir)}`,
        ]
      : []),
    "# A root condor_master must not retune the host's kernel (services.md pitfall 2).",
    "ENABLE_KERNEL_TUNING = False",
    "",
    "# One slot holding the VM",
    ...slotLines(ctx),
    "STARTER_ALLOW_RUNAS_OWNER = False",
    "",
    "# Policy: jobs are never suspended or preempted; the VM's lifetime ends them (drain, then stop).",
    "START = False",
    "SUSPEND = False",
    "PREEMPT = False",
    "KILL = False",
    "RANK = 0",
    `MAXJOBRETIREMENTTIME = ${life.maxJobRetirementSeconds}`,
    ...(s.idle_shutdown_seconds > 0 ? [`STARTD_NOCLAIM_SHUTDOWN = ${s.idle_shutdown_seconds}`] : []),
    "",
    "# What the pool sees of the VM",
    ...advertised(ctx),
    "",
    "# The job outputs: which jobs ran here (the shutdown code is read from it).",
    `STARTD_HISTORY = ${l.seen(l.historyFile)}`,
  ];
  const container = isolationHandoff(ctx);
  if (container) {
    out.push("", "# The isolation check passed: container universe jobs (sandbox directory images).", ...htcondorKnobs({ ...container, runtime: l.seen(container.runtime) }));
  }
  if (s.extra_config.length) out.push("", "# payload.htcondor.extra_config", ...s.extra_config);
  return `${out.join("\n")}\n`;
}

/** The START expression once the host is ready, with the retirement clause when there is a deadline. */
export function htcondorStartExpression(ctx: Context): string {
  const s = htcondorSettings(ctx);
  const retireAt = htcondorLifetime(ctx).retireAt;
  return retireAt === null ? s.start : `(${s.start}) && (time() < ${retireAt})`;
}

/** The second file: START flipped to the configured expression after host preparation. */
export function htcondorStartConfig(ctx: Context): string {
  return ["# Written by vacuum-agent once host preparation passed: the startd may take jobs.", `START = ${htcondorStartExpression(ctx)}`, ""].join("\n");
}
