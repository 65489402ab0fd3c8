// gather(): every input a vacuum VM gets, read (never changed) into one validated Context.
// Order: user_data (file or metadata service) -> agent document -> layers merged by precedence
// (src/context/layers.ts) -> schema validation -> Machine/Job Features at the locations the
// merged config names -> identity fallbacks -> deadline. Bad input becomes Problems, never throws.

import { cpus, hostname as osHostname, totalmem } from "node:os";
import { readFile } from "node:fs/promises";
import type { AgentConfig } from "../config/agent-config.ts";
import { problem, type Problem, type Source } from "../config/problem.ts";
import { checkRules } from "../config/rules.ts";
import { AGENT_CONFIG_SCHEMA, SECRET_PATHS } from "../config/schema.ts";
import { validate, type SchemaProblem } from "../config/validate.ts";
import type { ShutdownCode } from "../contract/codes.ts";
import type { Context, MachineFacts } from "./context.ts";
import { computeDeadline } from "./deadline.ts";
import { flatten, mergeLayers, originOf, type Layer, type Origin } from "./layers.ts";
import { readMetadata } from "./metadata/index.ts";
import { readMjf } from "./mjf.ts";
import type { MetadataResult, UserDataResult } from "./types.ts";
import { parseUserData } from "./user-data/parse.ts";
import { probeBlockDevices } from "../machine/block-devices.ts";
import { probeIpv6 } from "../machine/ipv6.ts";
import { probeIsolation } from "../isolation/probe.ts";
import { lookupVacuumName } from "./user-data/vacuum-names.ts";
import { startupMark } from "../status/startup-marks.ts";

export interface GatherOptions {
  /** A file path, "-" for standard input, or null to take the user_data from the metadata service. */
  userData: string | null;
  /** A base URL for every metadata variant, "none" to use no metadata service, null for the real ones. */
  metadataUrl: string | null;
  /** A directory holding an OpenStack config drive's files (openstack/latest/...), for tests and laptops. */
  configDrive: string | null;
  root: string | null;
  dryRun: boolean;
  /** --set KEY=VALUE pairs, highest precedence. */
  sets: Record<string, string>;
  env: Record<string, string | undefined>;
  now: () => number;
  /** Read Machine/Job Features (false for `agent validate FILE`: the file alone). */
  readMjf?: boolean;
  /** How long the metadata service may take to come up (120 s on a VM's first boot). */
  metadataMaxWaitMs?: number;
  readStdin?: () => Promise<Uint8Array>;
}

const VAC_MJF_BASE = "http://169.254.169.253";

