// httpRequest(): the agent's one HTTP client. Plain http:// (link-local metadata, Vac's MJF) goes
// through node:http, which costs nothing to load; https:// goes through the real undici, loaded
// lazily, with the CA directory and client certificate on a per-credential Agent.
// Both paths enforce a connect timeout, a total timeout and a body cap, and fail with HttpError.

import { HttpError } from "./http-error.ts";
import type { HttpPool } from "./http-pool.ts";

export { HttpError, type HttpErrorKind } from "./http-error.ts";

export interface TlsOptions {
  /** A directory of CA certificates (an OpenSSL hash directory such as /etc/grid-security/certificates). */
  caDir?: string;
  /** Extra CA certificates, PEM text. With caDir or ca set, the system CAs are not used. */
  ca?: string;
  /** Client certificate (or proxy) chain, PEM text. */
  cert?: string;
  /** Client private key, PEM text. */
  key?: string;
}

export interface HttpRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Time allowed to establish the connection (and the TLS handshake for https). */
  connectTimeoutMs: number;
  /** Time allowed for the whole exchange, connection included. */
  timeoutMs: number;
  /** Largest body accepted; default 16 MiB. */
  maxBytes?: number;
  tls?: TlsOptions;
  /** Plain http:// only: share these kept-alive connections (http-pool.ts) instead of a fresh one. */
  pool?: HttpPool;
}

export interface HttpResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Uint8Array;
  /** The body decoded as UTF-8. */
  text(): string;
}

export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new HttpError("protocol", req.url, "not a valid URL");
  }
  if (url.protocol === "http:") {
    const { plainRequest } = await import("./plain-http.ts");
    return plainRequest(req, url);
  }
  if (url.protocol === "https:") {
    const { tlsRequest } = await import("./tls-http.ts");
    return tlsRequest(req, url);
  }
  throw new HttpError("protocol", req.url, `unsupported scheme ${url.protocol.replace(":", "")}, expected http or https`);
}

/** Builds the response object both transports return. */
export function makeResponse(status: number, headers: Record<string, string>, body: Uint8Array): HttpResponse {
  return { status, headers, body, text: () => new TextDecoder().decode(body) };
}

/** Request headers with Content-Length set for a body: Vac's joboutputs refuses chunked uploads. */
export function requestHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
    const size = typeof req.body === "string" ? Buffer.byteLength(req.body) : req.body.byteLength;
    headers["content-length"] = String(size);
  }
  return headers;
}

/** Node and undici give repeated headers as arrays; flatten them. */
export function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** `2 s`, `500 ms`: for timeout messages. */
export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

/** Closes pooled HTTPS connections so the process can exit (tests; the agent before power-off). */
export async function closeHttpAgents(): Promise<void> {
  const { closeHttpAgents: close } = await import("./tls-http.ts");
  await close();
}
