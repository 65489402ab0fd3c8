// /status.json, /status (an HTML page of the same) and /metrics (Prometheus). Lists are newest
// activity first, at most `limit` VMs (default 500), filtered by ?machinetype= and ?state=; only the
// VMs listed have their job outputs read for space, host name and timeline. None of it holds a
// token; the page is static HTML (no script), every value escaped.

import type { Route } from "../serve/app.ts";
import type { Content } from "../serve/content.ts";
import type { VmRegistry, VmRecord } from "../vm/vm-registry.ts";
import { metricsText, type RequestCounters } from "./metrics.ts";
import { createDetailsReader } from "./vm-details.ts";
import { lastActivity, VM_STATES, vmState, vmStatus, type VmStatus } from "./vm-status.ts";

export interface StatusOptions {
  registry: VmRegistry | null;
  stateDir: string | null;
  content: () => Content;
  requests: RequestCounters;
  reloads: () => { ok: number; refused: number };
  now?: () => number;
}

const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 10_000;

export function statusRoutes(o: StatusOptions): Route {
  const now = o.now ?? Date.now;
  const details = o.stateDir ? createDetailsReader(o.stateDir) : null;

  async function list(url: URL): Promise<{ total: number; vms: VmStatus[] }> {
    const content = o.content();
    const t = now();
    const mt = url.searchParams.get("machinetype");
    const state = url.searchParams.get("state");
    const limit = Math.min(MAX_LIMIT, Math.max(1, Number(url.searchParams.get("limit")) || DEFAULT_LIMIT));
    const picked: VmRecord[] = [];
    let total = 0;
    for (const r of o.registry?.all() ?? []) {
      if (mt !== null && r.machinetype !== mt) continue;
      if (state !== null && vmState(r, content, t) !== state) continue;
      total++;
      picked.push(r);
    }
    picked.sort((a, b) => lastActivity(b) - lastActivity(a));
    const shown = picked.slice(0, limit);
    const vms = await Promise.all(shown.map(async (r) => vmStatus(r, details ? await details(r) : { space: null, hostname: null, timeline: [] }, content, t)));
    return { total, vms };
  }

  return async (req, path) => {
    if (path !== "/status.json" && path !== "/status" && path !== "/status/" && path !== "/metrics") return null;
    if (req.method !== "GET" && req.method !== "HEAD") return new Response(null, { status: 405, headers: { allow: "GET, HEAD", "content-length": "0" } });
    const url = new URL(req.url);
    let body: string;
    let type: string;
    if (path === "/metrics") {
      body = metricsText({ registry: o.registry, content: o.content(), requests: o.requests, reloads: o.reloads(), now: now() });
      type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
      const { total, vms } = await list(url);
      const doc = { generatedAt: new Date(now()).toISOString(), total, shown: vms.length, vms };
      if (path === "/status.json") {
        body = JSON.stringify(doc, null, 1) + "\n";
        type = "application/json";
      } else {
        body = statusPage(doc, url);
        type = "text/html; charset=utf-8";
      }
    }
    const bytes = Buffer.from(body, "utf8");
    return new Response(req.method === "HEAD" ? null : bytes, { status: 200, headers: { "content-type": type, "content-length": String(bytes.length), "cache-control": "no-store" } });
  };
}

const esc = (v: unknown): string => String(v ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

const age = (s: number | null): string => (s === null ? "–" : s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);

export function statusPage(doc: { generatedAt: string; total: number; shown: number; vms: VmStatus[] }, url: URL): string {
  const filters = VM_STATES.map((s) => `<a href="?state=${s}">${s}</a>`).join(" · ");
  const rows = doc.vms
    .map((v) => {
      const timeline = v.timeline.map((t) => `<li class="${esc(t.state)}">${esc(t.stage)} ${t.durationMs === null ? "" : `${esc(t.durationMs)} ms`}</li>`).join("");
      return `<tr class="${esc(v.state)}" data-vm="${esc(v.vmId)}"><td>${esc(v.space)}</td><td>${esc(v.machinetype)}</td><td title="${esc(v.hostname)}">${esc(v.vmId)}</td><td class="state">${esc(v.state)}</td><td>${esc(age(v.heartbeatAgeSeconds))}</td><td class="message">${esc(v.shutdownMessage)}</td><td><ol class="timeline">${timeline}</ol></td></tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30"><title>vacuum manager: VMs</title>
<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top;text-align:left}
tr.stale td.state{color:#b00}tr.finished td.state{color:#555}tr.running td.state{color:#070}ol.timeline{margin:0;padding-left:1.2em;font-size:small}li.failed{color:#b00}</style></head>
<body><h1>VMs</h1><p>${esc(doc.shown)} of ${esc(doc.total)} shown${url.search ? ` (${esc(url.search)}) · <a href="?">all</a>` : ""} · ${filters} · at ${esc(doc.generatedAt)} · <a href="status.json${esc(url.search)}">JSON</a> · <a href="metrics">metrics</a></p>
<table><thead><tr><th>space</th><th>machinetype</th><th>VM</th><th>state</th><th>last heartbeat</th><th>shutdown_message</th><th>boot timeline</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
