// Puts a fetch-style handler on a socket with node:http or node:https, which behave the same under
// vitest (Node 20) and in the bun-compiled binary. The handler never sees a socket, so Bun.serve
// (faster, toolchain.md section 8) can replace this file without touching the app.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface Listen {
  host: string;
  /** 0 picks a free port; `url` tells which. */
  port: number;
}

export interface ServerTls {
  certPem: string | Buffer;
  keyPem: string | Buffer;
}

export interface ServerOptions {
  listen: Listen;
  /** HTTPS with this certificate and key; plain HTTP without. */
  tls?: ServerTls;
  handler: (req: Request) => Promise<Response>;
  /** Request bodies above this are refused with an empty 413. */
  maxBodyBytes?: number;
}

export interface RunningServer {
  /** `https://127.0.0.1:8443`, with the port actually bound. */
  url: string;
  /** Stops accepting, lets running requests finish (at most `graceMs`), then drops the rest. */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_MAX_BODY = 1 << 20;

/** `host:port`, `[v6]:port`; the port 0 to 65535. Null when it is neither. */
export function parseListen(text: string): Listen | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

export function startServer(options: ServerOptions): Promise<RunningServer> {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const scheme = options.tls ? "https" : "http";
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void serveOne(req, res, scheme, options.handler, maxBody);
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, onRequest)
    : createHttpServer(onRequest);
  // A slow client must not hold a connection for minutes (Node's defaults are 60 s and 300 s).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolveStart, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolveStart({ url: `${scheme}://${host}:${address.port}`, close: (graceMs = 5_000) => closeServer(server, graceMs) });
    });
  });
}

async function serveOne(
  req: IncomingMessage,
  res: ServerResponse,
  scheme: string,
  handler: (req: Request) => Promise<Response>,
  maxBody: number,
): Promise<void> {
  try {
    const method = req.method ?? "GET";
    let body: Buffer | undefined;
    if (method !== "GET" && method !== "HEAD") {
      body = await readBody(req, maxBody);
      if (body === undefined) return writeEmpty(res, 413);
    }
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const host = req.headers.host ?? "localhost";
    const request = new Request(`${scheme}://${host}${req.url ?? "/"}`, { method, headers, body });
    const response = await handler(request);
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => (out[name] = value));
    res.writeHead(response.status, out);
    if (response.body && method !== "HEAD") res.end(Buffer.from(await response.arrayBuffer()));
    else res.end();
  } catch {
    // A bad URL or a broken handler: nothing a client could mistake for content.
    if (!res.headersSent) writeEmpty(res, 500);
    else res.destroy();
  }
}

function writeEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "content-length": "0", connection: "close" });
  res.end();
}

/** The body, or undefined when it is larger than `max`. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        resolveBody(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolveBody(size > max ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolveClose) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolveClose();
    });
    // Keep-alive connections with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
  });
}
