// One GET of a pilot directory file over the shared connection pool, retried with exponential
// backoff and jitter when the failure may pass (a refused or dropped connection, a timeout, 5xx,
// 429), and classified for the shutdown code: "local" when the VM could not reach or trust the
// server (its network, its CA directory, its credentials: 500), "server" when the server answered
// wrongly (600). Never throws.

import { HttpError } from "../net/http-error.ts";
import type { ConnectionPool } from "../net/connection-pool.ts";

export type FailureSide = "local" | "server";

export type Fetched =
  | { ok: true; body: Uint8Array; ms: number }
  | { ok: false; side: FailureSide; status?: number; error: string; ms: number };

export interface FetchContext {
  pool: ConnectionPool;
  headers?: Record<string, string>;
  retries: number;
  timeoutMs: number;
  log: (line: string) => void;
  /** Set when the set has already failed: no further retries. */
  stopped?: () => boolean;
}

const RETRIED_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 2000;

/** 100 ms, 200 ms, 400 ms … up to 2 s, each between half and all of it so mirrors' clients spread out. */
export const backoffMs = (attempt: number): number =>
  Math.round(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function failureOf(err: unknown, answered: boolean): { side: FailureSide; error: string; retry: boolean } {
  if (!(err instanceof HttpError)) return { side: "server", error: String(err), retry: false };
  switch (err.kind) {
    case "protocol":
      // Closed before the server ever answered over TLS: a refused client certificate (TLS 1.3
      // servers check it after the client's handshake is done, so it shows as a closed
      // connection, not as a TLS error). That is the VM's credential, not the grid's files.
      if (!answered && /client certificate/.test(err.reason)) return { side: "local", error: err.reason, retry: true };
      return { side: "server", error: err.reason, retry: true };
    case "connect":
      return { side: "local", error: err.reason, retry: true };
    case "tls":
      // A certificate that does not verify today will not verify in 200 ms either.
      return { side: "local", error: err.reason, retry: false };
    case "too-large":
      return { side: "server", error: err.reason, retry: false };
    default:
      return { side: "server", error: err.reason, retry: true };
  }
}

/** GET `url`; `label` names the file in log lines and errors (the URL is already credential-free). */
export async function fetchWithRetries(ctx: FetchContext, url: string, label: string, maxBytes: number): Promise<Fetched> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  for (let attempt = 0; ; attempt++) {
    let failure: { side: FailureSide; status?: number; error: string; retry: boolean };
    try {
      const res = await ctx.pool.get(url, { timeoutMs: ctx.timeoutMs, maxBytes, ...(ctx.headers ? { headers: ctx.headers } : {}) });
      if (res.status === 200) return { ok: true, body: res.body, ms: elapsed() };
      failure = { side: "server", status: res.status, error: `HTTP ${res.status}`, retry: RETRIED_STATUS.has(res.status) };
    } catch (err) {
      failure = failureOf(err, ctx.pool.answered());
    }
    const last = attempt >= ctx.retries || !failure.retry || (ctx.stopped?.() ?? false);
    if (last) {
      const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : "";
      return { ok: false, side: failure.side, ...(failure.status ? { status: failure.status } : {}), error: `${failure.error}${tries}`, ms: elapsed() };
    }
    const wait = backoffMs(attempt);
    ctx.log(`pilot: ${label}: ${failure.error}, retry ${attempt + 1}/${ctx.retries} in ${wait} ms`);
    await sleep(wait);
  }
}
