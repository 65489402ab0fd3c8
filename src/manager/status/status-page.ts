// /status: the VMs as an operator reads them. At the top the counts by machinetype and state, each
// a link that filters the list; a form with the same filters; then one row per VM (space,
// machinetype, VM id, state, heartbeat age with stale ones flagged, shutdown_message with its code,
// boot timeline). Static HTML: every filter is a link or a GET form kept in the URL, the page
// reloads itself with a <meta> refresh, it loads nothing else (styles inline) and runs no script;
// every value a VM sent goes through esc().

import { CODES, type ShutdownCode } from "../../contract/codes.ts";
import { ageText } from "./human-duration.ts";
import { esc } from "./html-escape.ts";
import type { StatusDoc } from "./status-doc.ts";
import { DEFAULT_LIMIT, DEFAULT_REFRESH, queryString, type StatusQuery } from "./status-query.ts";
import { timelineHtml } from "./timeline-html.ts";
import { VM_STATES, type VmStatus } from "./vm-status.ts";

/** The page's own address, relative, so the links work behind a reverse proxy's path prefix too. */
const PAGE = "status";
const href = (q: StatusQuery, change: Partial<StatusQuery> = {}): string => esc(`${PAGE}${queryString(q, change)}`);

const STYLE = `body{font-family:system-ui,sans-serif;margin:1em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}a{color:#0645ad}.meta,.sub,.none{color:#666;font-size:small}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25em .5em;vertical-align:top;text-align:left}
thead th{background:#f4f4f4}td.machinetype,td.hb,td.vm code{white-space:nowrap}td.num,table.counts td{text-align:right}
table.counts{margin:.5em 0}table.counts .current{background:#fff3c4;font-weight:bold}.zero{color:#bbb}
form.filters{margin:.6em 0}form.filters label{margin-right:.8em}
.state{display:inline-block;padding:0 .5em;border-radius:.7em;font-size:small;font-weight:bold;color:#fff}
.state.starting{background:#1565c0}.state.running{background:#2e7d32}.state.stale{background:#e65100}.state.finished{background:#616161}
td.hb.stale{color:#b71c1c;font-weight:bold}.flag{font-weight:normal;font-size:small}
.code{display:inline-block;padding:0 .35em;border-radius:.3em;font-weight:bold;color:#fff;background:#b71c1c}.code.good{background:#2e7d32}.code.quiet{background:#757575}
.unparsable{color:#b71c1c;font-size:small}td.message{max-width:28em;word-break:break-word}
.bar{display:flex;width:14em;height:.8em;background:#eee;border-radius:.2em;overflow:hidden}
.seg{flex-basis:3px;flex-shrink:0;border-right:1px solid #fff}.seg.ok{background:#43a047}.seg.failed{background:#d32f2f}
.seg.skipped{background:#bdbdbd}.seg.degraded{background:#fb8c00}.seg.running{background:#1e88e5;flex-basis:10px}.seg.other{background:#8e24aa}
details summary{cursor:pointer;font-size:small}table.stages{font-size:small;margin-top:.2em}
table.stages tr.failed td{color:#b71c1c}td.err{max-width:20em;word-break:break-word}`;

