import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitProxyPem } from "../../../src/lifecycle/joboutputs/proxy-pem.ts";
import { makeTlsFixtures, type TlsFixtures } from "../../support/tls-fixtures.ts";
import { makeProxyPem } from "./proxy-certificate.ts";

let f: TlsFixtures;
let proxy: string;
beforeAll(async () => {
  f = await makeTlsFixtures();
  proxy = makeProxyPem(f.clientCertPem, f.clientKeyPem);
});
afterAll(() => f.cleanup());

const keyBody = (pem: string) => pem.split("\n").find((l) => l.length > 40 && !l.startsWith("-----"))!;

describe("splitProxyPem", () => {
  it("splits a proxy into the chain (proxy first) and its key, with the proxy's DN", () => {
    const r = splitProxyPem(proxy);
    if (!r.ok) throw new Error(r.message);
    expect(r.cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(r.cert).not.toContain("PRIVATE KEY");
    expect(r.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    expect(r.subject).toMatch(/^\/O=vacuum-agent tests\/CN=host-01\.example\/CN=\d+$/);
    expect(r.notAfter!.getTime()).toBeGreaterThan(Date.now());
  });

  it("accepts a plain host certificate and key in either order", () => {
    const r = splitProxyPem(f.clientKeyPem + f.clientCertPem);
    expect(r).toMatchObject({ ok: true, subject: "/O=vacuum-agent tests/CN=host-01.example" });
  });

  it.each([
    ["nothing", "hello", /found neither/],
    ["a key only", () => f.clientKeyPem, /expected a PEM certificate block/],
    ["certificates only", () => f.clientCertPem + f.caPem, /expected a PEM private key block besides 2 certificate\(s\)/],
    ["an encrypted key", () => f.clientCertPem + "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", /encrypted/],
    ["a key of another certificate", () => f.caPem + f.clientKeyPem, /does not belong to the first certificate/],
    ["a damaged key", () => f.clientCertPem + "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n", /cannot be parsed/],
  ])("refuses %s with a message that holds no key material", (_name, input, message) => {
    const r = splitProxyPem(typeof input === "function" ? input() : input);
    expect(r.ok).toBe(false);
    const text = (r as { message: string }).message;
    expect(text).toMatch(message);
    expect(text).not.toContain(keyBody(f.clientKeyPem));
    expect(text).not.toContain("BEGIN");
  });
});
