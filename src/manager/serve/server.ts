// Puts a fetch-style handler on a socket with node:http or node:https, which behave the same under
// vitest (Node 20) and in the bun-compiled binary. The handler never sees a socket, only a Request
// and a small RequestInfo (client address, raw request target, client certificate), so Bun.serve
// (faster, toolchain.md section 8) serves the same handler in the compiled binary: bun-server.ts,
// chosen by startServer when running under bun without client certificates.
//
// Client certificates: with `clientCa`, the handshake asks for a certificate but lets every client
// in (rejectUnauthorized false): RFC 3820 proxies are refused by OpenSSL as client certificates
// (toolchain.md P3), so the chain is checked by client-cert.ts and a request without an acceptable
// certificate can still authenticate with its token. bun's node:https hides the peer certificate
// (P8), so that mode runs tls.createServer and hands each socket to a plain http server.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createServer as createTlsServer, type DetailedPeerCertificate, type TLSSocket } from "node:tls";
import { startBunServer } from "./bun-server.ts";

export interface Listen {
  host: string;
  /** 0 picks a free port; `url` tells which. */
  port: number;
}

export interface ServerTls {
  certPem: string | Buffer;
  keyPem: string | Buffer;
  /** CA certificates (PEM) whose clients may present a certificate; the handshake asks for one. */
  clientCa?: string[];
}

/** What the handler learns about the connection; the rest is in the Request. */
export interface RequestInfo {
  remoteAddress: string;
  /** The request target exactly as sent (`/a/../b`, `%2e%2e`), before URL normalisation. */
  rawTarget: string;
  /** DER of each certificate the client presented, leaf first; [] when none. */
  peerChain: Buffer[];
  /** True when OpenSSL itself verified the chain against clientCa (never for proxies). */
  peerAuthorized: boolean;
}

export type Handler = (req: Request, info: RequestInfo) => Promise<Response>;

export interface ServerOptions {
  listen: Listen;
  /** HTTPS with this certificate and key; plain HTTP without. */
  tls?: ServerTls;
  handler: Handler;
  /** Request bodies above this are refused with an empty 413: a number, or one per method and raw target. */
  maxBodyBytes?: number | ((method: string, rawTarget: string) => number);
  /** Time for a client to send its headers (default 10 s) and its whole request (default 60 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface RunningServer {
  /** `https://127.0.0.1:8443`, with the port actually bound. */
  url: string;
  /** Stops accepting, lets running requests finish (at most `graceMs`), then drops the rest. */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_MAX_BODY = 1 << 20;
const STREAM_ABOVE_BYTES = 1 << 20;

/** `host:port`, `[v6]:port`; the port 0 to 65535. Null when it is neither. */
export function parseListen(text: string): Listen | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * Which server runs the handler: Bun.serve under bun (the compiled binary) unless client
 * certificates are asked for (Bun.serve cannot show them to the handler) or
 * VACUUM_MANAGER_HTTP=node says otherwise (to compare the two); node:http(s) everywhere else.
 */
export function serverKind(options: Pick<ServerOptions, "tls">, env: NodeJS.ProcessEnv = process.env): "bun" | "node" {
  return typeof Bun !== "undefined" && !options.tls?.clientCa && env.VACUUM_MANAGER_HTTP !== "node" ? "bun" : "node";
}

export function startServer(options: ServerOptions): Promise<RunningServer> {
  return serverKind(options) === "bun" ? startBunServer(options) : startNodeServer(options);
}

function startNodeServer(options: ServerOptions): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const maxBody = typeof limit === "number" ? () => limit : limit;
  const scheme = options.tls ? "https" : "http";
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void serveOne(req, res, scheme, options.handler, maxBody);
  };
  let server: Server;
  let listener: Server | ReturnType<typeof createTlsServer>;
  const sockets = new Set<Socket>();
  if (options.tls?.clientCa) {
    server = createHttpServer(onRequest);
    const tlsServer = createTlsServer(
      { cert: options.tls.certPem, key: options.tls.keyPem, ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] },
      (socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        server.emit("connection", socket);
      },
    );
    // A client that never finishes its handshake must not hold a socket.
    tlsServer.on("tlsClientError", () => {});
    listener = tlsServer;
  } else {
    server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, onRequest) : createHttpServer(onRequest);
    listener = server;
  }
  // A slow client must not hold a connection for minutes (Node's defaults are 60 s and 300 s).
  server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? 60_000;
  // Node checks both timeouts on this interval (default 30 s): keep it below the shortest.
  (server as unknown as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(30_000, server.headersTimeout, server.requestTimeout);
  return new Promise((resolveStart, reject) => {
    listener.once("error", reject);
    listener.listen(options.listen.port, options.listen.host, () => {
      listener.off("error", reject);
      const address = listener.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolveStart({
        url: `${scheme}://${host}:${address.port}`,
        close: (graceMs = 5_000) => closeServer(server, listener === server ? null : listener, sockets, graceMs),
      });
    });
  });
}

