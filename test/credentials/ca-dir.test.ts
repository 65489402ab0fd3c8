import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { needsRehash, probeCaDir } from "../../src/credentials/ca-dir.ts";
import { makePki } from "./pki.ts";

const P = makePki(Math.floor(Date.now() / 1000));
const top = mkdtempSync(join(tmpdir(), "vacuum-cadir-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));

describe("probeCaDir", () => {
  it("a directory that does not exist", () => {
    const facts = probeCaDir(join(top, "missing"), "/etc/grid-security/certificates");
    expect(facts).toEqual({ path: "/etc/grid-security/certificates", exists: false, hashLinks: 0, certificateFiles: 0, cas: [], unreadable: [] });
    expect(needsRehash(facts)).toBe(false);
  });

  it("IGTF-style files without hash links need a rehash; after `openssl rehash .` they do not", () => {
    const dir = join(top, "certificates");
    mkdirSync(dir);
    writeFileSync(join(dir, "TestGridCA.pem"), P.ca.pem);
    writeFileSync(join(dir, "OtherCA.pem"), P.otherCa.pem);
    writeFileSync(join(dir, "TestGridCA.signing_policy"), "access_id_CA X509 '/C=UK/O=vacuum-agent tests/CN=Test Grid CA'\n");
    writeFileSync(join(dir, "broken.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    const before = probeCaDir(dir, "/etc/grid-security/certificates");
    expect(before).toMatchObject({ exists: true, hashLinks: 0, certificateFiles: 3, unreadable: ["broken.pem"] });
    expect(before.cas.map((c) => c.subject).sort()).toEqual(["/C=UK/O=vacuum-agent tests/CN=Test Grid CA", "/O=elsewhere/CN=Other CA"]);
    expect(needsRehash(before)).toBe(true);

    // The planned command, run the way the executor runs it: in the directory.
    rmSync(join(dir, "broken.pem"));
    execFileSync("openssl", ["rehash", "."], { cwd: dir });
    expect(readdirSync(dir).filter((n) => /^[0-9a-f]{8}\.0$/.test(n))).toHaveLength(2);
    const after = probeCaDir(dir, "/etc/grid-security/certificates");
    expect(after).toMatchObject({ hashLinks: 2, certificateFiles: 2, unreadable: [] });
    expect(after.cas).toHaveLength(2); // a file and its link count once
    expect(needsRehash(after)).toBe(false);
  });

  it("a file where the directory should be", () => {
    writeFileSync(join(top, "file"), "x");
    expect(probeCaDir(join(top, "file"), "/x").exists).toBe(false);
  });
});
