// Many GETs to one origin (a pilot directory: a manifest and tens of small files): one dedicated
// undici Agent with up to `connections` kept-alive HTTP/1.1 connections per origin, so requests
// run in parallel and each connection pays its TCP and TLS handshakes once. Dedicated rather than
// the shared agents of tls-http.ts: the caller sizes it, and closes it (and its sockets) when the
// download is over instead of leaving idle connections to a file server open for the VM's life.
// Same credentials rules and same HttpError classification as httpRequest().

import { classifyError, HttpError } from "./http-error.ts";
import { flattenHeaders, formatMs, makeResponse, type HttpResponse, type TlsOptions } from "./http-client.ts";
import { caDirCertificates } from "./tls-http.ts";

export interface ConnectionPoolOptions {
  tls: TlsOptions;
  /** Most connections open at once to one origin. */
  connections: number;
  /** Requests sent ahead on one connection before its answers arrive (HTTP/1.1 pipelining); default 1. */
  pipelining?: number;
  connectTimeoutMs: number;
}

export interface PoolGet {
  headers?: Record<string, string>;
  /** Time allowed for the whole exchange, waiting for a free connection included. */
  timeoutMs: number;
  /** Largest body accepted. */
  maxBytes: number;
}

export interface ConnectionPool {
  /** GET `url`; any HTTP status resolves, transport failures reject with HttpError. */
  get(url: string, o: PoolGet): Promise<HttpResponse>;
  /** Whether any HTTP answer came back yet: a connection closed before the first one is most
   * likely a TLS handshake the server refused (a client certificate it does not accept). */
  answered(): boolean;
  close(): Promise<void>;
}

/** Rejects with HttpError("tls") when the CA directory cannot be read. */
export async function openConnectionPool(o: ConnectionPoolOptions): Promise<ConnectionPool> {
  const undici = await import("./undici.ts");
  let cas: string[];
  try {
    cas = o.tls.caDir ? await caDirCertificates(o.tls.caDir) : [];
  } catch (err) {
    const code = (err as { code?: string }).code ?? "unreadable";
    throw new HttpError("tls", o.tls.caDir ?? "", `cannot read the CA directory (${code})`);
  }
  if (o.tls.ca) cas.push(o.tls.ca);
  const agent = new undici.Agent({
    connections: Math.max(1, o.connections),
    pipelining: Math.max(1, o.pipelining ?? 1),
    // Long enough to carry the connections from the manifest round to the files round.
    keepAliveTimeout: 30_000,
    connect: {
      timeout: o.connectTimeoutMs,
      ...(cas.length > 0 ? { ca: cas } : {}),
      ...(o.tls.cert ? { cert: o.tls.cert } : {}),
      ...(o.tls.key ? { key: o.tls.key } : {}),
      // As in tls-http.ts: no resumption with a client certificate, so the server always sees it.
      ...(o.tls.cert ? { maxCachedSessions: 0 } : {}),
    },
  });
  const isTls = (url: string) => url.startsWith("https:");
  let answered = false;

  async function get(url: string, g: PoolGet): Promise<HttpResponse> {
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, g.timeoutMs);
    try {
      const res = await undici.request(url, {
        method: "GET",
        // undici holds back later requests on a connection until this one's headers arrive
        // (`blocking` defaults to true for GET), which would make pipelining a no-op.
        blocking: false,
        ...(g.headers ? { headers: g.headers } : {}),
        dispatcher: agent,
        signal: abort.signal,
        headersTimeout: g.timeoutMs,
        bodyTimeout: g.timeoutMs,
      });
      answered = true;
      const announced = Number(res.headers["content-length"] ?? NaN);
      // Dropping a body without reading it makes undici emit an abort error on it: expected, ignored.
      const drop = () => res.body.on("error", () => undefined).destroy();
      if (announced > g.maxBytes) {
        drop();
        throw new HttpError("too-large", url, `answer of ${announced} bytes, more than the ${g.maxBytes} allowed`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > g.maxBytes) {
          drop();
          throw new HttpError("too-large", url, `answer larger than the ${g.maxBytes} bytes allowed`);
        }
        chunks.push(chunk as Buffer);
      }
      const headers = flattenHeaders(res.headers as Record<string, string | string[] | undefined>);
      return makeResponse(res.statusCode, headers, new Uint8Array(Buffer.concat(chunks)));
    } catch (err) {
      if (timedOut) throw new HttpError("timeout", url, `no complete answer within ${formatMs(g.timeoutMs)}`);
      throw classifyError(err, url, isTls(url));
    } finally {
      clearTimeout(timer);
    }
  }

  return { get, answered: () => answered, close: () => agent.close().catch(() => undefined) };
}
