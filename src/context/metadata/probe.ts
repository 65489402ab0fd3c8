// One metadata request = one recorded attempt. The probe wraps httpRequest with the metadata
// timeouts, turns every failure into a one-line reason (never a stack trace), and remembers
// origins that refused or did not accept a connection during the current round, so the next
// provider on the same address fails at once instead of waiting for the same timeout again.

import { STATUS_CODES } from "node:http";
import { httpRequest, HttpError, type HttpResponse } from "../../net/http-client.ts";
import type { MetadataAttempt, MetadataProvider } from "../types.ts";

export type ProbeAnswer = { res: HttpResponse; attempt: MetadataAttempt } | { error: string; connectFailed: boolean; attempt: MetadataAttempt | null };

export interface Probe {
  request(provider: MetadataProvider, url: string, init?: { method?: string; headers?: Record<string, string> }): Promise<ProbeAnswer>;
  /** Records an attempt that was not an HTTP request (config drive files). */
  record(attempt: MetadataAttempt): void;
}

export interface ProbeSettings {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  now: () => number;
}

/** A probe for one round of the provider sequence; attempts are appended to `attempts`. */
export function createProbe(settings: ProbeSettings, attempts: MetadataAttempt[]): Probe {
  const deadOrigins = new Map<string, string>();
  return {
    record: (attempt) => attempts.push(attempt),
    async request(provider, url, init = {}) {
      const origin = originOf(url);
      const dead = deadOrigins.get(origin);
      if (dead !== undefined) return { error: dead, connectFailed: true, attempt: null };
      const started = settings.now();
      const attempt: MetadataAttempt = { provider, url, outcome: "", durationMs: 0 };
      attempts.push(attempt);
      try {
        const res = await httpRequest({
          method: init.method ?? "GET",
          url,
          headers: init.headers ?? {},
          connectTimeoutMs: settings.connectTimeoutMs,
          timeoutMs: settings.requestTimeoutMs,
        });
        attempt.durationMs = settings.now() - started;
        attempt.outcome = `${statusText(res.status)} (${res.body.byteLength} bytes)`;
        return { res, attempt };
      } catch (err) {
        attempt.durationMs = settings.now() - started;
        const reason = err instanceof HttpError ? err.reason : "request failed";
        attempt.outcome = reason;
        const connectFailed = err instanceof HttpError && err.kind === "connect";
        if (connectFailed) deadOrigins.set(origin, reason);
        return { error: reason, connectFailed, attempt };
      }
    },
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** `404 Not Found` */
export function statusText(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? "unknown status"}`;
}

/** True when an answer is an HTML page: captive portals, proxies and error pages. */
export function isHtml(res: HttpResponse): boolean {
  if ((res.headers["content-type"] ?? "").toLowerCase().includes("text/html")) return true;
  const head = new TextDecoder().decode(res.body.subarray(0, 64)).trimStart().toLowerCase();
  return /^<(!doctype|html|head|body)/.test(head);
}

/** A JSON object from an answer, or the one-line reason it is not one. */
export function jsonObject(res: HttpResponse): { value: Record<string, unknown> } | { reason: string } {
  if (isHtml(res)) return { reason: "answered HTML where JSON was expected" };
  try {
    const value: unknown = JSON.parse(res.text());
    if (value && typeof value === "object" && !Array.isArray(value)) return { value: value as Record<string, unknown> };
    return { reason: "answered JSON that is not an object" };
  } catch {
    return { reason: "answered something that is not JSON" };
  }
}
