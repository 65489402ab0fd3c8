import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeReadiness, performProbeCvmfs, performWaitPaths, planCvmfsReadiness, type ProbeCvmfsAction } from "../../src/cvmfs/readiness.ts";
import { makeContext } from "../support/context.ts";
import { startSquid, squidMissing, type Squid } from "../support/squid.ts";
import { closedPort, startStratumOne, type StratumOne } from "../support/stratum-one.ts";

describe("planCvmfsReadiness", () => {
  it.each([
    ["no repositories: nothing", {}, []],
    [
      "repositories only: nothing to probe without server URLs, nothing to wait for without wait_for",
      { repositories: ["grid.cern.ch", "lhcb.cern.ch"] },
      [],
    ],
    [
      "server URLs and wait_for: probe the written proxy list, then wait for the named paths",
      {
        repositories: ["grid.cern.ch"],
        http_proxy: "squid:3128;DIRECT",
        server_urls: ["http://s1/cvmfs/@fqrn@"],
        wait_for: ["/cvmfs/grid.cern.ch/etc/grid-security/certificates"],
        wait_seconds: 60,
      },
      [
        { kind: "probe-cvmfs", proxy: "http://squid:3128;DIRECT", repositories: ["grid.cern.ch"], serverUrls: ["http://s1/cvmfs/@fqrn@"], required: true, connectTimeoutMs: 2000, timeoutMs: 5000 },
        { kind: "wait-paths", paths: ["/cvmfs/grid.cern.ch/etc/grid-security/certificates"], timeoutMs: 60_000 },
      ],
    ],
  ])("%s", (_n, cvmfs, expected) => {
    const actions = planCvmfsReadiness(makeContext({ config: { cvmfs } }));
    expect(actions).toEqual(expected.map((e) => expect.objectContaining(e)));
  });

  it("has a dry-run line for each", () => {
    const actions = planCvmfsReadiness(makeContext({ config: { cvmfs: { repositories: ["grid.cern.ch"], server_urls: ["http://s1/cvmfs/@fqrn@"] } } }));
    expect(actions.flatMap(describeReadiness)).toEqual([
      "probe-cvmfs auto;DIRECT: each CVMFS proxy fetches a repository manifest from a stratum-1; the unusable ones are reported",
      "manifests of grid.cern.ch from http://s1/cvmfs/@fqrn@; connect 2000 ms, total 5000 ms per request; fails when none is usable",
    ]);
  });
});

describe("performWaitPaths", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "cvmfs-root-"));
    mkdirSync(join(root, "cvmfs/grid.cern.ch/etc/grid-security/certificates"), { recursive: true });
    writeFileSync(join(root, "cvmfs/grid.cern.ch/etc/grid-security/certificates/ca.pem"), "");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const at = (p: string) => join(root, p);

  it("looks under the root and reports machine paths", async () => {
    const r = await performWaitPaths({ kind: "wait-paths", why: "", paths: ["/cvmfs/grid.cern.ch/etc/grid-security/certificates"], timeoutMs: 1000 }, at);
    expect(r.detail).toMatch(/^ready: \/cvmfs\/grid\.cern\.ch\/etc\/grid-security\/certificates after \d+ ms$/);
  });

  it("fails naming each machine path that never became ready", async () => {
    const a = { kind: "wait-paths" as const, why: "", paths: ["/cvmfs/grid.cern.ch/etc/grid-security/certificates", "/cvmfs/lhcb.cern.ch"], timeoutMs: 100 };
    await expect(performWaitPaths(a, at, { intervalMs: 20 })).rejects.toThrow(/^CVMFS not ready after 0\.1 s: \/cvmfs\/lhcb\.cern\.ch \(does not exist\)$/);
  });
});

describe.skipIf(squidMissing() !== null)(`performProbeCvmfs through a real squid${squidMissing() ? ` (skipped: ${squidMissing()})` : ""}`, () => {
  let squid: Squid;
  let s1: StratumOne;
  let dead: number;
  beforeAll(async () => {
    s1 = await startStratumOne({ repositories: ["grid.cern.ch"] });
    squid = await startSquid();
    dead = await closedPort();
  });
  afterAll(async () => {
    await squid?.stop();
    await s1?.close();
  });
  const action = (proxy: string, required = true): ProbeCvmfsAction => ({
    kind: "probe-cvmfs",
    why: "",
    proxy,
    repositories: ["grid.cern.ch"],
    serverUrls: [s1.serverUrl],
    required,
    connectTimeoutMs: 2000,
    timeoutMs: 5000,
  });

  it("passes with one live proxy and reports the dead one", async () => {
    const r = await performProbeCvmfs(action(`http://127.0.0.1:${dead}|${squid.url}`));
    expect(r.detail).toMatch(/^CVMFS proxies usable: http:\/\/127\.0\.0\.1:\d+ \(\d+ ms\); unusable: http:\/\/127\.0\.0\.1:\d+ \(connection refused\)$/);
    expect(r.detail).toContain(`unusable: http://127.0.0.1:${dead} (connection refused)`);
  });

  it("fails naming each dead proxy when none is usable", async () => {
    await expect(performProbeCvmfs(action(`http://127.0.0.1:${dead}`))).rejects.toThrow(`No usable CVMFS proxy: http://127.0.0.1:${dead} (connection refused)`);
  });

  it("only reports when the probe is not required", async () => {
    const r = await performProbeCvmfs(action(`http://127.0.0.1:${dead}`, false));
    expect(r.detail).toBe(`No usable CVMFS proxy: http://127.0.0.1:${dead} (connection refused)`);
  });

  it("refuses a proxy list that does not parse", async () => {
    await expect(performProbeCvmfs(action("http://squid"))).rejects.toThrow(/^CVMFS proxy list not usable: group 1 entry 1 "http:\/\/squid" has no port/);
  });
});
