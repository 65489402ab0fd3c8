// The manager's HTTP application as a pure `fetch(Request) -> Response`, tested without sockets;
// server.ts puts it on a socket. Pipes: validators, 304 and gzip. Templates: never cached, as Vac and
// Vcycle fetch one for every VM. Every error is an empty body with its status: a site parses whatever
// comes back, so an error page would become a VM's user_data and a JSON error would poison the site's
// pipe cache (vacuum-platform.md 6.3, 6.5).

import { stat } from "node:fs/promises";
import { identityOf, loadAgentBinary, type AgentBinary } from "../agent-binary.ts";
import { usesPerVm } from "../vm/placeholders.ts";
import { templateCopy } from "../vm/template-copy.ts";
import type { VmService } from "../vm/vm-service.ts";
import type { Content, Entry } from "./content.ts";
import { fileResponse } from "./file-body.ts";
import { CONTENT_TYPES, type AgentCompressor } from "../agent-compressed.ts";
import { batchedLog } from "./request-log.ts";
import type { RequestInfo } from "./server.ts";

export interface App {
  /** `info` comes from the server; without it (tests) the target is taken from the URL. */
  fetch(req: Request, info?: RequestInfo): Promise<Response>;
}

/** Other routes (status, metrics) tried after the VM routes and before the published content. */
export type Route = (req: Request, path: string) => Promise<Response | null> | Response | null;

export interface AppOptions {
  /** The content being served now; read once per request, so a reload swaps it atomically. */
  content: () => Content;
  /** One line per request (without a newline): method, path, status, User-Agent. */
  log?: (line: string) => void;
  /** When given, the request lines go here in batches (request-log.ts), not one by one to `log`. */
  logLines?: (lines: readonly string[]) => void;
  /** The VM-facing endpoints; without them (no --state) templates with per-VM placeholders get 503. */
  vm?: VmService;
  routes?: Route[];
  /** Told of every answer (metrics). */
  observe?: (path: string, status: number) => void;
  /** Makes and finds `agents/NAME.zst` and `.gz`; without it those answer 404. */
  compressor?: AgentCompressor;
}

const ALLOW = "GET, HEAD";
/** Long User-Agents are cut in the log: it is there to tell Vac and Vcycle versions apart. */
const MAX_AGENT_CHARS = 200;

export function createApp(options: AppOptions): App {
  const log = options.log ?? (() => {});
  const requestLine = options.logLines ? batchedLog(options.logLines).add : log;
  const routes = options.routes ?? [];
  const route = async (req: Request, path: string): Promise<Response | null> => {
    for (const r of routes) {
      const res = await r(req, path);
      if (res) return res;
    }
    return null;
  };
  return {
    async fetch(req: Request, given?: RequestInfo): Promise<Response> {
      let path = "?";
      let res: Response;
      try {
        let info: RequestInfo;
        if (given) {
          info = given;
          path = pathOf(given.rawTarget, req.url);
        } else {
          const url = new URL(req.url);
          path = url.pathname;
          info = { remoteAddress: "127.0.0.1", rawTarget: url.pathname + url.search, peerChain: [], peerAuthorized: false };
        }
        res = (await options.vm?.handle(req, info)) ?? (routes.length ? await route(req, path) : null) ?? (await answer(req, path, options.content(), options.vm, log, options.compressor));
      } catch {
        // Whatever broke, the client gets no body it could mistake for content.
        res = empty(500);
      }
      options.observe?.(path, res.status);
      const agent = req.headers.get("user-agent");
      requestLine(`${req.method} ${JSON.stringify(path)} ${res.status} ${res.headers.get("content-length") ?? "-"} ${JSON.stringify(agent === null ? "-" : agent.slice(0, MAX_AGENT_CHARS))}`);
      return res;
    },
  };
}

