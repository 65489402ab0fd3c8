// The proxy probe against a real squid (Debian's) in front of a stand-in stratum-1, with dead
// proxies on closed loopback ports. Everything listens on 127.0.0.1 and is started here.

import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgeProbes, manifestProblem, manifestUrls, probeProxies } from "../../src/cvmfs/probe.ts";
import { parseProxySpec, type ProxySpec } from "../../src/cvmfs/proxy-spec.ts";
import { startSquid, squidMissing, type Squid } from "../support/squid.ts";
import { closedPort, manifest, startStratumOne, type StratumOne } from "../support/stratum-one.ts";

const spec = (text: string): ProxySpec => {
  const r = parseProxySpec(text);
  if (!r.spec) throw new Error(JSON.stringify(r.problems));
  return r.spec;
};

describe("manifestUrls", () => {
  it("replaces @fqrn@, server by server, repository by repository, each once", () => {
    expect(manifestUrls(["a.org", "b.org"], ["http://s1/cvmfs/@fqrn@/", "http://s2:8000/cvmfs/@fqrn@", "http://s1/cvmfs/@fqrn@"])).toEqual([
      "http://s1/cvmfs/a.org/.cvmfspublished",
      "http://s1/cvmfs/b.org/.cvmfspublished",
      "http://s2:8000/cvmfs/a.org/.cvmfspublished",
      "http://s2:8000/cvmfs/b.org/.cvmfspublished",
    ]);
  });
});

