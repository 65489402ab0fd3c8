import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rootedInvocation } from "../../src/exec/rooted-invocation.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "rooted-invocation-"));
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/passwd"), "vacpilot:x:990:990::/home/vacpilot:/usr/sbin/nologin\n");
  mkdirSync(join(root, "opt"));
  writeFileSync(join(root, "opt/payload"), "#!/bin/sh\n");
  chmodSync(join(root, "opt/payload"), 0o755);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("rootedInvocation", () => {
  it("without --root the plan is taken as it is", () => {
    expect(rootedInvocation(null, ["/opt/payload", "-v"], "nosuchuser")).toEqual({ argv: ["/opt/payload", "-v"], user: "nosuchuser" });
  });
  it("under --root: the program from DIR, a user known there kept", () => {
    expect(rootedInvocation(root, ["/opt/payload", "-v"], "vacpilot")).toEqual({ argv: [join(root, "opt/payload"), "-v"], user: "vacpilot" });
  });
  it("under --root: a user that exists only as a recorded create-user runs as ourselves, with a note", () => {
    const r = rootedInvocation(root, ["/bin/sh", "-c", "true"], "vacpayload");
    expect(r).toEqual({ argv: ["/bin/sh", "-c", "true"], user: undefined, note: "not run as vacpayload: that user exists only as a recorded create-user (--root)" });
  });
  it("under --root: a bare program name is left to PATH", () => {
    expect(rootedInvocation(root, ["sh", "-c", "true"], undefined)).toEqual({ argv: ["sh", "-c", "true"], user: undefined });
  });
  it("under --root: machine paths in arguments and environment values name their copy under DIR when it exists", () => {
    mkdirSync(join(root, "scratch/dirac/etc"), { recursive: true });
    const r = rootedInvocation(root, ["python3", "/opt/payload", "--certLocation=/scratch/dirac/etc", "--cfg=/nowhere", "-o", "/LocalSite/SubmitPool=Test"], undefined, {
      X509_CERT_DIR: "/scratch/dirac/etc",
      PILOT_UUID: "vm://space/1",
      MISSING: "/not/there",
    });
    expect(r.argv).toEqual(["python3", join(root, "opt/payload"), `--certLocation=${join(root, "scratch/dirac/etc")}`, "--cfg=/nowhere", "-o", "/LocalSite/SubmitPool=Test"]);
    expect(r.env).toEqual({ X509_CERT_DIR: join(root, "scratch/dirac/etc"), PILOT_UUID: "vm://space/1", MISSING: "/not/there" });
  });
});