function requestInfo(req: IncomingMessage): RequestInfo {
  const socket = req.socket as TLSSocket;
  const info: RequestInfo = { remoteAddress: socket.remoteAddress ?? "", rawTarget: req.url ?? "/", peerChain: [], peerAuthorized: false };
  if (typeof socket.getPeerCertificate !== "function") return info;
  let cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  const seen = new Set<DetailedPeerCertificate>();
  while (cert && cert.raw && !seen.has(cert) && info.peerChain.length < 10) {
    seen.add(cert);
    info.peerChain.push(cert.raw);
    // A self-issued certificate is its own issuerCertificate: stop there.
    cert = cert.issuerCertificate && cert.issuerCertificate !== cert ? cert.issuerCertificate : undefined;
  }
  info.peerAuthorized = info.peerChain.length > 0 && socket.authorized === true;
  return info;
}

async function serveOne(
  req: IncomingMessage,
  res: ServerResponse,
  scheme: string,
  handler: Handler,
  maxBody: (method: string, rawTarget: string) => number,
): Promise<void> {
  try {
    const method = req.method ?? "GET";
    let body: Buffer | undefined;
    if (method !== "GET" && method !== "HEAD") {
      const max = maxBody(method, req.url ?? "/");
      // Refused before reading when the client says how much it sends.
      const declared = Number(req.headers["content-length"]);
      body = Number.isFinite(declared) && declared > max ? undefined : await readBody(req, max);
      if (body === undefined) return writeEmpty(res, 413);
    }
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const host = req.headers.host ?? "localhost";
    const request = new Request(`${scheme}://${host}${req.url ?? "/"}`, { method, headers, body });
    const response = await handler(request, requestInfo(req));
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => (out[name] = value));
    res.writeHead(response.status, out);
    if (!response.body || method === "HEAD") {
      res.end();
    } else if (Number(out["content-length"] ?? Infinity) > STREAM_ABOVE_BYTES) {
      // Large bodies (agent binaries) go out as they are read, with back-pressure.
      await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), res);
    } else {
      res.end(Buffer.from(await response.arrayBuffer()));
    }
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
    // A client that goes away mid-body: nothing was written, nothing is answered.
    req.on("aborted", () => reject(new Error("aborted")));
  });
}

function closeServer(server: Server, tlsListener: { close(cb?: () => void): unknown } | null, sockets: Set<Socket>, graceMs: number): Promise<void> {
  return new Promise((resolveClose) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    }, graceMs);
    const done = () => {
      clearTimeout(timer);
      resolveClose();
    };
    if (tlsListener) {
      // The http server never listened: close the TLS listener, and the http server's connections.
      tlsListener.close(done);
      // The http server tracks the handed-over sockets: idle ones go now, busy ones at the grace.
      server.closeIdleConnections();
    } else {
      server.close(done);
      // Keep-alive connections with no request in flight would hold close() open until they time out.
      server.closeIdleConnections();
    }
  });
}
