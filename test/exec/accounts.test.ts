import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGroupId, findUser, resolveOwner } from "../../src/exec/accounts.ts";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "accounts-"));
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\ncondor:x:990:985:HTCondor:/var/lib/condor:/sbin/nologin\nbroken:x:abc:1::/:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\ncondor:x:985:\n");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("accounts under a root", () => {
  it("finds users and groups in the root's files, not the host's", () => {
    expect(findUser(root, "condor")).toEqual({ name: "condor", uid: 990, gid: 985, home: "/var/lib/condor", shell: "/sbin/nologin" });
    expect(findUser(root, "broken")).toBeNull();
    expect(findUser(root, "nobody")).toBeNull();
    expect(findGroupId(root, "condor")).toBe(985);
  });

  it.each([
    [{ user: "condor", group: "condor" }, { uid: 990, gid: 985 }],
    [{ user: "1234", group: "5678" }, { uid: 1234, gid: 5678 }],
    [{ user: "ghost", group: "condor" }, { error: `unknown user ghost (not in ROOT/etc/passwd)` }],
    [{ user: "condor", group: "ghosts" }, { error: `unknown group ghosts (not in ROOT/etc/group)` }],
  ])("resolveOwner %j", (owner, expected) => {
    const r = resolveOwner(root, owner);
    expect("error" in r ? { error: r.error.replace(root, "ROOT") } : r).toEqual(expected);
  });

  it("a root without /etc knows nobody", () => {
    expect(findUser(join(root, "empty"), "root")).toBeNull();
  });
});
