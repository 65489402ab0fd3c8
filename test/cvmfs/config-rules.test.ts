import { describe, expect, it } from "vitest";
import { checkCvmfs, repositoryOf } from "../../src/cvmfs/config-rules.ts";
import { makeContext, type ContextOverrides } from "../support/context.ts";

const cvmfsOf = (c: NonNullable<ContextOverrides["config"]>["cvmfs"]) => makeContext({ config: { cvmfs: c } }).config.cvmfs;

describe("checkCvmfs", () => {
  it.each([
    ["a bad proxy list", { http_proxy: "http://squid;DIRECT" }, "cvmfs.http_proxy", "error", 'group 1 entry 1 "http://squid" has no port'],
    ["a proxy without scheme", { http_proxy: "squid:3128" }, "cvmfs.http_proxy", "warning", "has no scheme: taken as http://squid:3128"],
    ["a PAC URL with ;", { pac_urls: ["http://wpad/a;b"] }, "cvmfs.pac_urls.0", "error", 'contains ";"'],
    ["a server URL without @fqrn@", { server_urls: ["http://s1/cvmfs/@fqrn@", "http://s2/cvmfs/grid.cern.ch"] }, "cvmfs.server_urls.1", "warning", "has no @fqrn@"],
    [
      "a waited-for path outside the repositories",
      { repositories: ["lhcb.cern.ch"], wait_for: ["/cvmfs/lhcb.cern.ch/lib", "/cvmfs/grid.cern.ch/etc/grid-security/certificates"] },
      "cvmfs.wait_for.1",
      "warning",
      "is in repository grid.cern.ch, which is not in cvmfs.repositories",
    ],
  ])("%s", (_n, c, path, severity, message) => {
    const problems = checkCvmfs(cvmfsOf(c));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path, severity });
    expect(problems[0]!.message).toContain(message);
  });

  it("accepts a complete, valid section", () => {
    expect(
      checkCvmfs(
        cvmfsOf({
          repositories: ["grid.cern.ch"],
          http_proxy: "http://squid01:3128|http://squid02:3128;DIRECT",
          pac_urls: ["http://wpad/wpad.dat"],
          server_urls: ["http://s1.example.org/cvmfs/@fqrn@"],
          wait_for: ["/cvmfs/grid.cern.ch/etc/grid-security/certificates"],
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    ["/cvmfs/grid.cern.ch/etc", "grid.cern.ch"],
    ["/cvmfs/grid.cern.ch", "grid.cern.ch"],
    ["/cvmfs/", null],
  ])("repositoryOf(%s)", (path, repo) => expect(repositoryOf(path)).toBe(repo));
});
