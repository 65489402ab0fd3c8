// The same Handler on Bun.serve, for the bun-compiled binary: about twice the requests per CPU
// second of node:https in bun (toolchain.md section 8; scripts/bench-manager.sh), which the VMs'
// heartbeats need. server.ts picks it when it runs under bun and no client certificates are asked
// for: Bun.serve cannot show the handler the peer certificate (toolchain.md P8).
//
// What differs from the node:http path, and why it is acceptable:
// - The request target: Bun builds request.url with the URL parser, so dot segments (`/a/../b`,
//   `%2e%2e`) are resolved and `\` read as `/` before the handler sees it. `rawTarget` is that
//   normalised target. A VM path is then routed and authorised on the same target it writes to,
//   so `joboutputs/x/../y` is `joboutputs/y` of the same VM, never another directory.
// - Slow headers: Bun closes a connection that has not finished its headers after about 10 s
//   whatever headersTimeoutMs says (measured: 12 s for idle and trickling clients alike), without
//   a 408. A body that trickles is cut here at requestTimeoutMs with an empty 408.
// This file is only ever loaded by the binary; tests reach it through dist/manager.

import { fileBodyOf } from "./file-body.ts";
import type { Handler, RequestInfo, RunningServer, ServerOptions } from "./server.ts";

const DEFAULT_MAX_BODY = 1 << 20;
/** Bun's own ceiling for any body; the per-request limit below is the one that counts. */
const BUN_MAX_BODY = 1 << 30;

const emptyHeaders = { "content-length": "0" };
const closingHeaders = { "content-length": "0", connection: "close" };
const empty = (status: number): Response => new Response(null, { status, headers: emptyHeaders });
/** Refusals before the body was read close the connection: its unread body cannot be skipped. */
const closing = (status: number): Response => new Response(null, { status, headers: closingHeaders });

export function startBunServer(options: ServerOptions): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const maxBody = typeof limit === "number" ? () => limit : limit;
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const handler: Handler = options.handler;
  const scheme = options.tls ? "https" : "http";

  const fetch = async (req: Request, server: import("bun").Server<undefined>): Promise<Response> => {
    const url = req.url;
    // request.url is `scheme://host[:port]/path?query`: the target starts at the first `/` after `//`.
    const slash = url.indexOf("/", url.indexOf("//") + 2);
    const rawTarget = slash < 0 ? "/" : url.slice(slash);
    const info: RequestInfo = {
      // Looked up only by the handlers that need it (metadata), not on the heartbeat path.
      get remoteAddress() {
        return server.requestIP(req)?.address ?? "";
      },
      rawTarget,
      peerChain: [],
      peerAuthorized: false,
    };
    try {
      const method = req.method;
      if (method === "GET" || method === "HEAD") {
        const res = await handler(req, info);
        const file = fileBodyOf(res);
        if (!file) return res;
        // sendfile with a Content-Length; the stream the app made is not read.
        void res.body?.cancel().catch(() => {});
        return new Response(Bun.file(file.path).slice(0, file.size), { status: res.status, headers: res.headers });
      }
      const max = maxBody(method, rawTarget);
      const declared = req.headers.get("content-length");
      let request = req;
      if (declared !== null) {
        if (Number(declared) > max) return closing(413);
      } else if (req.body) {
        // Chunked: read here, so the limit holds before the handler sees a byte.
        const body = await readLimited(req.body, max);
        if (body === null) return closing(413);
        request = new Request(url, { method, headers: req.headers, body });
      }
      // A body that trickles must not hold the connection: an empty 408 at the deadline, which
      // closes it; the handler, still waiting for the rest of the body, then fails with nothing written.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<Response>((resolveDeadline) => {
        timer = setTimeout(() => resolveDeadline(closing(408)), requestTimeoutMs);
      });
      try {
        return await Promise.race([handler(request, info), deadline]);
      } finally {
        clearTimeout(timer);
      }
    } catch {
      // A bad request or a broken handler: nothing a client could mistake for content.
      return closing(500);
    }
  };

  return new Promise((resolveStart, reject) => {
    let server: import("bun").Server<undefined>;
    try {
      server = Bun.serve({
        hostname: options.listen.host,
        port: options.listen.port,
        ...(options.tls ? { tls: { cert: pemText(options.tls.certPem), key: pemText(options.tls.keyPem) } } : {}),
        maxRequestBodySize: BUN_MAX_BODY,
        // Seconds without a byte before a connection is dropped (keep-alive and slow bodies alike).
        idleTimeout: 10,
        fetch,
        error: () => empty(500),
      });
    } catch (err) {
      reject(err);
      return;
    }
    const host = options.listen.host.includes(":") ? `[${options.listen.host}]` : options.listen.host;
    resolveStart({
      url: `${scheme}://${host}:${server.port}`,
      close: (graceMs = 5_000) =>
        new Promise<void>((resolveClose) => {
          // Stop accepting; requests in flight get `graceMs`, then every connection is dropped.
          const timer = setTimeout(() => void server.stop(true).then(() => resolveClose()), graceMs);
          void server.stop(false).then(() => {
            clearTimeout(timer);
            resolveClose();
          });
        }),
    });
  });
}

function pemText(pem: string | Buffer): string {
  return typeof pem === "string" ? pem : pem.toString("utf8");
}

/** The whole body, or null as soon as it passes `max` bytes. */
async function readLimited(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
