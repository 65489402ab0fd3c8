import { describe, expect, it } from "vitest";
import { cvmfs } from "../../src/stages/cvmfs.ts";
import { describeAction } from "../../src/plan/describe.ts";
import { isMachineWide } from "../../src/plan/actions.ts";
import { makeContext } from "../support/context.ts";

describe("cvmfs stage", () => {
  it.each([
    ["no cvmfs keys", {}],
    ["an empty repository list", { repositories: [] }],
    ["a proxy but no repositories", { http_proxy: "http://squid:3128;DIRECT" }],
  ])("is skipped with %s", (_n, c) => {
    expect(cvmfs.skip(makeContext({ config: { cvmfs: c } }))).toBe("no CVMFS repositories configured (cvmfs.repositories)");
  });

  it("plans the cache directory, default.local and cvmfs_config setup, in that order", () => {
    const ctx = makeContext({
      config: {
        cvmfs: { repositories: ["grid.cern.ch", "lhcb.cern.ch"], http_proxy: "http://10.0.0.1:280|http://10.0.0.2:280;http://squid.example.org:3128", quota_mb: 4000 },
        scratch: { mount_point: "/scratch" },
      },
    });
    expect(cvmfs.skip(ctx)).toBeNull();
    expect(cvmfs.plan(ctx)).toEqual([
      { kind: "mkdir", path: "/scratch/cvmfs-cache", mode: 0o755, why: "CVMFS cache on the scratch disk" },
      {
        kind: "write-file",
        path: "/etc/cvmfs/default.local",
        mode: 0o644,
        contents: [
          "# Written by vacuum-agent: CVMFS client settings for this VM (site proxies, cache on scratch).",
          "CVMFS_REPOSITORIES='grid.cern.ch,lhcb.cern.ch'",
          "CVMFS_HTTP_PROXY='http://10.0.0.1:280|http://10.0.0.2:280;http://squid.example.org:3128'",
          "CVMFS_CACHE_BASE='/scratch/cvmfs-cache'",
          "CVMFS_QUOTA_LIMIT='4000'",
          "",
        ].join("\n"),
        why: "CVMFS repositories, proxies, cache and quota",
      },
      {
        kind: "run-command",
        argv: ["cvmfs_config", "setup"],
        timeoutMs: 60_000,
        machineWide: true,
        why: "apply the CVMFS configuration (autofs, fuse); fails harmlessly where the client is not installed",
      },
    ]);
  });

  it("uses auto;DIRECT with the PAC URLs when the site gives no proxy", () => {
    const ctx = makeContext({ config: { cvmfs: { repositories: ["grid.cern.ch"], pac_urls: ["http://wpad.example.org/wpad.dat"] } } });
    const file = cvmfs.plan(ctx).find((a) => a.kind === "write-file");
    expect(file).toMatchObject({ path: "/etc/cvmfs/default.local" });
    const contents = (file as { contents: string }).contents;
    expect(contents).toContain("\nCVMFS_HTTP_PROXY='auto;DIRECT'\nCVMFS_PAC_URLS='http://wpad.example.org/wpad.dat'\n");
    expect(contents).not.toContain("CVMFS_SERVER_URL");
  });

  it("is the same plan with and without --root (paths are rooted by the executor)", () => {
    const c = { cvmfs: { repositories: ["grid.cern.ch"] } };
    expect(cvmfs.plan(makeContext({ config: c, root: "/tmp/x" }))).toEqual(cvmfs.plan(makeContext({ config: c })));
  });

  it("records cvmfs_config setup under --root and shows the quoted file in the dry run", () => {
    const actions = cvmfs.plan(makeContext({ config: { cvmfs: { repositories: ["grid.cern.ch"], http_proxy: "http://a:1|http://b:2;DIRECT" } } }));
    expect(actions.map(isMachineWide)).toEqual([false, false, true]);
    expect(describeAction(actions[1]!)).toContain("  | CVMFS_HTTP_PROXY='http://a:1|http://b:2;DIRECT'");
  });

  it("fails non-fatally, with the site code 500", () => {
    expect(cvmfs.failure).toEqual({ code: 500, fatal: false, text: "Cannot configure the CVMFS client" });
  });
});
