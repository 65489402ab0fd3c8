// Preemption notices from the cloud's metadata service, polled while the payload runs: EC2 spot
// `instance-action` (about two minutes' warning) and GCE `preempted` (about 30 s). A notice is
// reported once, then polling stops; the supervisor stops the payload gracefully as for SIGTERM.
// Vac, OpenStack and config drives announce nothing of the kind, so nothing is polled there.
// The watch never throws: a failed poll is logged once per distinct reason and tried again.

import { httpRequest, HttpError, type HttpRequest, type HttpResponse } from "../net/http-client.ts";
import type { MetadataProvider } from "../context/types.ts";
import type { LogSink } from "../status/log.ts";

export type PreemptionProvider = MetadataProvider | null;

export interface PreemptionNotice {
  provider: "ec2" | "gce";
  /** One line for the log and the shutdown message: `EC2 spot interruption: terminate at …`. */
  text: string;
  /** When the provider will act (ISO 8601), where it says so (EC2). */
  at?: string;
}

/** setTimeout/clearTimeout, injectable so tests drive the polls. */
export interface PreemptionTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PreemptionWatchOptions {
  provider: PreemptionProvider;
  /** The metadata base URL the context used (http://169.254.169.254 or --metadata-url). */
  baseUrl: string;
  /** The GCE metadata base URL (http://metadata.google.internal or --metadata-url). */
  gceBaseUrl: string;
  /** Pause between polls; 5000 ms when absent. */
  intervalMs?: number;
  onNotice(n: PreemptionNotice): void;
  log: LogSink;
  /** Milliseconds clock for the IMDSv2 token's age; Date.now when absent. */
  now?: () => number;
  timers?: PreemptionTimers;
  /** Aborting it stops the watch (same as stop()). */
  signal?: AbortSignal;
  /** Per-request limits; connect 1 s and total 2 s when absent (link-local answers fast or not at all). */
  connectTimeoutMs?: number;
  timeoutMs?: number;
  /** The HTTP client; httpRequest when absent. */
  http?: (req: HttpRequest) => Promise<HttpResponse>;
}

export interface PreemptionWatch {
  start(): void;
  stop(): void;
}

export const DEFAULT_PREEMPTION_INTERVAL_MS = 5000;

const TOKEN_TTL_SECONDS = 21600;
/** A token is replaced this long before it expires, so no poll ever carries a stale one. */
const TOKEN_REFRESH_MARGIN_MS = 10 * 60 * 1000;
/** After the service refused to issue a token, IMDSv1 is used and a token asked for again this much later. */
const TOKEN_RETRY_MS = 5 * 60 * 1000;
const SPOT_ACTIONS = new Set(["terminate", "stop", "hibernate"]);
const MAX_BODY_BYTES = 64 * 1024;

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const defaultTimers: PreemptionTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The watch must not keep the agent alive on its own.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What one poll found: a notice, nothing, or why it could not tell. */
type PollResult = { notice: PreemptionNotice } | { none: true } | { failed: string };

