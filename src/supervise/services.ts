// The background services of a real run, built from the Context: heartbeats to $JOBOUTPUTS, the
// MJF deadline watch (Vac lowers shutdowntime while a VM runs) and the cloud's preemption notices.
// describeServices() is what the dry run prints of them, from the same inputs.

import type { Context } from "../context/context.ts";
import { DEFAULT_GCE_METADATA_URL, DEFAULT_METADATA_URL } from "../context/metadata/index.ts";
import { rootedPath } from "../exec/rooted.ts";
import { createHeartbeat } from "../lifecycle/heartbeat/heartbeat.ts";
import { heartbeatPeriodSeconds } from "../lifecycle/heartbeat/heartbeat-period.ts";
import { splitProxyPem } from "../lifecycle/joboutputs/proxy-pem.ts";
import type { TlsOptions } from "../net/http-client.ts";
import { safeUrl } from "../net/http-error.ts";
import { managerJoboutputsUrl } from "../lifecycle/joboutputs/manager-target.ts";
import type { LogSink } from "../status/log.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import { createDeadlineWatch } from "./deadline-watch.ts";
import { createPreemptionWatch } from "./preemption.ts";
import type { Service, Supervisor } from "./supervisor.ts";

export const DEADLINE_WATCH_INTERVAL_MS = 60_000;
export const PREEMPTION_INTERVAL_MS = 5_000;

/** The client certificate for Vcycle's job outputs and MJF: the X.509 proxy, else the host certificate. */
export function clientCredentials(ctx: Context): { x509_proxy?: { cert: string; key: string }; hostcert?: { cert: string; key: string } } {
  const c = ctx.config.credentials;
  const out: { x509_proxy?: { cert: string; key: string }; hostcert?: { cert: string; key: string } } = {};
  if (c.x509_proxy) {
    const split = splitProxyPem(c.x509_proxy);
    if (split.ok) out.x509_proxy = { cert: split.cert, key: split.key };
  }
  if (c.hostcert && c.hostkey) out.hostcert = { cert: c.hostcert, key: c.hostkey };
  return out;
}

function tlsFor(ctx: Context): TlsOptions {
  const creds = clientCredentials(ctx);
  const pair = creds.x509_proxy ?? creds.hostcert;
  return { caDir: ctx.config.credentials.ca_dir, ...(pair ? { cert: pair.cert, key: pair.key } : {}) };
}

const joboutputsTarget = (ctx: Context): string | null => {
  const to = ctx.config.mjf.joboutputs?.replace(/\/+$/, "");
  if (!to || to === AGENT_PATHS.joboutputs) return null;
  return to.startsWith("/") ? rootedPath(ctx.root, to) : to;
};

function metadataBase(ctx: Context, metadataUrl: string | null): { baseUrl: string; gceBaseUrl: string } {
  const url = metadataUrl && metadataUrl !== "none" ? metadataUrl : null;
  return { baseUrl: url ?? DEFAULT_METADATA_URL, gceBaseUrl: url ?? DEFAULT_GCE_METADATA_URL };
}

export function addServices(ctx: Context, supervisor: Supervisor, log: LogSink, metadataUrl: string | null): void {
  const c = ctx.config;
  // The experiment's manager hears the same beat (its token in the URL, no client certificate).
  const manager = managerJoboutputsUrl(ctx);
  supervisor.add(
    createHeartbeat({
      spoolDir: rootedPath(ctx.root, AGENT_PATHS.joboutputs),
      joboutputs: joboutputsTarget(ctx),
      ...(manager ? { alsoTo: [{ joboutputs: manager, tls: { caDir: c.credentials.ca_dir } }] } : {}),
      file: c.lifecycle.heartbeat_file,
      periodSeconds: heartbeatPeriodSeconds(c.lifecycle.heartbeat_seconds),
      tls: tlsFor(ctx),
      perRequestTimeoutMs: 30_000,
      log,
    }),
  );
  if (c.mjf.machinefeatures || c.mjf.jobfeatures) {
    const watch = createDeadlineWatch({
      machinefeatures: c.mjf.machinefeatures ?? null,
      jobfeatures: c.mjf.jobfeatures ?? null,
      tls: tlsFor(ctx),
      intervalMs: DEADLINE_WATCH_INTERVAL_MS,
      initial: { mf: ctx.mjf?.machinefeatures.values ?? {}, jf: ctx.mjf?.jobfeatures.values ?? {} },
      startedAt: ctx.startedAt,
      ...(c.lifecycle.max_wallclock_seconds !== undefined ? { maxWallclockSeconds: c.lifecycle.max_wallclock_seconds } : {}),
      marginSeconds: c.lifecycle.deadline_margin_seconds,
      onChange: (d, reason) => supervisor.setStopAt(d.effective, reason),
      log,
    });
    supervisor.add({ name: "deadline watch", start: () => watch.start(), stop: () => watch.stop() } satisfies Service);
  }
  const provider = ctx.metadata?.provider ?? null;
  if (provider === "ec2" || provider === "gce") {
    const watch = createPreemptionWatch({
      provider,
      ...metadataBase(ctx, metadataUrl),
      intervalMs: PREEMPTION_INTERVAL_MS,
      onNotice: (n) => supervisor.requestStop(n.text),
      log,
    });
    supervisor.add({ name: "preemption watch", start: () => watch.start(), stop: () => watch.stop() } satisfies Service);
  }
}

/** The dry run's view of the same services. */
export function describeServices(ctx: Context): string[] {
  const c = ctx.config;
  const to = joboutputsTarget(ctx);
  const lines = [
    `heartbeat: ${AGENT_PATHS.joboutputs}/${c.lifecycle.heartbeat_file} at start, then every ${heartbeatPeriodSeconds(c.lifecycle.heartbeat_seconds)} s (less up to 10% jitter)${to ? `, PUT to ${to}/${c.lifecycle.heartbeat_file}` : ", local only (no $JOBOUTPUTS)"}`,
  ];
  if (c.manager.joboutputs_url) lines.push(`heartbeat to the manager: the same, PUT to ${safeUrl(c.manager.joboutputs_url.replace(/\/+$/, ""))}/${c.lifecycle.heartbeat_file} (its token as Basic auth)`);
  if (c.mjf.machinefeatures || c.mjf.jobfeatures) lines.push(`deadline watch: shutdowntime and shutdowntime_job re-read every ${DEADLINE_WATCH_INTERVAL_MS / 1000} s; a lower one stops the payload earlier`);
  const provider = ctx.metadata?.provider ?? null;
  if (provider === "ec2" || provider === "gce") lines.push(`preemption watch: ${provider === "ec2" ? "spot instance-action" : "instance/preempted"} polled every ${PREEMPTION_INTERVAL_MS / 1000} s; a notice stops the payload (100)`);
  lines.push("SIGTERM/SIGINT (ACPI power button): the payload is stopped within 8 s, 100 written and uploaded");
  return lines;
}