export async function gather(opts: GatherOptions): Promise<Context> {
  startupMark("gather");
  const startedAt = Math.floor(opts.now() / 1000);
  const problems: Problem[] = [];

  // 1. The user_data: from a file/stdin, else the metadata service.
  let metadata: MetadataResult | null = null;
  let metadataInfo: Context["metadata"] = null;
  let raw: Uint8Array | null = null;
  let origin = "";
  if (opts.userData !== null) {
    try {
      raw = opts.userData === "-" ? await (opts.readStdin ?? readAllStdin)() : new Uint8Array(await readFile(opts.userData));
      origin = opts.userData === "-" ? "standard input" : opts.userData;
    } catch (err) {
      problems.push(problem("error", "command line", "--user-data", `cannot read ${opts.userData}: ${errorText(err)}`, 500));
    }
  }
  if (opts.metadataUrl !== "none") {
    const result = await readMetadata({
      baseUrl: opts.metadataUrl ?? undefined,
      gceBaseUrl: opts.metadataUrl ?? undefined,
      configDrive: opts.configDrive ?? (opts.metadataUrl ? null : "auto"),
      // With --user-data the metadata service only adds identity and MJF locations: do not wait for it.
      maxWaitMs: opts.metadataMaxWaitMs ?? (opts.userData !== null ? 0 : 120_000),
    });
    metadataInfo = { provider: result.provider, origin: result.provider ? (result as MetadataResult).origin : null, attempts: result.attempts };
    if (result.provider) {
      metadata = result as MetadataResult;
      problems.push(...result.problems);
      if (raw === null && metadata.userData) {
        raw = metadata.userData;
        origin = `${metadata.provider} metadata at ${metadata.origin}`;
      } else if (raw === null && opts.userData === null) {
        problems.push(problem("error", "metadata", metadata.origin, `the ${metadata.provider} metadata service has no user_data for this VM`, 500));
      }
    } else if (opts.userData !== null) {
      // Supplementary only: a laptop or a test has no metadata service.
      for (const p of result.problems) problems.push({ ...p, severity: "warning", code: undefined });
    } else {
      problems.push(...result.problems);
    }
  } else if (opts.userData === null) {
    problems.push(problem("error", "command line", "--metadata-url", "is none and no --user-data was given: there is no user_data to read", 500));
  }
  if (opts.configDrive && opts.metadataUrl === "none") {
    problems.push(problem("warning", "command line", "--config-drive", "ignored with --metadata-url none"));
  }

  startupMark("metadata");
  // 2. The agent document inside the user_data.
  let userData: (UserDataResult & { origin: string }) | null = null;
  if (raw !== null) {
    userData = { ...parseUserData(raw), origin };
    problems.push(...userData.problems);
  }

  startupMark("user-data");
  // 3. Layers, lowest precedence first.
  const layers: Layer[] = [];
  const secrets: string[] = [];
  if (metadata) layers.push(metadataLayer(metadata));
  if (userData) {
    const located = new Map(userData.entries.map((e) => [e.key, e.location]));
    const values: Record<string, unknown> = {};
    const locations: Record<string, string> = {};
    for (const [name, value] of Object.entries(userData.vacuumValues)) {
      const known = lookupVacuumName(name);
      if (!known?.configPath) continue;
      values[known.configPath] = value;
      const where = located.get(name);
      if (where) locations[known.configPath] = `${where} (##${name}##)`;
      if (known.secret) secrets.push(value);
    }
    layers.push({ origin: { source: "user_data" }, values, locations });
    if (userData.document) {
      const docValues = flatten(userData.document);
      const docLocations: Record<string, string> = {};
      for (const path of Object.keys(docValues)) {
        const where = located.get(path) ?? located.get(`${path}[]`) ?? userData.documentLocation;
        if (where) docLocations[path] = where;
      }
      layers.push({ origin: { source: "user_data" }, values: docValues, locations: docLocations });
    }
  }
  layers.push(environmentLayer(opts.env));
  layers.push({ origin: { source: "command line", location: "--set" }, values: { ...opts.sets } });
  const merged = mergeLayers(layers);
  if (opts.metadataUrl && opts.metadataUrl !== "none") redirectLinkLocal(merged.object, merged.provenance, opts.metadataUrl, problems);

  // 4. Validation: schema, then the rules between keys. A document that is missing altogether was
  // already reported by the parser; do not pile "required" problems on top of it.
  const noDocument = userData !== null && userData.document === null;
  const seeded = seedSections(merged.object);
  const checked = validate(AGENT_CONFIG_SCHEMA, seeded);
  let config = normalise(checked.value);
  const schemaProblems: SchemaProblem[] = [...checked.problems];
  if (!hasSchemaErrors(checked.problems)) schemaProblems.push(...checkRules(config));
  for (const sp of schemaProblems) {
    if (noDocument && sp.message.startsWith("required")) continue;
    if (raw === null && sp.message.startsWith("required")) continue;
    problems.push(toProblem(sp, merged.provenance));
  }
  for (const path of SECRET_PATHS) {
    const v = getPath(config, path);
    if (typeof v === "string" && v) secrets.push(v);
  }

  startupMark("config");
  // 5. Machine/Job Features where the merged configuration says they are.
  let mjf: Context["mjf"] = null;
  // Without a metadata service (--metadata-url none) this is no VM: never reach Vac's link-local
  // factory address from a laptop, a test or CI.
  const reachable = (loc: string | undefined) => (loc && opts.metadataUrl === "none" && LINK_LOCAL.test(loc) ? undefined : loc);
  for (const key of ["machinefeatures", "jobfeatures"] as const) {
    const loc = config.mjf[key];
    if (loc && !reachable(loc) && opts.readMjf !== false) problems.push(problem("info", "command line", `mjf.${key}`, `${loc} not read: Vac's link-local address, and --metadata-url is none`));
  }
  const mfLocation = reachable(config.mjf.machinefeatures);
  const jfLocation = reachable(config.mjf.jobfeatures);
  if (opts.readMjf !== false && (mfLocation || jfLocation)) {
    mjf = await readMjf({
      machinefeatures: mfLocation ?? null,
      jobfeatures: jfLocation ?? null,
      tls: { caDir: config.credentials.ca_dir },
    });
    problems.push(...mjf.problems);
  }
  startupMark("mjf");

  // 6. Identity fallbacks: ##user_data_uuid## is empty on Vcycle and newer Vac (vacuum-platform.md 1.2).
  const provenance = { ...merged.provenance };
  if (!config.identity.uuid) {
    const jobId = mjf?.jobfeatures.values.job_id;
    const fromMetadata = metadata?.values.uuid;
    if (jobId) {
      config = { ...config, identity: { ...config.identity, uuid: jobId } };
      provenance["identity.uuid"] = { source: "jobfeatures", location: "job_id" };
    } else if (fromMetadata) {
      config = { ...config, identity: { ...config.identity, uuid: fromMetadata } };
      provenance["identity.uuid"] = { source: "metadata", location: metadata!.origin };
    }
  }
  for (const [path, schemaDefault] of defaultsUsed(config, provenance)) provenance[path] = schemaDefault;

  // 7. The deadline: the earliest of MJF's and the configured wallclock, minus the margin.
  const d = computeDeadline(mjf?.machinefeatures.values ?? {}, mjf?.jobfeatures.values ?? {}, {
    startedAt,
    maxWallclockSeconds: config.lifecycle.max_wallclock_seconds,
    marginSeconds: config.lifecycle.deadline_margin_seconds,
  });
  const deadline = {
    deadline: d.deadline,
    effective: d.deadline === null ? null : d.deadline - d.marginSeconds,
    marginSeconds: d.marginSeconds,
    candidates: d.candidates,
  };

  // Where a container runtime and the image are (paths only, nothing run): for the isolation stage.
  const machine: MachineFacts = {
    ...machineFacts(),
    isolation: probeIsolation({
      root: opts.root,
      ...(opts.env.PATH !== undefined ? { path: opts.env.PATH } : {}),
      ...(config.isolation.runtime_path !== undefined ? { runtimePath: config.isolation.runtime_path } : {}),
      ...(config.isolation.image !== undefined ? { image: config.isolation.image } : {}),
    }),
  };

  return Object.freeze({
    startedAt,
    root: opts.root,
    dryRun: opts.dryRun,
    config,
    provenance,
    userData,
    metadata: metadataInfo,
    mjf,
    machine,
    deadline,
    secrets: [...new Set(secrets)].filter((s) => s.length >= 8),
    problems,
  });
}

