import { describe, expect, it } from "vitest";
import { candidatePaths, OSG_CVMFS_APPTAINER, type IsolationFacts } from "../../src/isolation/probe.ts";
import { chooseRuntime } from "../../src/isolation/runtime.ts";
import { ISOLATION_DEFAULTS, type IsolationSettings } from "../../src/isolation/settings.ts";

const USERNS = { maxUserNamespaces: 100, unprivilegedUsernsClone: null, apparmorRestrictUnprivilegedUserns: null };

function facts(executable: string[], runtimePath?: string): IsolationFacts {
  const candidates = candidatePaths({ path: "/usr/bin", ...(runtimePath ? { runtimePath } : {}) }).map((c) => ({ ...c, executable: executable.includes(c.path) }));
  return { candidates, userns: USERNS, image: null };
}
const settings = (o: Partial<IsolationSettings> = {}): IsolationSettings => ({ ...ISOLATION_DEFAULTS, ...o });

describe("chooseRuntime", () => {
  it.each([
    ["apptainer on PATH", facts(["/usr/bin/apptainer", "/usr/bin/singularity"]), settings(), [], { kind: "found", path: "/usr/bin/apptainer", origin: "PATH" }],
    ["only singularity", facts(["/usr/bin/singularity"]), settings(), [], { kind: "found", path: "/usr/bin/singularity", origin: "PATH" }],
    ["the configured path", facts(["/opt/a/apptainer", "/usr/bin/apptainer"], "/opt/a/apptainer"), settings({ runtime_path: "/opt/a/apptainer" }), [], { kind: "found", path: "/opt/a/apptainer", origin: "isolation.runtime_path" }],
    ["CVMFS when mounted already", facts([OSG_CVMFS_APPTAINER]), settings(), [], { kind: "found", path: OSG_CVMFS_APPTAINER, origin: "CVMFS" }],
    ["CVMFS not yet mounted, oasis configured", facts([]), settings(), ["oasis.opensciencegrid.org"], { kind: "found", path: OSG_CVMFS_APPTAINER, origin: "CVMFS", note: "on CVMFS, checked once CVMFS is mounted" }],
  ])("finds %s", (_n, f, s, repos, expected) => {
    expect(chooseRuntime(f, s, repos)).toEqual(expected);
  });

  it("never replaces a configured path that is missing by another runtime", () => {
    const c = chooseRuntime(facts(["/usr/bin/apptainer"], "/opt/none/apptainer"), settings({ runtime_path: "/opt/none/apptainer" }));
    expect(c).toEqual({ kind: "none", reason: "isolation.runtime_path /opt/none/apptainer is not an executable file" });
  });

  it("refuses a relative configured path", () => {
    expect(chooseRuntime(facts([], "apptainer"), settings({ runtime_path: "apptainer" }))).toEqual({ kind: "none", reason: 'isolation.runtime_path must be an absolute path, found "apptainer"' });
  });

  it("says where it looked when there is no runtime", () => {
    const c = chooseRuntime(facts([]), settings(), ["grid.cern.ch"]);
    expect(c.kind).toBe("none");
    expect(c.kind === "none" && c.reason).toMatch(/^no Apptainer or Singularity found: looked for apptainer and singularity in \/usr\/bin:\/usr\/local\/sbin:.* and for \/cvmfs\/oasis.opensciencegrid.org\/mis\/apptainer\/current\/bin\/apptainer \(oasis.opensciencegrid.org is not among cvmfs.repositories\)$/);
  });
});
