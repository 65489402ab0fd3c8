// The VM-facing side of `manager serve`, as fetch-style handlers: job outputs and heartbeats by
// PUT (vm-path.ts names the routes; vm-auth.ts decides who may write), Machine/Job Features, the
// metadata emulation, and the per-VM copies of user_data templates with {{vacuum.*}} filled.
// Every answer has an empty body except the MJF values, metadata and templates: a VM or a site
// parses whatever comes back.

import type { X509Certificate } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { VERSION } from "../../version.ts";
import type { Content, Entry, MachinetypeInfo } from "../serve/content.ts";
import type { RequestInfo } from "../serve/server.ts";
import { renderUserData } from "../render.ts";
import { writeJobOutput } from "./joboutput-store.ts";
import { metadataAnswer, vmHostname, type VmMetadata } from "./metadata-tree.ts";
import { mjfListing, mjfValues } from "./mjf-values.ts";
import { managerUrlOf, templateCopy } from "./template-copy.ts";
import { authorize } from "./vm-auth.ts";
import { parseVmPath, type VmTarget } from "./vm-path.ts";
import { shutdownLine, type VmRegistry } from "./vm-registry.ts";
import { mintVmId, vmToken, type TokenKey } from "./vm-token.ts";

export type MetadataAccess = "loopback" | "all" | "off";

