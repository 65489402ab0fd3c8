import { beforeAll, describe, expect, it } from "vitest";
import type { CaDirFacts } from "../../src/credentials/ca-dir.ts";
import { toCertificate } from "../../src/credentials/certificate.ts";
import { checkCredentials, type CredentialCheckInput } from "../../src/credentials/check.ts";
import { mintProxy } from "../../src/credentials/mint-proxy.ts";
import { X509Certificate } from "node:crypto";
import { makePki } from "./pki.ts";

const NOW = 1_790_000_000;
const DAY = 86_400;
const P = makePki(NOW);
const expiredHost = P.hostCert(NOW - 40 * DAY, NOW - DAY);
const shortHost = P.hostCert(NOW - DAY, NOW + 2 * 3600);
const futureHost = P.hostCert(NOW + DAY, NOW + 30 * DAY);
const impostor = P.hostCert(NOW - DAY, NOW + 30 * DAY, P.otherKey);

const caDirWith = (...pems: string[]): CaDirFacts => ({
  path: "/etc/grid-security/certificates",
  exists: true,
  hashLinks: pems.length,
  certificateFiles: pems.length,
  cas: pems.map((p) => toCertificate(new X509Certificate(p))),
  unreadable: [],
});
const NO_CA_DIR: CaDirFacts = { path: "/etc/grid-security/certificates", exists: false, hashLinks: 0, certificateFiles: 0, cas: [], unreadable: [] };

const base = (o: Partial<CredentialCheckInput>): CredentialCheckInput => ({ now: NOW, deadline: NOW + DAY, expiryPolicy: "warn", caDir: null, ...o });

let proxy = "";
beforeAll(async () => {
  proxy = (await mintProxy({ issuerCertPem: P.host.pem, issuerKeyPem: P.host.key.rsaPem, notAfter: NOW + 2 * DAY, now: NOW })).pem;
});

const blocks = (pem: string) => pem.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g) ?? [];

type Row = [name: string, input: () => CredentialCheckInput, expected: { severity: string; item: string; message: RegExp }[]];