export function statusPage(doc: StatusDoc, q: StatusQuery): string {
  const refresh = q.refresh > 0 ? `<meta http-equiv="refresh" content="${q.refresh}">` : "";
  const refreshNote =
    q.refresh > 0
      ? `reloads every ${q.refresh} s (<a href="${href(q, { refresh: 0 })}">stop</a>)`
      : `not reloading (<a href="${href(q, { refresh: DEFAULT_REFRESH })}">reload every ${DEFAULT_REFRESH} s</a>)`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${refresh}<meta name="viewport" content="width=device-width">
<title>vacuum manager: VMs</title><style>${STYLE}</style></head>
<body><h1>VMs</h1>
<p class="meta">at ${esc(doc.generatedAt)} · ${refreshNote} · <a href="${esc(`status.json${queryString(q, { refresh: DEFAULT_REFRESH })}`)}" id="json">JSON</a> · <a href="metrics" id="metrics">metrics</a></p>
${countsTable(doc, q)}
${filterForm(doc, q)}
<p id="shown">${shownLine(doc, q)}</p>
<table class="vms"><thead><tr><th>space</th><th>machinetype</th><th>VM</th><th>state</th><th>last heartbeat</th><th>shutdown_message</th><th>boot timeline</th></tr></thead>
<tbody>
${doc.vms.length ? doc.vms.map(vmRow).join("\n") : `<tr class="empty"><td colspan="7">no VM ${doc.total === doc.counts.all ? "has reported yet" : "matches the filter"}</td></tr>`}
</tbody></table></body></html>
`;
}

/** Machinetypes by states, with totals; every non-zero count is a link filtering the list to it. */
function countsTable(doc: StatusDoc, q: StatusQuery): string {
  const cell = (n: number, change: Partial<StatusQuery>, current: boolean): string => {
    const cls = current ? ` class="current"` : "";
    return n === 0 ? `<td${cls}><span class="zero">0</span></td>` : `<td${cls}><a href="${href(q, change)}">${n}</a></td>`;
  };
  const isCurrent = (mt: string | null, st: string | null) => q.machinetype === mt && q.state === st;
  const head = VM_STATES.map((s) => `<th><a href="${href(q, { machinetype: null, state: s })}">${s}</a></th>`).join("");
  const rows = Object.entries(doc.counts.machinetypes)
    .map(([mt, c]) => {
      const total = VM_STATES.reduce((sum, s) => sum + c[s], 0);
      return `<tr><th><a href="${href(q, { machinetype: mt, state: null })}">${esc(mt)}</a></th>${VM_STATES.map((s) => cell(c[s], { machinetype: mt, state: s }, isCurrent(mt, s))).join("")}${cell(total, { machinetype: mt, state: null }, isCurrent(mt, null))}</tr>`;
    })
    .join("");
  const foot = `<tr><th><a href="${href(q, { machinetype: null, state: null })}">all</a></th>${VM_STATES.map((s) => cell(doc.counts.states[s], { machinetype: null, state: s }, isCurrent(null, s))).join("")}${cell(doc.counts.all, { machinetype: null, state: null }, isCurrent(null, null))}</tr>`;
  return `<table class="counts" id="counts"><thead><tr><th>machinetype</th>${head}<th>all</th></tr></thead><tbody>${rows}</tbody><tfoot>${foot}</tfoot></table>`;
}

/** The same filters as a GET form: works without JavaScript, and the result is a URL to keep. */
function filterForm(doc: StatusDoc, q: StatusQuery): string {
  const options = (values: readonly string[], selected: string | null): string =>
    `<option value="">all</option>` + values.map((v) => `<option value="${esc(v)}"${v === selected ? " selected" : ""}>${esc(v)}</option>`).join("");
  const types = Object.keys(doc.counts.machinetypes);
  // A filter value that names nothing known stays selectable, so the form shows what the URL says.
  if (q.machinetype !== null && !types.includes(q.machinetype)) types.push(q.machinetype);
  const states: string[] = [...VM_STATES];
  if (q.state !== null && !states.includes(q.state)) states.push(q.state);
  const hidden = [q.limit !== DEFAULT_LIMIT ? `<input type="hidden" name="limit" value="${q.limit}">` : "", q.refresh !== DEFAULT_REFRESH ? `<input type="hidden" name="refresh" value="${q.refresh}">` : ""].join("");
  return `<form class="filters" method="get" action="${PAGE}"><label>machinetype <select name="machinetype">${options(types, q.machinetype)}</select></label><label>state <select name="state">${options(states, q.state)}</select></label>${hidden}<button type="submit">filter</button> <a href="${href(q, { machinetype: null, state: null })}">clear</a></form>`;
}

function shownLine(doc: StatusDoc, q: StatusQuery): string {
  const filter = [q.machinetype !== null ? `machinetype ${esc(q.machinetype)}` : "", q.state !== null ? `state ${esc(q.state)}` : ""].filter(Boolean).join(", ");
  let line = `${doc.shown} of ${doc.total} VM${doc.total === 1 ? "" : "s"}${filter ? ` with ${filter}` : ""}, newest activity first`;
  if (doc.shown < doc.total) line += ` (only the newest ${doc.shown}: narrow the filters or raise <a href="${href(q, { limit: Math.min(doc.total, 10_000) })}">limit</a>)`;
  return line;
}

function vmRow(v: VmStatus): string {
  const vm = `<code>${esc(v.vmId)}</code>${v.hostname ? `<div class="sub">${esc(v.hostname)}</div>` : ""}${v.dn ? `<div class="sub dn">${esc(v.dn)}</div>` : ""}`;
  return `<tr class="vm" data-vm="${esc(v.vmId)}" data-machinetype="${esc(v.machinetype)}" data-state="${esc(v.state)}"><td class="space">${esc(v.space ?? "")}</td><td class="machinetype">${esc(v.machinetype)}</td><td class="vm" title="first seen ${esc(v.firstSeen)}">${vm}</td><td><span class="state ${esc(v.state)}">${esc(v.state)}</span></td>${heartbeatCell(v)}<td class="message"${v.shutdownMessage === null ? "" : ` title="${esc(v.shutdownMessage)}"`}>${messageHtml(v)}</td><td class="timeline">${timelineHtml(v.timeline)}</td></tr>`;
}

function heartbeatCell(v: VmStatus): string {
  if (v.heartbeatAgeSeconds === null) return `<td class="hb"><span class="none">none yet</span></td>`;
  const age = `${esc(ageText(v.heartbeatAgeSeconds))} ago`;
  if (v.state !== "stale") return `<td class="hb" title="${esc(v.lastHeartbeat)}">${age}</td>`;
  return `<td class="hb stale" title="${esc(v.lastHeartbeat)}: older than heartbeat_seconds (${v.staleAfterSeconds} s), Vac and Vcycle destroy such a VM">${age} <span class="flag">⚠ stale</span></td>`;
}

function messageHtml(v: VmStatus): string {
  if (v.shutdownMessage === null) return "";
  if (v.shutdownCode === null) return `<span class="unparsable">no code:</span> ${esc(v.shutdownMessage)}`;
  const info = (CODES as Partial<Record<number, (typeof CODES)[ShutdownCode]>>)[v.shutdownCode];
  const cls = v.shutdownCode === 100 || v.shutdownCode === 200 ? " good" : v.shutdownCode === 300 ? " quiet" : "";
  const title = info ? `${info.name}: ${info.phrase}` : "not a TN04 code";
  return `<span class="code${cls}" title="${esc(title)}">${v.shutdownCode}</span> ${esc(v.shutdownMessage.slice(4))}`;
}
