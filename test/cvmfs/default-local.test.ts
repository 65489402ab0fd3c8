import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cacheBase, defaultLocalEntries, renderDefaultLocal, shellValue } from "../../src/cvmfs/default-local.ts";
import { makeContext, type ContextOverrides } from "../support/context.ts";

const HEADER = "# Written by vacuum-agent: CVMFS client settings for this VM (site proxies, cache on scratch).";

type Config = NonNullable<ContextOverrides["config"]>;
const render = (cvmfs: Config["cvmfs"], scratch: Config["scratch"] = {}) =>
  renderDefaultLocal(makeContext({ config: { cvmfs, scratch } }).config);

describe("renderDefaultLocal", () => {
  it("writes the site's proxy list, quoted, with cache on scratch and the quota", () => {
    expect(
      render({ repositories: ["grid.cern.ch", "lhcb.cern.ch"], http_proxy: "http://squid01:3128|http://squid02:3128;DIRECT", quota_mb: 25000 }),
    ).toBe(
      [
        HEADER,
        "CVMFS_REPOSITORIES='grid.cern.ch,lhcb.cern.ch'",
        "CVMFS_HTTP_PROXY='http://squid01:3128|http://squid02:3128;DIRECT'",
        "CVMFS_CACHE_BASE='/scratch/cvmfs-cache'",
        "CVMFS_QUOTA_LIMIT='25000'",
        "",
      ].join("\n"),
    );
  });

  it("falls back to auto;DIRECT with the PAC URLs, and names the stratum-1s", () => {
    expect(
      render(
        {
          repositories: ["atlas.cern.ch"],
          pac_urls: ["http://grid-wpad/wpad.dat", "http://wpad/wpad.dat"],
          server_urls: ["http://s1.example.org/cvmfs/@fqrn@", "http://s2.example.org:8000/cvmfs/@fqrn@"],
        },
        { mount_point: "/mnt/scratch/" },
      ),
    ).toBe(
      [
        HEADER,
        "CVMFS_REPOSITORIES='atlas.cern.ch'",
        "CVMFS_HTTP_PROXY='auto;DIRECT'",
        "CVMFS_PAC_URLS='http://grid-wpad/wpad.dat;http://wpad/wpad.dat'",
        "CVMFS_CACHE_BASE='/mnt/scratch/cvmfs-cache'",
        "CVMFS_QUOTA_LIMIT='20000'",
        "CVMFS_SERVER_URL='http://s1.example.org/cvmfs/@fqrn@;http://s2.example.org:8000/cvmfs/@fqrn@'",
        "",
      ].join("\n"),
    );
  });

  it.each([
    ["auto;DIRECT without PAC URLs: the client's default wpad", undefined, undefined, false],
    ["a fixed proxy list ignores the PAC URLs", "http://squid:3128;DIRECT", ["http://wpad/wpad.dat"], false],
    ["a site list with auto keeps them", "http://squid:3128;auto;DIRECT", ["http://wpad/wpad.dat"], true],
  ])("%s", (_n, http_proxy, pac_urls, written) => {
    const keys = defaultLocalEntries(makeContext({ config: { cvmfs: { repositories: ["a.b"], ...(http_proxy ? { http_proxy } : {}), ...(pac_urls ? { pac_urls } : {}) } } }).config).map(([k]) => k);
    expect(keys.includes("CVMFS_PAC_URLS")).toBe(written);
  });

  it("normalises a proxy written without a scheme", () => {
    expect(render({ repositories: ["a.b"], http_proxy: " squid:3128;DIRECT\n" })).toContain("CVMFS_HTTP_PROXY='http://squid:3128;DIRECT'\n");
  });

  it.each([
    ["plain", "abc", "'abc'"],
    ["; and |", "http://a:1|http://b:2;DIRECT", "'http://a:1|http://b:2;DIRECT'"],
    ["a single quote", "/scr'atch", "'/scr'\\''atch'"],
    ["$ and backticks", "$(reboot)`id`", "'$(reboot)`id`'"],
  ])("shellValue: %s", (_n, value, quoted) => {
    expect(shellValue(value)).toBe(quoted);
  });

  it("reads back exactly as written when bash sources it", () => {
    const dir = mkdtempSync(join(tmpdir(), "cvmfs-local-"));
    try {
      const file = join(dir, "default.local");
      writeFileSync(file, render({ repositories: ["grid.cern.ch"], http_proxy: "http://10.0.0.1:280|http://10.0.0.2:280;http://squid:3128;DIRECT" }, { mount_point: "/scr'atch $(x)" }));
      const out = execFileSync("bash", ["-c", 'set -eu; . "$1"; printf "%s\\n" "$CVMFS_HTTP_PROXY" "$CVMFS_CACHE_BASE" "$CVMFS_REPOSITORIES"', "bash", file], { encoding: "utf8" });
      expect(out).toBe("http://10.0.0.1:280|http://10.0.0.2:280;http://squid:3128;DIRECT\n/scr'atch $(x)/cvmfs-cache\ngrid.cern.ch\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("puts the cache under the scratch mount point", () => {
    expect(cacheBase("/scratch")).toBe("/scratch/cvmfs-cache");
    expect(cacheBase("/scratch/")).toBe("/scratch/cvmfs-cache");
  });
});