const rows: Row[] = [
  ["host certificate and its key", () => base({ hostcert: P.host.pem, hostkey: P.host.key.pem }), []],
  ["host key in PKCS#1 form", () => base({ hostcert: P.host.pem, hostkey: P.host.key.rsaPem }), []],
  [
    "host key of another certificate",
    () => base({ hostcert: P.host.pem, hostkey: P.otherKey.pem }),
    [{ severity: "error", item: "credentials.hostkey", message: /^expected the private key of credentials.hostcert \(\/C=UK\/O=vacuum-agent tests\/CN=vm01.vac.example.org\), found a key that belongs to another certificate$/ }],
  ],
  [
    "expired host certificate",
    () => base({ hostcert: expiredHost.pem, hostkey: P.host.key.pem }),
    [{ severity: "error", item: "credentials.hostcert", message: /^expected a valid certificate, found the certificate \(.*CN=vm01.vac.example.org\) expired at 2026-09-20T\d\d:\d\d:\d\dZ$/ }],
  ],
  [
    "expires before the deadline, policy warn",
    () => base({ hostcert: shortHost.pem, hostkey: P.host.key.pem }),
    [{ severity: "warning", item: "credentials.hostcert", message: /^expected validity until the VM's deadline .*, found the certificate .* valid until .*, 22 h earlier \(credentials.expiry_policy is "warn"\)$/ }],
  ],
  [
    "expires before the deadline, policy fail",
    () => base({ hostcert: shortHost.pem, hostkey: P.host.key.pem, expiryPolicy: "fail" }),
    [{ severity: "error", item: "credentials.hostcert", message: /22 h earlier \(credentials.expiry_policy is "fail"\)$/ }],
  ],
  ["expires before the deadline, no deadline known", () => base({ hostcert: shortHost.pem, hostkey: P.host.key.pem, deadline: null, expiryPolicy: "fail" }), []],
  [
    "not valid yet",
    () => base({ hostcert: futureHost.pem, hostkey: P.host.key.pem }),
    [{ severity: "warning", item: "credentials.hostcert", message: /is not valid before .*: the clock or the certificate is wrong$/ }],
  ],
  [
    "host key that is not PEM",
    () => base({ hostcert: P.host.pem, hostkey: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC not a pem at all" }),
    [{ severity: "error", item: "credentials.hostkey", message: /^expected a PEM private key, found no BEGIN line$/ }],
  ],
  [
    "host certificate that is not PEM",
    () => base({ hostcert: "hostcert.pem", hostkey: P.host.key.pem }),
    [{ severity: "error", item: "credentials.hostcert", message: /^expected a PEM certificate, found no BEGIN line$/ }],
  ],
  [
    "certificate where the key should be",
    () => base({ hostcert: P.host.pem, hostkey: P.host.pem }),
    [{ severity: "error", item: "credentials.hostkey", message: /^expected a PEM private key, found only 1 CERTIFICATE block$/ }],
  ],
  [
    "key where the certificate should be",
    () => base({ hostcert: P.host.key.pem, hostkey: P.host.key.pem }),
    [{ severity: "error", item: "credentials.hostcert", message: /^expected a PEM certificate, found only 1 PRIVATE KEY block$/ }],
  ],
  [
    "BEGIN line without END line (truncated by a substitution)",
    () => base({ hostcert: P.host.pem, hostkey: P.host.key.pem.split("\n").slice(0, 5).join("\n") }),
    [{ severity: "error", item: "credentials.hostkey", message: /^expected a PEM private key, found "-----BEGIN PRIVATE KEY-----" with no END line$/ }],
  ],
  [
    "body that is not base64",
    () => base({ hostcert: P.host.pem.replace(/\r?\n[A-Za-z0-9+/]{64}\r?\n/, "\n##user_data_file_hostcert##\n"), hostkey: P.host.key.pem }),
    [{ severity: "error", item: "credentials.hostcert", message: /^expected a PEM certificate, found a CERTIFICATE block with a line that is not base64 \(line \d+ of the block\)$/ }],
  ],
  [
    "base64 that is no certificate",
    () => base({ hostcert: "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n", hostkey: P.host.key.pem }),
    [
      { severity: "error", item: "credentials.hostcert", message: /^expected a PEM certificate, found a CERTIFICATE block \(number 1\) that is not a valid X.509 certificate \(\w+\)$/ },
    ],
  ],
  [
    "encrypted host key",
    () => base({ hostcert: P.host.pem, hostkey: P.host.key.rsaPem.replace(/-----\r?\n/, "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n") }),
    [{ severity: "error", item: "credentials.hostkey", message: /^expected an unencrypted private key, found an encrypted one/ }],
  ],
  ["proxy: certificate, key, issuer", () => base({ x509_proxy: proxy }), []],
  [
    "proxy: the key is the issuer's",
    () => {
      const [c, , i] = blocks(proxy);
      return base({ x509_proxy: c! + P.host.key.rsaPem + i! });
    },
    [{ severity: "error", item: "credentials.x509_proxy", message: /^expected the private key of the first certificate \(.*\/CN=vm01.vac.example.org\/CN=\d+\), the proxy itself, found a key that belongs to another certificate$/ }],
  ],
  [
    "proxy: issuer certificate with the same name but another key",
    () => {
      const [c, k] = blocks(proxy);
      return base({ x509_proxy: c! + k! + impostor.pem });
    },
    [{ severity: "error", item: "credentials.x509_proxy", message: /^expected each certificate to be issued by the next, found certificate 1 \(.*\/CN=\d+\) not issued by certificate 2 \(.*CN=vm01.vac.example.org\): the chain is broken$/ }],
  ],
  [
    "proxy: issuer certificate missing",
    () => {
      const [c, k] = blocks(proxy);
      return base({ x509_proxy: c! + k! });
    },
    [{ severity: "warning", item: "credentials.x509_proxy", message: /^expected the proxy certificate followed by its issuer's certificate, found only one certificate/ }],
  ],
  [
    "proxy: no key",
    () => {
      const [c, , i] = blocks(proxy);
      return base({ x509_proxy: c! + i! });
    },
    [{ severity: "error", item: "credentials.x509_proxy", message: /^expected a PEM private key, found only 2 CERTIFICATE blocks$/ }],
  ],
  [
    "proxy: ends before the deadline, policy fail",
    () => base({ x509_proxy: proxy, deadline: NOW + 3 * DAY, expiryPolicy: "fail" }),
    [{ severity: "error", item: "credentials.x509_proxy", message: /^expected validity until the VM's deadline .*, found certificate 1 \(.*\/CN=\d+\) valid until .*, 24 h earlier/ }],
  ],
  ["CA directory holds the issuer", () => base({ hostcert: P.host.pem, hostkey: P.host.key.pem, x509_proxy: proxy, caDir: caDirWith(P.otherCa.pem, P.ca.pem) }), []],
  [
    "CA directory does not exist yet",
    () => base({ hostcert: P.host.pem, hostkey: P.host.key.pem, caDir: NO_CA_DIR }),
    [{ severity: "info", item: "credentials.ca_dir", message: /^\/etc\/grid-security\/certificates does not exist \(yet\).*it may come from CVMFS later\)$/ }],
  ],
  [
    "CA directory lacks the issuer",
    () => base({ hostcert: P.host.pem, hostkey: P.host.key.pem, caDir: caDirWith(P.otherCa.pem) }),
    [{ severity: "warning", item: "credentials.hostcert", message: /^expected the certificate \(.*\) to be issued by a CA in \/etc\/grid-security\/certificates, found no CA named \/C=UK\/O=vacuum-agent tests\/CN=Test Grid CA among its 1$/ }],
  ],
  [
    "CA directory has a CA of that name with another key",
    () => {
      const fake = makePki(NOW).ca;
      return base({ x509_proxy: proxy, caDir: caDirWith(fake.pem) });
    },
    [{ severity: "warning", item: "credentials.x509_proxy", message: /found that its signature does not verify with that CA's key$/ }],
  ],
];

describe("checkCredentials", () => {
  it.each(rows)("%s", (_name, input, expected) => {
    const findings = checkCredentials(input());
    expect(findings).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expect(findings[i]).toMatchObject({ severity: e.severity, item: e.item });
      expect(findings[i]!.message).toMatch(e.message);
    });
  });

  it("never puts key material in a message", () => {
    const keyLines = [P.host.key.pem, P.otherKey.pem, P.host.key.rsaPem, ...blocks(proxy).filter((b) => b.includes("PRIVATE KEY"))]
      .flatMap((k) => k.split("\n"))
      .filter((l) => /^[A-Za-z0-9+/=]{16,}$/.test(l));
    expect(keyLines.length).toBeGreaterThan(40);
    const messages = rows.flatMap(([, input]) => checkCredentials(input()).map((f) => f.message));
    expect(messages.length).toBeGreaterThan(15);
    for (const m of messages) for (const l of keyLines) expect(m.includes(l.slice(0, 16))).toBe(false);
  });
});
