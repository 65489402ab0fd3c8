// The manager's HTTP application as a pure `fetch(Request) -> Response`, tested without sockets;
// server.ts puts it on a socket. Pipes: validators, 304 and gzip. Templates: never cached, as Vac and
// Vcycle fetch one for every VM. Every error is an empty body with its status: a site parses whatever
// comes back, so an error page would become a VM's user_data and a JSON error would poison the site's
// pipe cache (vacuum-platform.md 6.3, 6.5).

import type { Content, Entry } from "./content.ts";

export interface App {
  fetch(req: Request): Promise<Response>;
}

export interface AppOptions {
  /** The content being served now; read once per request, so a reload swaps it atomically. */
  content: () => Content;
  /** One line per request (without a newline): method, path, status, User-Agent. */
  log?: (line: string) => void;
}

const ALLOW = "GET, HEAD";
/** Long User-Agents are cut in the log: it is there to tell Vac and Vcycle versions apart. */
const MAX_AGENT_CHARS = 200;

export function createApp(options: AppOptions): App {
  const log = options.log ?? (() => {});
  return {
    async fetch(req: Request): Promise<Response> {
      let path = "?";
      let res: Response;
      try {
        path = new URL(req.url).pathname;
        res = answer(req, path, options.content());
      } catch {
        // Whatever broke, the client gets no body it could mistake for content.
        res = empty(500);
      }
      const agent = (req.headers.get("user-agent") ?? "-").slice(0, MAX_AGENT_CHARS);
      log(`${req.method} ${JSON.stringify(path)} ${res.status} ${res.headers.get("content-length") ?? "-"} ${JSON.stringify(agent)}`);
      return res;
    },
  };
}

function answer(req: Request, path: string, content: Content): Response {
  const entry = content.entries.get(path);
  if (!entry) return empty(404);
  if (req.method !== "GET" && req.method !== "HEAD") return empty(405, { allow: ALLOW });
  return entry.kind === "pipe" ? pipe(req, entry) : template(req, entry);
}

function pipe(req: Request, entry: Entry): Response {
  const gzip = entry.gzip !== null && acceptsGzip(req.headers.get("accept-encoding"));
  const etag = gzip ? etagGzip(entry) : etagIdentity(entry);
  const headers: Record<string, string> = {
    etag,
    "last-modified": entry.lastModified.toUTCString(),
    vary: "Accept-Encoding",
  };
  if (notModified(req, entry)) return new Response(null, { status: 304, headers });
  const body = gzip ? entry.gzip! : entry.bytes;
  headers["content-type"] = "application/json";
  headers["content-length"] = String(body.length);
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(req.method === "HEAD" ? null : body, { status: 200, headers });
}

function template(req: Request, entry: Entry): Response {
  const headers = {
    "content-type": "application/octet-stream",
    "content-length": String(entry.bytes.length),
    "cache-control": "no-store",
  };
  return new Response(req.method === "HEAD" ? null : entry.bytes, { status: 200, headers });
}

const empty = (status: number, extra: Record<string, string> = {}): Response =>
  new Response(null, { status, headers: { "content-length": "0", ...extra } });

// Each encoding is its own representation, so each has its own strong ETag (RFC 9110 8.8.3).
const etagIdentity = (e: Entry): string => `"${e.sha256}"`;
const etagGzip = (e: Entry): string => `"${e.sha256}.gz"`;

/** RFC 9110 13.1.2/13.1.3: If-None-Match wins; If-Modified-Since only counts without it. */
export function notModified(req: Request, entry: Entry): boolean {
  const inm = req.headers.get("if-none-match");
  if (inm !== null) {
    const current = new Set([etagIdentity(entry), etagGzip(entry)]);
    return inm.split(",").some((raw) => {
      const tag = raw.trim().replace(/^W\//, ""); // weak comparison for If-None-Match
      return tag === "*" || current.has(tag);
    });
  }
  const ims = req.headers.get("if-modified-since");
  if (ims === null) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && entry.lastModified.getTime() <= since;
}

/** True when Accept-Encoding allows gzip (by name or `*`) with a q-value above 0. */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
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