/**
 * A plain target (segments of unreserved characters, none starting with a dot, no `%`, no empty
 * segment) is its own URL path: only the others go through the URL parser (dot segments,
 * percent-encoding), which costs more than the rest of a 304.
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~!$&'()*+,;=:@-][A-Za-z0-9._~!$&'()*+,;=:@-]*)*\/?$/;

function pathOf(rawTarget: string, url: string): string {
  const q = rawTarget.indexOf("?");
  const path = q < 0 ? rawTarget : rawTarget.slice(0, q);
  return PLAIN_PATH.test(path) ? path : new URL(url).pathname;
}

function answer(
  req: Request,
  path: string,
  content: Content,
  vm: VmService | undefined,
  log: (line: string) => void,
  compressor: AgentCompressor | undefined,
): Response | Promise<Response> {
  let entry = content.entries.get(path);
  if (!entry && !path.endsWith("/") && content.entries.has(`${path}/`)) {
    // A directory without its slash, as nginx answers it: relative links in the index need it.
    return empty(301, { location: `${path}/` });
  }
  if (!entry) return empty(404);
  if (req.method !== "GET" && req.method !== "HEAD") return empty(405, { allow: ALLOW });
  switch (entry.kind) {
    case "pipe":
      return pipe(req, entry);
    case "template": {
      if (!entry.placeholders) return template(req, entry.bytes);
      const origin = new URL(req.url).origin;
      if (vm) return template(req, vm.templateCopy(entry, origin));
      const text = Buffer.from(entry.bytes).toString("latin1");
      if (usesPerVm(text)) {
        log(`${entry.path}: has per-VM placeholders ({{vacuum.vm_token}}…), which need serve --state: empty 503`);
        return empty(503);
      }
      return template(req, templateCopy(content, entry, origin, null));
    }
    case "file":
      return file(req, entry);
    case "agent":
      return entry.encoding ? compressedAgent(req, content, entry, compressor) : agent(req, content, entry.agent!);
  }
}

function file(req: Request, entry: Entry): Response {
  const v = validatorsOf(entry);
  if (notModified(req, entry)) return new Response(null, v.notModified);
  const headers: Record<string, string> = { etag: v.etag, "last-modified": v.lastModified, "content-type": entry.contentType, "content-length": String(entry.bytes.length) };
  return new Response(req.method === "HEAD" ? null : entry.bytes, { status: 200, headers });
}

/** Rehashes shared by concurrent requests, per agent name. */
const rehashing = new Map<string, Promise<AgentBinary | { problem: string }>>();

/** The binary's current entry: rehashed when the file changed since it was hashed. */
async function currentAgent(content: Content, name: string): Promise<AgentBinary | null | "changing"> {
  const a = content.agents.get(name);
  if (!a) return null;
  const now = await stat(a.path).catch(() => null);
  if (!now) return null;
  if (identityOf(now) === a.identity) return a;
  let pending = rehashing.get(a.path);
  if (!pending) {
    pending = loadAgentBinary(name, a.path).finally(() => rehashing.delete(a.path));
    rehashing.set(a.path, pending);
  }
  const fresh = await pending;
  if ("problem" in fresh) return "changing";
  content.agents.set(name, fresh);
  return fresh;
}

/**
 * `agents/NAME.zst` or `.gz`: the compressed copy of the binary's current version once it is made
 * (404 until then: the bootstrap then takes the next form). X-Checksum-Sha256 stays the sha256 of
 * the binary, which is what the bootstrap checks after decompressing.
 */
async function compressedAgent(req: Request, content: Content, entry: Entry, compressor: AgentCompressor | undefined): Promise<Response> {
  if (!compressor) return empty(404);
  const a = await currentAgent(content, entry.agent!);
  if (a === null || a === "changing") return empty(404);
  const copy = await compressor.ready(a, entry.encoding!);
  if (copy === null) return empty(404);
  return fileAnswer(req, copy.path, copy.size, {
    etag: `"${a.sha256}.${entry.encoding}"`,
    "last-modified": a.lastModified.toUTCString(),
    "x-checksum-sha256": a.sha256,
    "content-type": CONTENT_TYPES[entry.encoding!],
  });
}

/** The binary from disk, with its sha256 (recomputed when the file changed since it was hashed). */
async function agent(req: Request, content: Content, name: string): Promise<Response> {
  const a = await currentAgent(content, name);
  if (a === null) return empty(404);
  if (a === "changing") return empty(503); // being rewritten: try again shortly
  return fileAnswer(req, a.path, a.size, {
    etag: `"${a.sha256}"`,
    "last-modified": a.lastModified.toUTCString(),
    "x-checksum-sha256": a.sha256,
    "content-type": "application/octet-stream",
  });
}

/**
 * A file on disk under its strong ETag (`headers.etag`): 304 when the client has it, headers only
 * for HEAD, else its first `size` bytes streamed from disk, never the whole file in memory.
 */