export function createPreemptionWatch(o: PreemptionWatchOptions): PreemptionWatch {
  const intervalMs = o.intervalMs ?? DEFAULT_PREEMPTION_INTERVAL_MS;
  const timers = o.timers ?? defaultTimers;
  const now = o.now ?? Date.now;
  const http = o.http ?? httpRequest;
  const limits = { connectTimeoutMs: o.connectTimeoutMs ?? 1000, timeoutMs: o.timeoutMs ?? 2000, maxBytes: MAX_BODY_BYTES };
  const base = o.baseUrl.replace(/\/+$/, "");
  const gceBase = o.gceBaseUrl.replace(/\/+$/, "");

  let running = false;
  let fired = false;
  let handle: unknown = null;
  const reported = new Set<string>();
  let token: { value: string; refreshAt: number } | null = null;
  let tokenRetryAt = 0;

  const failedOnce = (reason: string): void => {
    if (reported.has(reason)) return;
    reported.add(reason);
    o.log.warn(`preemption watch: ${reason} (logged once; polling goes on)`, { provider: o.provider });
  };

  const request = async (req: Omit<HttpRequest, "connectTimeoutMs" | "timeoutMs">): Promise<HttpResponse | { error: string }> => {
    try {
      return await http({ ...req, ...limits });
    } catch (err) {
      return { error: err instanceof HttpError ? err.message : `${req.url}: ${errText(err)}` };
    }
  };

  /** A valid IMDSv2 token, or null to use IMDSv1 for this poll. */
  async function imdsToken(): Promise<string | null> {
    const t = now();
    if (token && t < token.refreshAt) return token.value;
    token = null;
    if (t < tokenRetryAt) return null;
    const res = await request({
      method: "PUT",
      url: `${base}/latest/api/token`,
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": String(TOKEN_TTL_SECONDS) },
    });
    const value = "error" in res || res.status !== 200 ? "" : res.text().trim();
    if (!/^[\x21-\x7e]{1,1024}$/.test(value)) {
      // Vac answers 501, IMDS with tokens disabled 403/404/405: IMDSv1 it is, for a while.
      tokenRetryAt = t + TOKEN_RETRY_MS;
      return null;
    }
    token = { value, refreshAt: t + TOKEN_TTL_SECONDS * 1000 - TOKEN_REFRESH_MARGIN_MS };
    return value;
  }

  async function pollEc2(): Promise<PollResult> {
    const url = `${base}/latest/meta-data/spot/instance-action`;
    const t = await imdsToken();
    const res = await request({ url, headers: t ? { "X-aws-ec2-metadata-token": t } : {} });
    if ("error" in res) return { failed: res.error };
    if (res.status === 404) return { none: true };
    if (res.status === 401) {
      // A token the service no longer accepts (or v2 is now required): ask for a new one next time.
      token = null;
      tokenRetryAt = 0;
      return { failed: `${url} answered 401 Unauthorized${t ? " to our IMDSv2 token" : " (an IMDSv2 token is required)"}` };
    }
    if (res.status !== 200) return { failed: `${url} answered HTTP ${res.status}` };
    let doc: unknown;
    try {
      doc = JSON.parse(res.text());
    } catch {
      return { failed: `${url} answered 200 with something that is not JSON` };
    }
    const { action, time } = (doc ?? {}) as { action?: unknown; time?: unknown };
    if (typeof action !== "string" || !SPOT_ACTIONS.has(action)) {
      return { failed: `${url} answered 200 without an action of terminate, stop or hibernate` };
    }
    const at = typeof time === "string" && /^[0-9TZ:.+-]{10,40}$/.test(time) ? time : undefined;
    return { notice: { provider: "ec2", text: `EC2 spot interruption: ${action}${at ? ` at ${at}` : ""}`, ...(at ? { at } : {}) } };
  }

  async function pollGce(): Promise<PollResult> {
    const url = `${gceBase}/computeMetadata/v1/instance/preempted`;
    const res = await request({ url, headers: { "Metadata-Flavor": "Google" } });
    if ("error" in res) return { failed: res.error };
    if (res.status !== 200) return { failed: `${url} answered HTTP ${res.status}` };
    const body = res.text().trim().toUpperCase();
    if (body === "TRUE") return { notice: { provider: "gce", text: "GCE instance preempted" } };
    if (body === "FALSE") return { none: true };
    return { failed: `${url} answered 200 with neither TRUE nor FALSE` };
  }

  async function poll(): Promise<void> {
    handle = null;
    if (!running) return;
    let result: PollResult;
    try {
      result = o.provider === "ec2" ? await pollEc2() : await pollGce();
    } catch (err) {
      result = { failed: `poll failed: ${errText(err)}` };
    }
    if (!running) return;
    if ("notice" in result) {
      fired = true;
      running = false;
      o.log.warn(`preemption notice: ${result.notice.text}`, { provider: result.notice.provider, ...(result.notice.at ? { at: result.notice.at } : {}) });
      try {
        o.onNotice(result.notice);
      } catch (err) {
        o.log.error(`preemption watch: the notice handler failed: ${errText(err)}`);
      }
      return;
    }
    if ("failed" in result) failedOnce(result.failed);
    handle = timers.setTimeout(() => void poll(), intervalMs);
  }

  const stop = (): void => {
    running = false;
    if (handle !== null) timers.clearTimeout(handle);
    handle = null;
  };

  return {
    start() {
      if (running || fired) return;
      if (o.provider !== "ec2" && o.provider !== "gce") {
        o.log.info(`preemption watch: not polling (${o.provider ?? "no metadata service"} announces no preemption)`);
        return;
      }
      if (o.signal?.aborted) return;
      o.signal?.addEventListener("abort", stop, { once: true });
      running = true;
      const what = o.provider === "ec2" ? `${base}/latest/meta-data/spot/instance-action` : `${gceBase}/computeMetadata/v1/instance/preempted`;
      o.log.info(`preemption watch: polling ${what} every ${intervalMs} ms`);
      handle = timers.setTimeout(() => void poll(), 0);
    },
    stop,
  };
}
