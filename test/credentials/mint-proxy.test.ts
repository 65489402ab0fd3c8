import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCredentials } from "../../src/credentials/check.ts";
import { mintProxy, mintProxyFile, MintProxyError } from "../../src/credentials/mint-proxy.ts";
import { makePki, type TestPki } from "./pki.ts";

const now = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;
const blocks = (pem: string) => pem.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g) ?? [];

/** `openssl verify -allow_proxy_certs`, as services.md verified it; stdout + stderr and the exit status. */
function opensslVerify(dir: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync("openssl", ["verify", "-allow_proxy_certs", ...args], { cwd: dir, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

let P: TestPki;
let dir: string;
beforeAll(() => {
  P = makePki(now());
  dir = mkdtempSync(join(tmpdir(), "vacuum-mint-"));
  writeFileSync(join(dir, "ca.pem"), P.ca.pem);
  writeFileSync(join(dir, "host.pem"), P.host.pem);
  writeFileSync(join(dir, "hostkey.pem"), P.host.key.rsaPem, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mintProxy", () => {
  it("mints a proxy that openssl verify -allow_proxy_certs accepts", async () => {
    const minted = await mintProxy({ issuerCertPem: P.host.pem, issuerKeyPem: P.host.key.pem, notAfter: now() + 12 * HOUR });
    writeFileSync(join(dir, "proxy.pem"), minted.pem);
    expect(opensslVerify(dir, ["-CAfile", "ca.pem", "-untrusted", "host.pem", "proxy.pem"])).toEqual({ status: 0, out: "proxy.pem: OK\n" });
    // The grid form: the proxy file is its own chain.
    expect(opensslVerify(dir, ["-CAfile", "ca.pem", "-untrusted", "proxy.pem", "proxy.pem"]).status).toBe(0);
    // And without the flag openssl refuses it as a proxy (so it really is one).
    const plain = spawnSync("openssl", ["verify", "-CAfile", "ca.pem", "-untrusted", "host.pem", "proxy.pem"], { cwd: dir, encoding: "utf8" });
    expect(plain.status).not.toBe(0);
    expect(`${plain.stdout}${plain.stderr}`).toMatch(/proxy certificates not allowed/);
  });

  it("writes proxy certificate, PKCS#1 key, issuer certificate; subject is the issuer's plus CN=serial", async () => {
    const minted = await mintProxy({ issuerCertPem: P.host.pem, issuerKeyPem: P.host.key.rsaPem, notAfter: now() + 12 * HOUR });
    const parts = blocks(minted.pem);
    expect(parts.map((b) => b.split("\n")[0])).toEqual(["-----BEGIN CERTIFICATE-----", "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN CERTIFICATE-----"]);
    const proxy = new X509Certificate(parts[0]!);
    expect(new X509Certificate(parts[2]!).fingerprint256).toBe(new X509Certificate(P.host.pem).fingerprint256);
    const serialDecimal = BigInt(`0x${proxy.serialNumber}`).toString(10);
    expect(proxy.subject).toBe(`C=UK\nO=vacuum-agent tests\nCN=vm01.vac.example.org\nCN=${serialDecimal}`);
    expect(minted.subject).toBe(`/C=UK/O=vacuum-agent tests/CN=vm01.vac.example.org/CN=${serialDecimal}`);
    expect(proxy.issuer).toBe("C=UK\nO=vacuum-agent tests\nCN=vm01.vac.example.org");
    expect(proxy.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    // Serial: positive, 63 bits, no DER padding byte.
    expect(proxy.serialNumber).toMatch(/^[4-7][0-9A-F]{15}$/);
    const text = spawnSync("openssl", ["x509", "-noout", "-text"], { input: parts[0], encoding: "utf8" }).stdout;
    expect(text).toMatch(/Proxy Certificate Information: critical/);
    expect(text).toMatch(/Path Length Constraint: infinite/);
    expect(text).toMatch(/Policy Language: Inherit all/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).not.toMatch(/Subject Alternative Name/);
    // The agent's own checks accept it.
    expect(checkCredentials({ x509_proxy: minted.pem, now: now(), deadline: now() + 11 * HOUR, expiryPolicy: "fail", caDir: null })).toEqual([]);
  });

  it("starts five minutes back and never outlives the issuer", async () => {
    const t = now();
    const short = P.hostCert(t - HOUR, t + 2 * HOUR);
    const minted = await mintProxy({ issuerCertPem: short.pem, issuerKeyPem: P.host.key.pem, notAfter: t + 48 * HOUR, now: t });
    expect(minted.notBefore).toBe(t - 300);
    expect(minted.notAfter).toBe(t + 2 * HOUR);
    const young = P.hostCert(t - 60, t + 48 * HOUR);
    const m2 = await mintProxy({ issuerCertPem: young.pem, issuerKeyPem: P.host.key.pem, notAfter: t + 6 * HOUR, now: t });
    expect([m2.notBefore, m2.notAfter]).toEqual([t - 60, t + 6 * HOUR]);
  });

  it("a proxy signed by another key fails openssl verify with a signature error", async () => {
    // An impostor with the host's name but another key mints; the file then names the real host certificate.
    const impostor = P.hostCert(now() - HOUR, now() + 48 * HOUR, P.otherKey);
    const minted = await mintProxy({ issuerCertPem: impostor.pem, issuerKeyPem: P.otherKey.pem, notAfter: now() + HOUR });
    writeFileSync(join(dir, "forged.pem"), blocks(minted.pem)[0]!);
    const r = opensslVerify(dir, ["-CAfile", "ca.pem", "-untrusted", "host.pem", "forged.pem"]);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/error 7 at 0 depth lookup: certificate signature failure/);
  });

  it.each([
    ["a key of another certificate", () => ({ issuerCertPem: P.host.pem, issuerKeyPem: P.otherKey.pem, notAfter: now() + HOUR }), /^host key: expected the private key of \/C=UK\/O=vacuum-agent tests\/CN=vm01.vac.example.org, found a key that belongs to another certificate$/],
    ["a key that is not PEM", () => ({ issuerCertPem: P.host.pem, issuerKeyPem: "secret", notAfter: now() + HOUR }), /^host key: expected a PEM private key, found no BEGIN line$/],
    ["an expired host certificate", () => ({ issuerCertPem: P.hostCert(now() - 48 * HOUR, now() - HOUR).pem, issuerKeyPem: P.host.key.pem, notAfter: now() + HOUR }), /^host certificate \/C=UK.* expired at /],
    ["an end in the past", () => ({ issuerCertPem: P.host.pem, issuerKeyPem: P.host.key.pem, notAfter: now() - 10 }), /^expected an end of validity after now/],
  ])("refuses %s", async (_name, input, message) => {
    const err = await mintProxy(input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MintProxyError);
    expect((err as Error).message).toMatch(message);
  });
});

describe("mintProxyFile", () => {
  it("reads the installed host credentials and writes a 0600 proxy file atomically", async () => {
    const to = join(dir, "credentials", "x509proxy.pem");
    const r = await mintProxyFile({ certPath: join(dir, "host.pem"), keyPath: join(dir, "hostkey.pem"), path: to, notAfter: now() + 6 * HOUR, mode: 0o600 });
    expect(statSync(to).mode & 0o777).toBe(0o600);
    expect(r.detail).toMatch(/^proxy \/C=UK\/O=vacuum-agent tests\/CN=vm01.vac.example.org\/CN=\d+ valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(r.detail).not.toMatch(/PRIVATE/);
    expect(opensslVerify(dir, ["-CAfile", "ca.pem", "-untrusted", "credentials/x509proxy.pem", "credentials/x509proxy.pem"]).out).toBe("credentials/x509proxy.pem: OK\n");
    expect(readFileSync(to, "utf8")).toContain("-----BEGIN RSA PRIVATE KEY-----");
  });

  it("says when the end was cut to the host certificate's", async () => {
    const r = await mintProxyFile({ certPath: join(dir, "host.pem"), keyPath: join(dir, "hostkey.pem"), path: join(dir, "p2.pem"), notAfter: now() + 400 * 86_400, mode: 0o400 });
    expect(r.detail).toMatch(/\(cut to the host certificate's end; .* was asked\)$/);
    expect(statSync(join(dir, "p2.pem")).mode & 0o777).toBe(0o400);
  });

  it.each<[string, { mode?: number; keyPath?: string }, RegExp]>([
    ["a group-readable mode", { mode: 0o640 }, /^expected mode 0600 or stricter for a proxy file, got 0640$/],
    ["a missing host key", { keyPath: "/nonexistent/hostkey.pem" }, /^cannot read the host key \/nonexistent\/hostkey.pem \(ENOENT\)$/],
  ])("refuses %s and writes nothing", async (name, override, message) => {
    const to = join(dir, `refused-${name.replace(/ /g, "-")}.pem`);
    const err = await mintProxyFile({ certPath: join(dir, "host.pem"), keyPath: join(dir, "hostkey.pem"), path: to, notAfter: now() + HOUR, mode: 0o600, ...override }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(message);
    expect(() => statSync(to)).toThrow();
  });
});