function fileAnswer(req: Request, path: string, size: number, headers: Record<string, string> & { etag: string }): Response {
  const inm = req.headers.get("if-none-match");
  if (inm !== null && inm.split(",").some((t) => t.trim().replace(/^W\//, "") === headers.etag || t.trim() === "*")) {
    return new Response(null, { status: 304, headers });
  }
  if (req.method === "HEAD") return new Response(null, { status: 200, headers: { ...headers, "content-length": String(size) } });
  return fileResponse(path, size, headers);
}

function pipe(req: Request, entry: Entry): Response {
  const v = validatorsOf(entry);
  const gzip = entry.gzip !== null && acceptsGzip(req.headers.get("accept-encoding"));
  if (notModified(req, entry)) return new Response(null, gzip ? v.notModifiedGzip : v.notModifiedPipe);
  const body = gzip ? entry.gzip! : entry.bytes;
  const headers: Record<string, string> = {
    etag: gzip ? v.etagGzip : v.etag,
    "last-modified": v.lastModified,
    vary: "Accept-Encoding",
    "content-type": "application/json",
    "content-length": String(body.length),
  };
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(req.method === "HEAD" ? null : body, { status: 200, headers });
}

function template(req: Request, bytes: Uint8Array): Response {
  const headers = {
    "content-type": "application/octet-stream",
    "content-length": String(bytes.length),
    "cache-control": "no-store",
  };
  return new Response(req.method === "HEAD" ? null : bytes, { status: 200, headers });
}

const EMPTY_HEADERS = { "content-length": "0" };
const empty = (status: number, extra?: Record<string, string>): Response =>
  new Response(null, { status, headers: extra ? { ...EMPTY_HEADERS, ...extra } : EMPTY_HEADERS });

/** An entry's validators and 304 answers, made once per entry rather than once per request. */
interface Validators {
  // Each encoding is its own representation, so each has its own strong ETag (RFC 9110 8.8.3).
  etag: string;
  etagGzip: string;
  lastModified: string;
  lastModifiedMs: number;
  notModified: ResponseInit;
  notModifiedPipe: ResponseInit;
  notModifiedGzip: ResponseInit;
}

/** Entries are never changed once built (a reload builds new ones), so the cache never goes stale. */
const validators = new WeakMap<Entry, Validators>();

function validatorsOf(entry: Entry): Validators {
  let v = validators.get(entry);
  if (!v) {
    const etag = `"${entry.sha256}"`;
    const etagGzip = `"${entry.sha256}.gz"`;
    const lastModified = entry.lastModified.toUTCString();
    v = {
      etag,
      etagGzip,
      lastModified,
      lastModifiedMs: entry.lastModified.getTime(),
      notModified: { status: 304, headers: { etag, "last-modified": lastModified } },
      notModifiedPipe: { status: 304, headers: { etag, "last-modified": lastModified, vary: "Accept-Encoding" } },
      notModifiedGzip: { status: 304, headers: { etag: etagGzip, "last-modified": lastModified, vary: "Accept-Encoding" } },
    };
    validators.set(entry, v);
  }
  return v;
}

/** RFC 9110 13.1.2/13.1.3: If-None-Match wins; If-Modified-Since only counts without it. */
export function notModified(req: Request, entry: Entry): boolean {
  const v = validatorsOf(entry);
  const inm = req.headers.get("if-none-match");
  if (inm !== null) {
    // The usual case, a site sending back the one ETag it was given, costs two compares.
    if (inm === v.etag || inm === v.etagGzip) return true;
    return inm.split(",").some((raw) => {
      const tag = raw.trim().replace(/^W\//, ""); // weak comparison for If-None-Match
      return tag === "*" || tag === v.etag || tag === v.etagGzip;
    });
  }
  const ims = req.headers.get("if-modified-since");
  if (ims === null) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && v.lastModifiedMs <= since;
}

/** True when Accept-Encoding allows gzip (by name or `*`) with a q-value above 0. */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  // Sites send the same header every time: remember the last answer.
  if (header === lastAccept.header) return lastAccept.gzip;
  const gzip = parseAcceptsGzip(header);
  lastAccept = { header, gzip };
  return gzip;
}

let lastAccept: { header: string; gzip: boolean } = { header: "", gzip: false };

function parseAcceptsGzip(header: string): boolean {
  let gzip: number | null = null;
  let star: number | null = null;
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.trim().toLowerCase().split(";");
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    const value = Number.isNaN(q) ? 0 : q;
    if (name.trim() === "gzip" || name.trim() === "x-gzip") gzip = value;
    else if (name.trim() === "*") star = value;
  }
  return (gzip ?? star ?? 0) > 0;
}
