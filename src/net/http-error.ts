// One error type for every HTTP failure, classified so callers can decide what to do (retry,
// fall back, report) without parsing Node's or undici's messages. Messages never carry
// secrets: URLs lose their user:password part and bodies are never quoted.

export type HttpErrorKind = "connect" | "timeout" | "tls" | "too-large" | "protocol";

export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly kind: HttpErrorKind;
  /** The URL without credentials. */
  readonly url: string;
  /** The reason alone, without the URL: `connection refused`. */
  readonly reason: string;

  constructor(kind: HttpErrorKind, url: string, reason: string) {
    const safe = safeUrl(url);
    super(`${safe}: ${reason}`);
    this.kind = kind;
    this.url = safe;
    this.reason = reason;
  }
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/** Free text with every URL's `user:password@` (a token rides there) replaced by `<redacted>@`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, "$1<redacted>@");
}

/** The URL without `user:password@`, for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}

const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed (temporary)",
  EADDRNOTAVAIL: "address not available",
  ETIMEDOUT: "connection timed out",
};

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|HOSTNAME_MISMATCH|EPROTO$|ERR_OSSL_)/;

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (typeof e?.code === "string") return e.code;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  return "";
}

/** Maps a Node or undici error to an HttpError; `isTls` adds a hint about client certificates. */
export function classifyError(err: unknown, url: string, isTls: boolean): HttpError {
  if (err instanceof HttpError) return err;
  const code = codeOf(err);
  const connect = CONNECT_CODES[code];
  if (connect) return new HttpError("connect", url, connect);
  if (code === "UND_ERR_CONNECT_TIMEOUT") return new HttpError("connect", url, "could not connect in time");
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return new HttpError("timeout", url, "no complete answer in time");
  if (TLS_CODE.test(code)) return new HttpError("tls", url, `TLS failure (${code})`);
  if (code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE") {
    const hint = isTls ? " (the server may have refused the client certificate)" : "";
    return new HttpError("protocol", url, `connection closed by the server${hint}`);
  }
  if (code.startsWith("HPE_") || code === "UND_ERR_INVALID_ARG" || code === "ERR_INVALID_URL") {
    return new HttpError("protocol", url, `invalid HTTP exchange (${code})`);
  }
  return new HttpError("protocol", url, code ? `request failed (${code})` : "request failed");
}
