// A local emulation (127.0.0.1, random port) of each cloud metadata service the agent probes,
// plus fault modes. Used by the metadata unit tests and by black-box tests of the binary
// (--metadata-url <url>). Behaviour follows vacuum-platform.md 2.1 (Vac) and 2.3.

import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type MetadataVariant = "openstack" | "ec2" | "vac" | "gce" | "html" | "error500" | "hang";

export interface MetadataServerOptions {
  variant: MetadataVariant;
  /**
   * ec2 only: "required" answers 401 to any GET without a valid token (default "optional");
   * "unavailable" answers the token PUT with 501, as Vac does, so clients fall back to IMDSv1.
   */
  imdsv2?: "required" | "optional" | "unavailable";
  /** ec2 only: tokens expire after this many ms instead of their requested TTL (refresh tests). */
  tokenLifetimeMs?: number;
  /** ec2 only: the spot interruption notice served at /latest/meta-data/spot/instance-action (404 when absent). */
  spotInstanceAction?: { action: string; time: string } | string | null;
  /** gce only: what /computeMetadata/v1/instance/preempted answers (TRUE/FALSE); default false. */
  preempted?: boolean;
  /** The user_data served; null = none (404). Default a small shell script. */
  userData?: string | Uint8Array | null;
  uuid?: string;
  hostname?: string;
  name?: string;
  availabilityZone?: string;
  /** Server metadata / attributes: machinetype, machinefeatures, jobfeatures, joboutputs. */
  meta?: Record<string, string>;
  /** gce only: false emulates a server that does not send `Metadata-Flavor: Google` back. */
  flavorHeader?: boolean;
  /** Refuse connections (nothing listening) for this long after start. */
  downForMs?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface MetadataServer {
  url: string;
  requests: LoggedRequest[];
  /** True once the server accepts connections (after downForMs). */
  isUp(): boolean;
  /**
   * Announces (or withdraws, with null/false) a preemption while the server runs: the ec2 spot
   * instance-action document (or raw body), the gce preempted flag.
   */
  setPreemption(notice: { action: string; time: string } | string | boolean | null): void;
  close(): Promise<void>;
}

export const DEFAULT_USER_DATA = "#!/bin/sh\n# vacuum-agent test user_data\n";

type Reply = { status: number; body?: string | Uint8Array; type?: string; headers?: Record<string, string> } | "hang";

const HTML_404 = "<!DOCTYPE html>\n<html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code 404.</p></body></html>\n";
const HTML_501 =
  "<!DOCTYPE html>\n<html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code 501.</p><p>Message: Unsupported method ('PUT').</p></body></html>\n";
const PORTAL = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>Please log in to the network.</body></html>\n";

const notFound = (): Reply => ({ status: 404, body: HTML_404, type: "text/html" });
const ok = (body: string | Uint8Array, type = "text/plain"): Reply => ({ status: 200, body, type });

/** What can change while the server runs. */
interface LiveState {
  spotInstanceAction: { action: string; time: string } | string | null;
  preempted: boolean;
}

function variantHandler(opts: MetadataServerOptions, live: LiveState): (req: IncomingMessage) => Reply {
  const userData = opts.userData === undefined ? DEFAULT_USER_DATA : opts.userData;
  const uuid = opts.uuid ?? randomUUID();
  const hostname = opts.hostname ?? "vm-01.example.org";
  const name = opts.name ?? "vm-01";
  const zone = opts.availabilityZone ?? "nova";
  switch (opts.variant) {
    case "html":
      return () => ok(PORTAL, "text/html; charset=utf-8");
    case "error500":
      return () => ({ status: 500, body: "Internal Server Error\n", type: "text/plain" });
    case "hang":
      return () => "hang";
    case "openstack": {
      const meta = opts.meta ?? { machinetype: "example-prod" };
      const doc = JSON.stringify({ uuid, hostname, name, availability_zone: zone, launch_index: 0, meta });
      return (req) => {
        const path = pathOf(req).replace(/^\/openstack\/(latest|\d{4}-\d{2}-\d{2})\//, "/openstack/latest/");
        if (req.method !== "GET") return { status: 405, body: "405 Method Not Allowed\n" };
        if (path === "/openstack/latest/meta_data.json") return ok(doc, "application/json");
        if (path === "/openstack/latest/user_data" || path === "/latest/user-data") return userData === null ? notFound() : ok(userData, "application/octet-stream");
        if (path === "/latest/meta-data/instance-id") return ok(`i-${uuid.slice(0, 8)}`);
        return notFound();
      };
    }
    case "ec2": {
      // token -> expiry (ms since the epoch)
      const tokens = new Map<string, number>();
      const instanceId = opts.uuid ?? `i-${randomBytes(8).toString("hex")}`;
      const valid = (token: string) => (tokens.get(token) ?? 0) > Date.now();
      return (req) => {
        const path = pathOf(req);
        if (path === "/latest/api/token") {
          if (opts.imdsv2 === "unavailable") return { status: 501, body: HTML_501, type: "text/html" };
          if (req.method !== "PUT") return { status: 405, body: "" };
          const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
          if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return { status: 400, body: "" };
          const token = randomBytes(42).toString("base64");
          tokens.set(token, Date.now() + (opts.tokenLifetimeMs ?? ttl * 1000));
          return ok(token);
        }
        if (req.method !== "GET") return { status: 405, body: "" };
        const token = req.headers["x-aws-ec2-metadata-token"];
        if (typeof token === "string" ? !valid(token) : opts.imdsv2 === "required") return { status: 401, body: "" };
        if (path === "/latest/meta-data/spot/instance-action") {
          const notice = live.spotInstanceAction;
          if (notice === null) return notFound();
          return ok(typeof notice === "string" ? notice : JSON.stringify(notice), "text/plain");
        }
        if (path === "/latest/user-data") return userData === null ? notFound() : ok(userData, "application/octet-stream");
        if (path === "/latest/meta-data" || path === "/latest/meta-data/") return ok("ami-id\nhostname\ninstance-id\nlocal-hostname\n");
        if (path === "/latest/meta-data/instance-id") return ok(instanceId);
        if (path === "/latest/meta-data/hostname" || path === "/latest/meta-data/local-hostname") return ok(hostname);
        if (path === "/latest/meta-data/ami-id") return ok("ami-0abcdef1234567890");
        return notFound();
      };
    }
    case "vac": {
      // vacd's makeMetadataBody: /latest/ is any dated path; only the hyphen spellings exist.
      const meta = opts.meta ?? {
        machinetype: "example-prod",
        machinefeatures: "http://169.254.169.253/machinefeatures",
        jobfeatures: "http://169.254.169.253/jobfeatures",
        joboutputs: "http://169.254.169.253/joboutputs",
      };
      const doc = JSON.stringify({ availability_zone: "factory1.example.org", public_keys: { "0": "ssh-rsa AAAA test" }, uuid, hostname, name, meta });
      return (req) => {
        if (req.method !== "GET") return { status: 501, body: HTML_501, type: "text/html" };
        const path = pathOf(req).replace(/^(\/openstack)?\/(latest|\d{4}-\d{2}-\d{2})\//, "$1/latest/");
        if (path === "/latest/user-data" || path === "/openstack/latest/user-data") return userData === null ? notFound() : ok(userData);
        if (path === "/latest/meta-data.json" || path === "/openstack/latest/meta-data.json") return ok(doc, "application/json");
        if (path === "/latest/meta-data" || path === "/latest/meta-data/") return ok("public-keys/0/openssh-key\nami-id\ninstance-id\n");
        if (path === "/latest/meta-data/public-keys/0/openssh-key") return ok("ssh-rsa AAAA test\n");
        if (path === "/latest/meta-data/instance-id" || path === "/latest/meta-data/ami-id") return ok(uuid);
        return notFound();
      };
    }
    case "gce": {
      const flavor: Record<string, string> = opts.flavorHeader === false ? {} : { "Metadata-Flavor": "Google" };
      const attrs: Record<string, string> = { ...(opts.meta ?? { machinetype: "example-prod" }) };
      const id = opts.uuid ?? "4567890123456789012";
      return (req) => {
        const path = pathOf(req);
        if (req.headers["metadata-flavor"] !== "Google") {
          return { status: 403, body: HTML_404.replace("404", "403"), type: "text/html", headers: flavor };
        }
        const reply = (body: string | Uint8Array | null | undefined): Reply =>
          body === null || body === undefined ? { status: 404, body: "", headers: flavor } : { status: 200, body, type: "application/text", headers: flavor };
        if (path === "/computeMetadata/v1/instance/attributes/user-data") return reply(userData);
        if (path === "/computeMetadata/v1/instance/id") return reply(id);
        if (path === "/computeMetadata/v1/instance/hostname") return reply(hostname);
        if (path === "/computeMetadata/v1/instance/preempted") return reply(live.preempted ? "TRUE" : "FALSE");
        const attr = /^\/computeMetadata\/v1\/instance\/attributes\/([a-z0-9_-]+)$/.exec(path);
        if (attr) return reply(attrs[attr[1]!]);
        return { status: 404, body: "", headers: flavor };
      };
    }
  }
}

const pathOf = (req: IncomingMessage) => (req.url ?? "/").split("?")[0]!;

export async function startMetadataServer(opts: MetadataServerOptions): Promise<MetadataServer> {
  const live: LiveState = { spotInstanceAction: opts.spotInstanceAction ?? null, preempted: opts.preempted ?? false };
  const handle = variantHandler(opts, live);
  const requests: LoggedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: { ...req.headers } });
    const reply = handle(req);
    if (reply === "hang") return;
    res.statusCode = reply.status;
    if (reply.type) res.setHeader("Content-Type", reply.type);
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.end(reply.body ?? "");
  });
  let up = false;
  let closed = false;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  let port = await listen(0);
  let timer: NodeJS.Timeout | undefined;
  if (opts.downForMs && opts.downForMs > 0) {
    // Free the port so connections are refused, then take the same port again later.
    await new Promise((r) => server.close(r));
    const retake = async (triesLeft: number): Promise<void> => {
      if (closed) return;
      try {
        port = await listen(port);
        up = true;
      } catch {
        if (triesLeft > 0) timer = setTimeout(() => void retake(triesLeft - 1), 50);
      }
    };
    timer = setTimeout(() => void retake(20), opts.downForMs);
  } else {
    up = true;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    isUp: () => up,
    setPreemption: (notice) => {
      if (typeof notice === "boolean") live.preempted = notice;
      else if (notice === null) {
        live.spotInstanceAction = null;
        live.preempted = false;
      } else live.spotInstanceAction = notice;
    },
    close: async () => {
      closed = true;
      clearTimeout(timer);
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