function metadataLayer(m: MetadataResult): Layer {
  const v = m.values;
  const values: Record<string, unknown> = {
    "identity.machinetype": v.machinetype,
    "identity.hostname": v.hostname,
    "mjf.machinefeatures": v.machinefeatures,
    "mjf.jobfeatures": v.jobfeatures,
    "mjf.joboutputs": v.joboutputs,
  };
  if (m.provider === "vac") {
    // Vac's defaults: its factory serves MJF and takes job outputs at 169.254.169.253.
    values["mjf.machinefeatures"] ??= `${VAC_MJF_BASE}/machinefeatures`;
    values["mjf.jobfeatures"] ??= `${VAC_MJF_BASE}/jobfeatures`;
    values["mjf.joboutputs"] ??= `${VAC_MJF_BASE}/joboutputs`;
  }
  return { origin: { source: m.provider === "config-drive" ? "config drive" : "metadata", location: m.origin }, values };
}

const LINK_LOCAL = /^https?:\/\/169\.254\.169\.25[34](:\d+)?(?=\/|$)/;

/**
 * With --metadata-url (tests, laptops, a qemu guest's emulation) the whole vacuum platform is that
 * server: MJF and job outputs URLs at Vac's link-local factory address go there too, so nothing
 * ever reaches 169.254.169.253/254 from a machine that is not a Vac VM.
 */
function redirectLinkLocal(obj: Record<string, unknown>, provenance: Record<string, Origin>, base: string, problems: Problem[]): void {
  const mjf = obj.mjf as Record<string, unknown> | undefined;
  if (!mjf) return;
  for (const key of ["machinefeatures", "jobfeatures", "joboutputs"]) {
    const value = mjf[key];
    if (typeof value !== "string" || !LINK_LOCAL.test(value)) continue;
    mjf[key] = value.replace(LINK_LOCAL, base);
    const was = provenance[`mjf.${key}`];
    provenance[`mjf.${key}`] = { source: "command line", location: `--metadata-url (was ${value}${was ? `, ${was.source}` : ""})` };
    problems.push(problem("info", "command line", `mjf.${key}`, `${value} sent to ${mjf[key]} (--metadata-url)`));
  }
}

