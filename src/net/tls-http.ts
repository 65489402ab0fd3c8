// https:// through the real undici (src/net/undici.ts), with one pooled Agent per set of TLS
// credentials so the minute-by-minute MJF re-reads reuse their connection.

import { createHash } from "node:crypto";
import { readCaDir } from "./ca-dir.ts";
import { classifyError, HttpError } from "./http-error.ts";
import {
  DEFAULT_MAX_BYTES,
  flattenHeaders,
  formatMs,
  makeResponse,
  requestHeaders,
  type HttpRequest,
  type HttpResponse,
  type TlsOptions,
} from "./http-client.ts";

type UndiciModule = typeof import("./undici.ts");
type Agent = InstanceType<UndiciModule["Agent"]>;

const agents = new Map<string, Promise<Agent>>();

async function agentFor(undici: UndiciModule, tls: TlsOptions, connectTimeoutMs: number): Promise<Agent> {
  // Keyed by a digest so the cache does not keep a second readable copy of the key's PEM as a map key.
  const id = createHash("sha256")
    .update(JSON.stringify([tls.caDir ?? null, tls.ca ?? null, tls.cert ?? null, tls.key ?? null, connectTimeoutMs]))
    .digest("hex");
  let agent = agents.get(id);
  if (!agent) {
    agent = (async () => {
      const cas = tls.caDir ? await caDirCertificates(tls.caDir) : [];
      if (tls.ca) cas.push(tls.ca);
      return new undici.Agent({
        connect: {
          timeout: connectTimeoutMs,
          ...(cas.length > 0 ? { ca: cas } : {}),
          ...(tls.cert ? { cert: tls.cert } : {}),
          ...(tls.key ? { key: tls.key } : {}),
          // With a client certificate, no TLS session resumption: on a resumed session some
          // receivers cannot see who the client is (Node's getPeerCertificate() is empty on a
          // resumed TLS 1.3 session) and answer 403. VMs connect every few minutes: the cost of a
          // full handshake does not matter.
          ...(tls.cert ? { maxCachedSessions: 0 } : {}),
        },
      });
    })();
    agents.set(id, agent);
    agent.catch(() => agents.delete(id));
  }
  return agent;
}

/**
 * Like Vac and Vcycle (vacutils.createUserData): the CA directory when it exists, else the
 * system's CAs. A directory that exists but holds no certificate is a configuration error.
 */
export async function caDirCertificates(dir: string): Promise<string[]> {
  let cas: string[];
  try {
    cas = await readCaDir(dir);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return [];
    throw err;
  }
  if (cas.length === 0) throw Object.assign(new Error("empty CA directory"), { code: "no certificates" });
  return cas;
}

/** Closes every pooled HTTPS connection (tests, and the agent before power-off). */
export async function closeHttpAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.allSettled(all.map(async (a) => (await a).close()));
}

export async function tlsRequest(req: HttpRequest, url: URL): Promise<HttpResponse> {
  const undici = await import("./undici.ts");
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  let agent: Agent;
  try {
    agent = await agentFor(undici, req.tls ?? {}, req.connectTimeoutMs);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "unreadable";
    throw new HttpError("tls", req.url, `cannot read the CA directory ${req.tls?.caDir ?? ""} (${code})`);
  }
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, req.timeoutMs);
  try {
    const res = await undici.request(url, {
      method: (req.method ?? "GET") as "GET",
      headers: requestHeaders(req),
      body: req.body,
      dispatcher: agent,
      signal: abort.signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new HttpError("too-large", req.url, `answer larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const headers = flattenHeaders(res.headers as Record<string, string | string[] | undefined>);
    return makeResponse(res.statusCode, headers, new Uint8Array(Buffer.concat(chunks)));
  } catch (err) {
    if (timedOut) throw new HttpError("timeout", req.url, `no complete answer within ${formatMs(req.timeoutMs)}`);
    throw classifyError(err, req.url, true);
  } finally {
    clearTimeout(timer);
  }
}