export interface VmServiceOptions {
  stateDir: string;
  key: TokenKey;
  registry: VmRegistry;
  content: () => Content;
  clientCas?: readonly X509Certificate[];
  /** Who may read the metadata emulation (which hands out a VM's token): default loopback clients. */
  metadata?: MetadataAccess;
  /** Default 32 MiB (the agent sends at most 16 MiB per file). */
  maxOutputBytes?: number;
  /** Default 4 KiB. */
  maxHeartbeatBytes?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export interface VmService {
  /** Null when the target is not a VM route. */
  handle(req: Request, info: RequestInfo): Promise<Response> | null;
  /** A template copy for one new VM: {{vacuum.*}} filled with a fresh VM id and its token. */
  templateCopy(entry: Entry, origin: string): Uint8Array;
  /** The body limit for a request, before it is read. */
  bodyLimit(method: string, rawTarget: string): number;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_HEARTBEAT_BYTES = 4096;
/** Bodies of requests that are not job outputs: nothing else takes a body. */
const OTHER_BODY_BYTES = 64 * 1024;
const HEARTBEAT_NAMES = ["vm-heartbeat"];

const EMPTY_HEADERS = { "content-length": "0" };
const empty = (status: number, extra?: Record<string, string>): Response => new Response(null, { status, headers: extra ? { ...EMPTY_HEADERS, ...extra } : EMPTY_HEADERS });
/** The answer to a heartbeat, every one the same. */
const CREATED: ResponseInit = { status: 201, headers: EMPTY_HEADERS };
const text = (body: string | Uint8Array, contentType: string, extra: Record<string, string> = {}): Response => {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return new Response(bytes, { status: 200, headers: { "content-type": contentType, "content-length": String(bytes.length), "cache-control": "no-store", ...extra } });
};

const isLoopback = (address: string): boolean => /^(127\.|::1$|::ffff:127\.)/.test(address);

export const isHeartbeatName = (mt: MachinetypeInfo, name: string): boolean => name === (mt.definition.heartbeat_file ?? "heartbeat") || HEARTBEAT_NAMES.includes(name);

export function createVmService(o: VmServiceOptions): VmService {
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  const maxOutput = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const maxHeartbeat = o.maxHeartbeatBytes ?? DEFAULT_MAX_HEARTBEAT_BYTES;
  const access = o.metadata ?? "loopback";
  const managerHost = osHostname();

  const refuse = (status: number, t: VmTarget | null, why: string, extra: Record<string, string> = {}): Response => {
    log(`refused ${status}${t ? ` ${t.machinetype}/${t.vmId}` : ""}: ${why}`);
    return empty(status, extra);
  };

  const copy = (entry: Entry, origin: string, vmId: string): Uint8Array =>
    templateCopy(o.content(), entry, origin, { vmId, token: vmToken(o.key, entry.machinetype ?? "", vmId) });

  async function putOutput(req: Request, info: RequestInfo, t: VmTarget, mt: MachinetypeInfo): Promise<Response> {
    if (req.method !== "PUT") return refuse(405, t, `${req.method} on a job output`, { allow: "PUT" });
    const auth = authorize(req.headers.get("authorization"), info, {
      key: o.key,
      machinetype: t.machinetype,
      vmId: t.vmId,
      dnPrefixes: mt.definition.client_dn_prefixes ?? [],
      clientCas: o.clientCas ?? [],
    });
    if (!auth.ok) return refuse(auth.status, t, auth.why, auth.status === 401 ? { "www-authenticate": 'Bearer realm="vacuum-manager"' } : {});
    const body = new Uint8Array(await req.arrayBuffer());
    const heartbeat = isHeartbeatName(mt, t.rest);
    if (body.length > (heartbeat ? maxHeartbeat : maxOutput)) return refuse(413, t, `${t.rest}: ${body.length} bytes`);
    const at = now();
    const record = o.registry.touch(t.machinetype, t.vmId, at);
    if (!record) return refuse(503, t, `already ${o.registry.size} VMs known: no room for another`);
    if (auth.dn) record.dn = auth.dn;
    if (heartbeat) {
      // The hot path: memory only; vm-state-file.ts writes the records every few seconds.
      record.lastHeartbeat = at;
      record.heartbeat = Buffer.from(body.buffer, body.byteOffset, Math.min(body.length, 256)).toString("latin1");
      o.registry.changed();
      return new Response(null, CREATED);
    }
    try {
      await writeJobOutput(o.stateDir, t.machinetype, t.vmId, t.rest, body);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return refuse(code === "ENOSPC" || code === "EDQUOT" ? 507 : 500, t, `cannot write ${t.rest} (${code ?? (err as Error).message})`);
    }
    record.outputs++;
    record.lastOutput = now();
    if (t.rest === "shutdown_message") {
      record.shutdownMessage = shutdownLine(body);
      record.shutdownAt = record.lastOutput;
      log(`${t.machinetype}/${t.vmId}: shutdown_message ${JSON.stringify(record.shutdownMessage)}`);
    }
    o.registry.changed();
    return empty(201);
  }

  function features(req: Request, t: VmTarget, mt: MachinetypeInfo): Response {
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(405, t, `${req.method} on ${t.section}`, { allow: "GET, HEAD" });
    const started = Math.floor((o.registry.get(t.machinetype, t.vmId)?.firstSeen ?? now()) / 1000);
    const values = mjfValues(t.section as "machinefeatures" | "jobfeatures", mt.definition, t.vmId, started);
    if (t.rest === "") return text(mjfListing(values), "text/html");
    const value = values[t.rest];
    return value === undefined ? empty(404) : text(value, "text/plain; charset=utf-8");
  }

  function metadata(req: Request, info: RequestInfo, t: VmTarget, mt: MachinetypeInfo): Response {
    if (access === "off" || (access === "loopback" && !isLoopback(info.remoteAddress))) {
      return refuse(403, t, `metadata asked for by ${info.remoteAddress} (serve --metadata ${access})`);
    }
    if (req.method !== "GET" && req.method !== "HEAD") return empty(405, { allow: "GET, HEAD" });
    const content = o.content();
    const origin = new URL(req.url).origin;
    const manager = managerUrlOf(content, origin);
    const vmUrl = `${manager}/vms/${t.machinetype}/${t.vmId}`;
    const token = vmToken(o.key, t.machinetype, t.vmId);
    // The token as the URL's password: what an unmodified agent sends as Basic auth over http://.
    const withToken = new URL(`${vmUrl}/joboutputs`);
    withToken.username = "vm";
    withToken.password = token;
    const vm: VmMetadata = {
      vmId: t.vmId,
      hostname: vmHostname(t.machinetype, t.vmId),
      machinetype: t.machinetype,
      availabilityZone: new URL(manager).hostname,
      machinefeatures: `${vmUrl}/machinefeatures`,
      jobfeatures: `${vmUrl}/jobfeatures`,
      joboutputs: withToken.toString(),
    };
    const answer = metadataAnswer(t.rest, vm);
    if (!answer) return empty(404);
    const record = o.registry.touch(t.machinetype, t.vmId, now());
    if (!record) return refuse(503, t, `already ${o.registry.size} VMs known: no room for another`);
    record.metadataAt = now();
    o.registry.changed();
    if (answer.kind === "text") return text(answer.body, answer.contentType);
    const entry = content.entries.get(`/${mt.templatePath}`);
    if (!entry) return empty(404);
    const filled = Buffer.from(copy(entry, origin, t.vmId)).toString("latin1");
    const mtd = mt.definition;
    // The manager as the site: the values Vac or Vcycle would fill, pointing at this manager.
    const rendered = renderUserData({
      template: filled,
      values: {
        url: `${manager}${content.prefix}/${mt.templatePath}`,
        space: vm.availabilityZone,
        machinetype: t.machinetype,
        machine_hostname: vm.hostname,
        manager_version: `vacuum-manager ${VERSION}`,
        manager_hostname: managerHost,
        machinefeatures_url: vm.machinefeatures,
        jobfeatures_url: vm.jobfeatures,
        joboutputs_url: vm.joboutputs,
        root_image_url: /^https?:\/\//.test(mtd.root_image) ? mtd.root_image : "",
        uuid: t.vmId,
      },
      options: mtd.options ?? {},
    });
    if (!rendered.ok) return refuse(500, t, `cannot render ${mt.templatePath}: ${rendered.problems.map((p) => p.message).join("; ")}`);
    return text(Buffer.from(rendered.text, "latin1"), "application/octet-stream");
  }

  return {
    handle(req, info) {
      const content = o.content();
      const parsed = parseVmPath(info.rawTarget, content.prefix);
      if (parsed === null) return null;
      if (!parsed.ok) return Promise.resolve(refuse(parsed.status, null, `${JSON.stringify(info.rawTarget.slice(0, 300))}: ${parsed.why}`));
      const t = parsed.target;
      const mt = content.machinetypes.get(t.machinetype);
      if (!mt) return Promise.resolve(refuse(404, t, "no such machinetype in the definition"));
      switch (t.section) {
        case "joboutputs":
          return putOutput(req, info, t, mt).catch(() => refuse(500, t, "the upload failed"));
        case "machinefeatures":
        case "jobfeatures":
          return Promise.resolve(features(req, t, mt));
        case "metadata":
          return Promise.resolve(metadata(req, info, t, mt));
      }
    },
    templateCopy: (entry, origin) => copy(entry, origin, mintVmId()),
    bodyLimit(method, rawTarget) {
      const content = o.content();
      const parsed = parseVmPath(rawTarget, content.prefix);
      if (!parsed?.ok || parsed.target.section !== "joboutputs") return OTHER_BODY_BYTES;
      const mt = content.machinetypes.get(parsed.target.machinetype);
      return mt && isHeartbeatName(mt, parsed.target.rest) ? maxHeartbeat : maxOutput;
    },
  };
}

