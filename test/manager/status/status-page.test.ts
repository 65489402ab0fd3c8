// The HTML page on its own: what each cell shows, the filter links and form, and escaping of
// everything a VM or a URL can put there. test/blackbox/manager-status-browser.test.ts looks at the
// same page in chromium.
import { describe, expect, it } from "vitest";
import type { StatusDoc } from "../../../src/manager/status/status-doc.ts";
import { statusPage } from "../../../src/manager/status/status-page.ts";
import { parseStatusQuery } from "../../../src/manager/status/status-query.ts";
import type { VmStatus } from "../../../src/manager/status/vm-status.ts";

const vm = (v: Partial<VmStatus> & { vmId: string }): VmStatus => ({
  machinetype: "mt-a",
  space: null,
  hostname: null,
  state: "running",
  firstSeen: "2026-03-01T10:00:00.000Z",
  lastHeartbeat: "2026-03-01T10:00:00.000Z",
  heartbeatAgeSeconds: 30,
  staleAfterSeconds: 600,
  shutdownMessage: null,
  shutdownCode: null,
  outputs: 0,
  dn: null,
  timeline: [],
  ...v,
});

const doc = (vms: VmStatus[], extra: Partial<StatusDoc> = {}): StatusDoc => ({
  generatedAt: "2026-03-01T10:10:00.000Z",
  filter: { machinetype: null, state: null },
  total: vms.length,
  shown: vms.length,
  counts: {
    all: 5,
    states: { starting: 1, running: 2, stale: 1, finished: 1 },
    machinetypes: { "mt-a": { starting: 1, running: 2, stale: 0, finished: 1 }, "mt-b": { starting: 0, running: 0, stale: 1, finished: 0 } },
  },
  vms,
  ...extra,
});
const page = (d: StatusDoc, qs = "") => statusPage(d, parseStatusQuery(new URLSearchParams(qs)));
const row = (html: string, id: string) => new RegExp(`<tr class="vm" data-vm="${id}"[^]*?</tr>(?=\\n|$)`).exec(html)?.[0] ?? "";

const HOSTILE = [`<script>alert(1)</script>`, `"><img src=x onerror=alert(2)>`, `'><iframe src="https://evil.example/">`, `</textarea><svg onload=alert(3)>`];