describe("manifestProblem", () => {
  it.each([
    ["a real-looking manifest", manifest("grid.cern.ch"), null],
    ["an HTML page", Buffer.from("<!DOCTYPE html><html>Welcome to the hotel network</html>"), "an HTML page, not a CVMFS manifest"],
    ["no C line first", Buffer.from("B1234\nCabc\n--\n" + "a".repeat(40) + "\n"), "no C line (catalog hash) first"],
    ["no -- line", Buffer.from("C" + "0".repeat(40) + "\nNgrid.cern.ch\n"), 'no "--" line before the signature'],
    ["nothing after --", Buffer.from("C" + "0".repeat(40) + "\n--\n"), 'no hash and signature after the "--" line'],
    ["empty", Buffer.alloc(0), "no C line"],
  ])("%s", (_n, body, problem) => {
    const found = manifestProblem(body);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe("judgeProbes", () => {
  const dead = { proxy: "http://a:1", ok: false, ms: 1, reason: "connection refused", url: null };
  const live = { proxy: "http://b:2", ok: true, ms: 12, reason: null, url: "http://s/x" };
  it.each([
    ["one usable, one not", "http://a:1;http://b:2", [dead, live], true, "CVMFS proxies usable: http://b:2 (12 ms); unusable: http://a:1 (connection refused)"],
    ["all usable", "http://b:2", [live], true, "CVMFS proxies usable: http://b:2 (12 ms)"],
    ["none usable", "http://a:1", [dead], false, "No usable CVMFS proxy: http://a:1 (connection refused)"],
    ["none usable, but auto may find one", "http://a:1;auto", [dead], true, "no configured CVMFS proxy answered, left to auto (PAC URLs): http://a:1 (connection refused)"],
    ["only auto", "auto", [], true, "no CVMFS proxy to probe (only auto: the client reads the PAC URLs)"],
  ])("%s", (_n, text, probes, ok, message) => {
    const v = judgeProbes(spec(text), probes);
    expect(v.ok).toBe(ok);
    expect(v.message).toBe(message);
  });
});

describe("probeProxies without squid", () => {
  let s1: StratumOne;
  let portal: StratumOne;
  let silent: Server;
  let silentPort: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s1 = await startStratumOne({ repositories: ["grid.cern.ch"] });
    portal = await startStratumOne({ repositories: ["grid.cern.ch"], body: "<html><body>Please log in</body></html>" });
    // Accepts connections and never answers: a hung proxy.
    silent = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    silentPort = (silent.address() as AddressInfo).port;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => silent.close(() => r()));
    await s1.close();
    await portal.close();
  });

  it("DIRECT fetches the manifest from the server itself", async () => {
    const [p] = await probeProxies(spec("DIRECT"), ["grid.cern.ch"], [s1.serverUrl]);
    expect(p).toMatchObject({ proxy: "DIRECT", ok: true, reason: null, url: `${s1.url}/cvmfs/grid.cern.ch/.cvmfspublished` });
    expect(p!.ms).toBeGreaterThanOrEqual(0);
  });

  it("DIRECT goes on to the next server when one is down", async () => {
    const down = await closedPort();
    const [p] = await probeProxies(spec("DIRECT"), ["grid.cern.ch"], [`http://127.0.0.1:${down}/cvmfs/@fqrn@`, s1.serverUrl]);
    expect(p).toMatchObject({ ok: true, url: `${s1.url}/cvmfs/grid.cern.ch/.cvmfspublished` });
  });

  it("a hung proxy is given up after the total timeout, and not asked for the next server", async () => {
    const before = sockets.length;
    const [p] = await probeProxies(spec(`http://127.0.0.1:${silentPort}`), ["grid.cern.ch"], [s1.serverUrl, s1.serverUrl.replace("@fqrn@", "x/@fqrn@")], { totalTimeoutMs: 300 });
    expect(p).toMatchObject({ ok: false, reason: "no answer within 300 ms", url: null });
    expect(p!.ms).toBeGreaterThanOrEqual(290);
    // One connection: the proxy itself is down, so the second server is not tried through it.
    expect(sockets.length - before).toBe(1);
  });

  it("a 200 page that is no manifest (a captive portal) is unusable", async () => {
    const [p] = await probeProxies(spec("DIRECT"), ["grid.cern.ch"], [portal.serverUrl]);
    expect(p).toMatchObject({ ok: false, reason: `${portal.url}/cvmfs/grid.cern.ch/.cvmfspublished: an HTML page, not a CVMFS manifest` });
  });

  it("a repository the server does not have is a 404", async () => {
    const [p] = await probeProxies(spec("DIRECT"), ["lhcb.cern.ch"], [s1.serverUrl]);
    expect(p).toMatchObject({ ok: false, reason: `HTTP 404 for ${s1.url}/cvmfs/lhcb.cern.ch/.cvmfspublished` });
  });

  it("probes nothing for auto alone", async () => {
    expect(await probeProxies(spec("auto"), ["grid.cern.ch"], [s1.serverUrl])).toEqual([]);
  });
});

describe.skipIf(squidMissing() !== null)(`probeProxies through a real squid${squidMissing() ? ` (skipped: ${squidMissing()})` : ""}`, () => {
  let squid: Squid;
  let s1: StratumOne;
  let dead: number;
  let dead2: number;
  beforeAll(async () => {
    // The origin first: squid answers 503 for requests made before it listens (services.md).
    s1 = await startStratumOne({ repositories: ["grid.cern.ch", "lhcb.cern.ch"] });
    squid = await startSquid();
    dead = await closedPort();
    dead2 = await closedPort();
  });
  afterAll(async () => {
    await squid?.stop();
    await s1?.close();
  });

  it("reports the live squid usable and the dead proxy unusable with a reason", async () => {
    const text = `http://127.0.0.1:${dead}|${squid.url};DIRECT`;
    const probes = await probeProxies(spec(text), ["grid.cern.ch"], [s1.serverUrl]);
    expect(probes.map((p) => [p.proxy, p.ok, p.reason])).toEqual([
      [`http://127.0.0.1:${dead}`, false, "connection refused"],
      [squid.url, true, null],
      ["DIRECT", true, null],
    ]);
    // It really went through squid: the origin saw squid's Via header, squid logged the request.
    expect(s1.requests.some((r) => r.path === "/cvmfs/grid.cern.ch/.cvmfspublished" && /vacuum-test-proxy/.test(r.via ?? ""))).toBe(true);
    await expect.poll(() => squid.accessLog(), { timeout: 5000 }).toContain(`GET ${s1.url}/cvmfs/grid.cern.ch/.cvmfspublished`);
    const v = judgeProbes(spec(text), probes);
    expect(v.ok).toBe(true);
    expect(v.message).toMatch(new RegExp(`^CVMFS proxies usable: ${squid.url.replace(/[.]/g, "\\.")} \\(\\d+ ms\\), DIRECT \\(\\d+ ms\\); unusable: http://127\\.0\\.0\\.1:${dead} \\(connection refused\\)$`));
  });

  it("names squid's own error when the stratum-1 is down, and tries the next server through it", async () => {
    const down = await closedPort();
    const deadServer = `http://127.0.0.1:${down}/cvmfs/@fqrn@`;
    const [only] = await probeProxies(spec(squid.url), ["grid.cern.ch"], [deadServer]);
    expect(only).toMatchObject({ ok: false, url: null });
    expect(only!.reason).toMatch(new RegExp(`^HTTP 503 \\(ERR_CONNECT_FAIL 111\\) for http://127\\.0\\.0\\.1:${down}/cvmfs/grid\\.cern\\.ch/\\.cvmfspublished$`));
    const [next] = await probeProxies(spec(squid.url), ["grid.cern.ch"], [deadServer, s1.serverUrl]);
    expect(next).toMatchObject({ ok: true, url: `${s1.url}/cvmfs/grid.cern.ch/.cvmfspublished` });
  });

  it("every proxy dead: an error naming each", async () => {
    const text = `http://127.0.0.1:${dead}|http://127.0.0.1:${dead2}`;
    const probes = await probeProxies(spec(text), ["grid.cern.ch"], [s1.serverUrl]);
    const v = judgeProbes(spec(text), probes);
    expect(v.ok).toBe(false);
    expect(v.message).toBe(`No usable CVMFS proxy: http://127.0.0.1:${dead} (connection refused), http://127.0.0.1:${dead2} (connection refused)`);
    expect(v.unusable.map((p) => p.proxy)).toEqual([`http://127.0.0.1:${dead}`, `http://127.0.0.1:${dead2}`]);
  });

  it("probes all proxies in parallel", async () => {
    const s = await startStratumOne({ repositories: ["grid.cern.ch"] });
    const held: Socket[] = [];
    const hung = createServer((sock) => held.push(sock));
    await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
    const hungUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    try {
      const t0 = performance.now();
      const probes = await probeProxies(spec(`${hungUrl}|${hungUrl.replace("127.0.0.1", "localhost")};${squid.url}`), ["grid.cern.ch"], [s.serverUrl], { totalTimeoutMs: 1000 });
      const took = performance.now() - t0;
      expect(probes.map((p) => p.ok)).toEqual([false, false, true]);
      // Two hung proxies of 1 s each, one after the other, would take 2 s.
      expect(took).toBeLessThan(1800);
    } finally {
      held.forEach((sock) => sock.destroy());
      await new Promise<void>((r) => hung.close(() => r()));
      await s.close();
    }
  });
});
