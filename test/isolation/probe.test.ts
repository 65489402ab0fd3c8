import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { candidatePaths, OSG_CVMFS_APPTAINER, probeIsolation, searchDirs } from "../../src/isolation/probe.ts";

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tree(files: Record<string, string | { mode: number } | "dir" | { link: string }>): string {
  const root = mkdtempSync(join(tmpdir(), "isolation-probe-"));
  dirs.push(root);
  for (const [p, v] of Object.entries(files)) {
    const full = join(root, p);
    mkdirSync(join(full, ".."), { recursive: true });
    if (v === "dir") mkdirSync(full, { recursive: true });
    else if (typeof v === "string") writeFileSync(full, v);
    else if ("link" in v) symlinkSync(v.link, full);
    else {
      writeFileSync(full, "#!/bin/sh\n");
      chmodSync(full, v.mode);
    }
  }
  return root;
}

describe("searchDirs and candidatePaths", () => {
  it("searches PATH, then the standard directories, each once, absolute only", () => {
    expect(searchDirs("/opt/x/bin:relative::/usr/bin/")).toEqual(["/opt/x/bin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/sbin", "/bin"]);
  });

  it("tries the configured path first, apptainer before singularity, the OSG CVMFS path last", () => {
    const c = candidatePaths({ path: "/opt/b", runtimePath: "/opt/a/apptainer" });
    expect(c[0]).toEqual({ path: "/opt/a/apptainer", origin: "isolation.runtime_path" });
    expect(c[1]).toEqual({ path: "/opt/b/apptainer", origin: "PATH" });
    expect(c.findIndex((x) => x.path.endsWith("/singularity"))).toBeGreaterThan(c.findIndex((x) => x.path === "/bin/apptainer"));
    expect(c.at(-1)).toEqual({ path: OSG_CVMFS_APPTAINER, origin: "CVMFS" });
  });
});

describe("probeIsolation", () => {
  it("finds executables by path only, under --root, following symlinks inside the root", () => {
    const root = tree({
      "usr/bin/apptainer": { mode: 0o755 },
      "usr/bin/singularity": { link: "/usr/bin/apptainer" },
      "opt/tools/apptainer": { mode: 0o644 },
      "srv/sbx/bin": "dir",
      "srv/x.sif": "SIF",
    });
    const proc = tree({ "proc/sys/user/max_user_namespaces": "96343\n" });
    const f = probeIsolation({ root, procRoot: proc, path: "/opt/tools", image: "/srv/sbx" });
    const byPath = new Map(f.candidates.map((c) => [c.path, c.executable]));
    expect(byPath.get("/usr/bin/apptainer")).toBe(true);
    expect(byPath.get("/usr/bin/singularity")).toBe(true);
    expect(byPath.get("/opt/tools/apptainer")).toBe(false); // no execute bit
    expect(byPath.get("/bin/apptainer")).toBe(false);
    expect(f.image).toEqual({ path: "/srv/sbx", kind: "sandbox" });
    expect(f.userns).toEqual({ maxUserNamespaces: 96343, unprivilegedUsernsClone: null, apparmorRestrictUnprivilegedUserns: null });
    expect(probeIsolation({ root, procRoot: proc, image: "/srv/x.sif" }).image).toEqual({ path: "/srv/x.sif", kind: "sif" });
    expect(probeIsolation({ root, procRoot: proc, image: "/srv/none.sif" }).image).toEqual({ path: "/srv/none.sif", kind: "missing" });
    expect(probeIsolation({ root, procRoot: proc }).image).toBeNull();
  });

  it.each([
    ["disabled", { "proc/sys/user/max_user_namespaces": "0", "proc/sys/kernel/unprivileged_userns_clone": "0", "proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1" }, { maxUserNamespaces: 0, unprivilegedUsernsClone: 0, apparmorRestrictUnprivilegedUserns: 1 }],
    ["no user namespaces in the kernel", {}, { maxUserNamespaces: null, unprivilegedUsernsClone: null, apparmorRestrictUnprivilegedUserns: null }],
    ["garbage", { "proc/sys/user/max_user_namespaces": "many" }, { maxUserNamespaces: null, unprivilegedUsernsClone: null, apparmorRestrictUnprivilegedUserns: null }],
  ])("reads the user namespace knobs: %s", (_n, files, expected) => {
    const proc = tree(files);
    expect(probeIsolation({ root: null, procRoot: proc, path: "" }).userns).toEqual(expected);
  });

  it("does not throw on a relative runtime path or image", () => {
    const f = probeIsolation({ root: null, procRoot: "/nonexistent", runtimePath: "apptainer", image: "x.sif" });
    expect(f.candidates[0]).toEqual({ path: "apptainer", origin: "isolation.runtime_path", executable: false });
    expect(f.image).toEqual({ path: "x.sif", kind: "missing" });
  });
});