describe("status page", () => {
  it.each(HOSTILE)("escapes %s wherever a VM or the URL can put it", (bad) => {
    const html = page(
      doc([vm({ vmId: "vm-1", space: bad, hostname: bad, dn: `/CN=${bad}`, state: "finished", shutdownMessage: `600 ${bad}`, shutdownCode: 600, timeline: [{ stage: bad, state: bad, durationMs: 5, at: null, error: bad }] })], {
        counts: { all: 1, states: { starting: 0, running: 0, stale: 0, finished: 1 }, machinetypes: { [bad]: { starting: 0, running: 0, stale: 0, finished: 1 } } },
      }),
      new URLSearchParams({ machinetype: bad, state: bad }).toString(),
    );
    // The only elements are the page's own: no script, image, frame or svg, and no event handler attribute.
    expect(html).not.toMatch(/<(script|img|iframe|svg|textarea)\b/i);
    // Quoted attribute values cannot hide an attribute: esc() turns every " into &quot;.
    expect(html.replace(/="[^"]*"/g, '=""')).not.toMatch(/<[^>]*\son\w+=/i);
    const escaped = bad.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
    expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(8);
  });

  it("loads nothing from anywhere: no script, stylesheet link, image or absolute URL", () => {
    const html = page(doc([vm({ vmId: "vm-1", timeline: [{ stage: "layout", state: "ok", durationMs: 3, at: null, error: null }] })]));
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(|@import/i);
    expect(html).not.toMatch(/(href|action)="(https?:)?\/\//i);
  });

  it("a row: space, machinetype, id with host name and DN, state, heartbeat age, code and message, timeline", () => {
    const html = page(
      doc([
        vm({
          vmId: "vm-1",
          space: "vac01.example.org",
          hostname: "vm-01.example.org",
          dn: "/DC=org/CN=host-01",
          state: "finished",
          heartbeatAgeSeconds: 7500,
          shutdownMessage: "700 Payload command exited with code 3",
          shutdownCode: 700,
          timeline: [{ stage: "layout", state: "ok", durationMs: 3, at: null, error: null }],
        }),
      ]),
    );
    const r = row(html, "vm-1");
    expect(r).toContain('data-machinetype="mt-a" data-state="finished"');
    expect(r).toContain('<td class="space">vac01.example.org</td><td class="machinetype">mt-a</td>');
    expect(r).toContain('<code>vm-1</code><div class="sub">vm-01.example.org</div><div class="sub dn">/DC=org/CN=host-01</div>');
    expect(r).toContain('<span class="state finished">finished</span>');
    expect(r).toContain(">2 h 5 min ago</td>");
    expect(r).toContain('<td class="message" title="700 Payload command exited with code 3"><span class="code" title="agent-problem: Error related to job agent or application within VM">700</span> Payload command exited with code 3');
    expect(r).toContain('<span class="seg ok" style="flex-grow:3" title="layout: ok, 3 ms">');
  });

  it.each([
    [{ state: "stale", heartbeatAgeSeconds: 4000 }, /<td class="hb stale" title="[^"]*older than heartbeat_seconds \(600 s\)[^"]*">1 h 6 min ago <span class="flag">⚠ stale<\/span><\/td>/],
    [{ state: "running", heartbeatAgeSeconds: 42 }, /<td class="hb" title="2026-03-01T10:00:00.000Z">42 s ago<\/td>/],
    [{ state: "starting", heartbeatAgeSeconds: null, lastHeartbeat: null }, /<td class="hb"><span class="none">none yet<\/span><\/td>/],
  ] as const)("heartbeat cell %j", (v, want) => expect(row(page(doc([vm({ vmId: "vm-1", ...v })])), "vm-1")).toMatch(want));

  it.each([
    ["200 Payload completed", 200, '<span class="code good" title="success: Intended work completed ok">200</span> Payload completed'],
    ["300 No more work", 300, '<span class="code quiet" title="no-work: No more work available from task queue">300</span> No more work'],
    ["999 odd", 999, '<span class="code" title="not a TN04 code">999</span> odd'],
    ["garbage", null, '<span class="unparsable">no code:</span> garbage'],
  ] as const)("shutdown_message %s", (message, code, want) => {
    expect(row(page(doc([vm({ vmId: "vm-1", state: "finished", shutdownMessage: message, shutdownCode: code })])), "vm-1")).toContain(`<td class="message" title="${message}">${want}</td>`);
  });

  it("counts: machinetypes by state with totals, each non-zero count a link keeping the other parameters", () => {
    const html = page(doc([]), "state=running&refresh=0");
    const counts = /<table class="counts"[^]*?<\/table>/.exec(html)![0];
    expect(counts).toContain('<th><a href="status?machinetype=mt-a&amp;refresh=0">mt-a</a></th>');
    expect(counts).toContain('<td class="current"><a href="status?state=running&amp;refresh=0">2</a></td>');
    expect(counts).toContain('<td><a href="status?machinetype=mt-a&amp;state=running&amp;refresh=0">2</a></td>');
    expect(counts).toContain('<td><span class="zero">0</span></td>');
    expect(counts).toContain('<td><a href="status?machinetype=mt-b&amp;refresh=0">1</a></td></tr>');
    expect(counts).toContain('<th><a href="status?refresh=0">all</a></th>');
    expect(counts).toContain('<td><a href="status?refresh=0">5</a></td></tr></tfoot>');
  });

  it("the filter form: GET to the page, the current filters selected, the other parameters kept", () => {
    const html = page(doc([]), "machinetype=mt-b&state=stale&limit=20&refresh=0");
    const form = /<form[^]*?<\/form>/.exec(html)![0];
    expect(form).toContain('<form class="filters" method="get" action="status">');
    expect(form).toContain('<option value="mt-b" selected>mt-b</option>');
    expect(form).toContain('<option value="stale" selected>stale</option>');
    expect(form).toContain('<input type="hidden" name="limit" value="20"><input type="hidden" name="refresh" value="0">');
    expect(form).toContain('<a href="status?limit=20&amp;refresh=0">clear</a>');
    // A value the URL names but nobody knows stays selectable, so the form says what the page shows.
    expect(page(doc([]), "machinetype=gone")).toContain('<option value="gone" selected>gone</option>');
  });

  it.each([
    ["", /<meta http-equiv="refresh" content="30">/, /reloads every 30 s \(<a href="status\?refresh=0">stop<\/a>\)/],
    ["refresh=0", /^(?![^]*http-equiv)/, /not reloading \(<a href="status">reload every 30 s<\/a>\)/],
    ["refresh=120&state=stale", /<meta http-equiv="refresh" content="120">/, /<a href="status\.json\?state=stale" id="json">JSON<\/a>/],
  ])("refresh and links for ?%s", (qs, a, b) => {
    const html = page(doc([]), qs);
    expect(html).toMatch(a);
    expect(html).toMatch(b);
    expect(html).toContain('<a href="metrics" id="metrics">metrics</a>');
  });

  it.each([
    [doc([], { total: 0, counts: { all: 0, states: { starting: 0, running: 0, stale: 0, finished: 0 }, machinetypes: {} } }), "no VM has reported yet"],
    [doc([], { total: 0 }), "no VM matches the filter"],
    [doc([vm({ vmId: "a" })], { total: 700, shown: 1 }), '1 of 700 VMs, newest activity first (only the newest 1: narrow the filters or raise <a href="status?limit=700">limit</a>)'],
  ])("the line under the counts: %#", (d, text) => expect(page(d)).toContain(text));
});
