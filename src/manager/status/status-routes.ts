// /status.json, /status (an HTML page of the same) and /metrics (Prometheus). Lists are newest
// activity first, at most `limit` VMs (default 500), filtered by ?machinetype= and ?state=; only the
// VMs listed have their job outputs read for space, host name and timeline. None of it holds a
// token. The page loads nothing and runs no script, and its Content-Security-Policy says so: if a
// value ever escaped esc(), the browser would still refuse to run or fetch what it injected.

import type { Route } from "../serve/app.ts";
import type { Content } from "../serve/content.ts";
import type { VmRegistry } from "../vm/vm-registry.ts";
import { metricsText, type RequestCounters } from "./metrics.ts";
import { statusDoc } from "./status-doc.ts";
import { statusPage } from "./status-page.ts";
import { parseStatusQuery, queryString } from "./status-query.ts";
import { createDetailsReader } from "./vm-details.ts";

export interface StatusOptions {
  registry: VmRegistry | null;
  stateDir: string | null;
  content: () => Content;
  requests: RequestCounters;
  reloads: () => { ok: number; refused: number };
  now?: () => number;
}

/** Inline styles only; no script, image, font, frame or fetch; forms submit to this manager only. */
export const STATUS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export function statusRoutes(o: StatusOptions): Route {
  const now = o.now ?? Date.now;
  const details = o.stateDir ? createDetailsReader(o.stateDir) : null;

  return async (req, path) => {
    if (path !== "/status.json" && path !== "/status" && path !== "/status/" && path !== "/metrics") return null;
    if (req.method !== "GET" && req.method !== "HEAD") return new Response(null, { status: 405, headers: { allow: "GET, HEAD", "content-length": "0" } });
    const url = new URL(req.url);
    const headers: Record<string, string> = { "cache-control": "no-store", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
    let body: string;
    if (path === "/status/") {
      // The page's links are relative to /status.
      const q = queryString(parseStatusQuery(url.searchParams));
      return new Response(null, { status: 301, headers: { ...headers, location: `../status${q}`, "content-length": "0" } });
    } else if (path === "/metrics") {
      body = metricsText({ registry: o.registry, content: o.content(), requests: o.requests, reloads: o.reloads(), now: now() });
      headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
    } else {
      const query = parseStatusQuery(url.searchParams);
      const doc = await statusDoc({ registry: o.registry, content: o.content(), details, now: now(), query });
      if (path === "/status.json") {
        body = JSON.stringify(doc, null, 1) + "\n";
        headers["content-type"] = "application/json";
      } else {
        body = statusPage(doc, query);
        headers["content-type"] = "text/html; charset=utf-8";
        headers["content-security-policy"] = STATUS_PAGE_CSP;
      }
    }
    const bytes = Buffer.from(body, "utf8");
    headers["content-length"] = String(bytes.length);
    return new Response(req.method === "HEAD" ? null : bytes, { status: 200, headers });
  };
}