function environmentLayer(env: Record<string, string | undefined>): Layer {
  const values: Record<string, unknown> = {};
  const locations: Record<string, string> = {};
  for (const [name, path] of [["MACHINEFEATURES", "mjf.machinefeatures"], ["JOBFEATURES", "mjf.jobfeatures"], ["JOBOUTPUTS", "mjf.joboutputs"]] as const) {
    const value = env[name]?.trim();
    if (value) {
      values[path] = value;
      locations[path] = `$${name}`;
    }
  }
  return { origin: { source: "environment" }, values, locations };
}

/** Object sections always exist so their defaults apply; the chosen payload's section too. */
function seedSections(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...obj };
  for (const key of ["identity", "mjf", "lifecycle", "host", "scratch", "accounts", "cvmfs", "credentials", "isolation", "options"]) {
    if (out[key] === undefined) out[key] = {};
  }
  const payload = out.payload;
  if (payload && typeof payload === "object" && !Array.isArray(payload)) {
    const type = (payload as Record<string, unknown>).type;
    if ((type === "dirac" || type === "command") && (payload as Record<string, unknown>)[type] === undefined) {
      out.payload = { ...(payload as object), [type]: {} };
    }
  }
  return out;
}

/** A config with every section present, even when validation failed, so the dry run can still plan. */
function normalise(value: unknown): AgentConfig {
  const v = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const section = (k: string) => (v[k] && typeof v[k] === "object" ? v[k] : {}) as Record<string, unknown>;
  const lifecycle = section("lifecycle");
  const credentials = section("credentials");
  const payload = section("payload");
  return {
    ...(v as object),
    version: 1,
    identity: section("identity"),
    mjf: section("mjf"),
    manager: section("manager"),
    lifecycle: { heartbeat_file: "heartbeat", deadline_margin_seconds: 300, power_off: true, kill_grace_seconds: 60, ...lifecycle },
    host: { metadata_lockdown: true, ...section("host") },
    scratch: { device: "auto", mount_point: "/scratch", swap_gb: 0, ...section("scratch") },
    accounts: { pilot_user: "vacpilot", payload_users: 0, payload_user_prefix: "vacpay", ...section("accounts") },
    cvmfs: { quota_mb: 20000, wait_for: [], wait_seconds: 300, ...section("cvmfs") },
    credentials: { ca_dir: "/etc/grid-security/certificates", expiry_policy: "warn", mint_proxy: true, ...credentials },
    isolation: { required: false, test_command: ["/bin/true"], ...section("isolation") },
    payload: { ...payload, type: (payload.type as AgentConfig["payload"]["type"]) ?? "command" },
    options: section("options") as Record<string, string>,
  } as AgentConfig;
}

function hasSchemaErrors(ps: SchemaProblem[]): boolean {
  return ps.some((p) => p.severity === "error");
}

function toProblem(sp: SchemaProblem, provenance: Record<string, Origin>): Problem {
  const origin = originOf(provenance, sp.path);
  const source: Source = origin?.source ?? "user_data";
  // The experiment's template is wrong (grid-wide, 600) unless the bad value came from the site's
  // side: metadata, MJF, environment, the command line, or a ##user_data_*## value that Vac or
  // Vcycle filled in from the site's configuration (a proxy list, a host certificate) (500).
  const filledBySite = source === "user_data" && (origin?.location ?? "").includes("(##user_data_");
  const code: ShutdownCode = source === "user_data" && !filledBySite ? 600 : 500;
  const where = origin?.location ? ` (${origin.location})` : "";
  return problem(sp.severity, source, sp.path, sp.message + where, sp.severity === "error" ? code : undefined);
}

function* defaultsUsed(config: AgentConfig, provenance: Record<string, Origin>): Generator<[string, Origin]> {
  const flat = flatten(config as unknown as Record<string, unknown>);
  for (const path of Object.keys(flat)) if (!originOf(provenance, path)) yield [path, { source: "default" }];
}

function getPath(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), obj);
}

function machineFacts(): MachineFacts {
  return {
    cpus: cpus().length || 1,
    memoryBytes: totalmem(),
    hostname: osHostname(),
    isRoot: typeof process.getuid === "function" && process.getuid() === 0,
    // Read-only probes (sysfs, /proc, the first bytes of each device): facts for the planners.
    blockDevices: probeBlockDevices(),
    ipv6: probeIpv6(),
  };
}

async function readAllStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return "no such file";
  if (e?.code === "EACCES") return "permission denied";
  if (e?.code === "EISDIR") return "is a directory";
  return e?.message ?? String(err);
}
