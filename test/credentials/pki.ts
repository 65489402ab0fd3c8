// Test support: a throw-away PKI for the credential checks and the proxy minting (a CA, host
// certificates, spare keys), with validity periods chosen by the test. Native RSA keys converted
// into forge, certificates signed by forge; no subprocess.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

const { pki } = forge;

export interface TestKey {
  /** PKCS#8 PEM. */
  pem: string;
  /** PKCS#1 PEM ("RSA PRIVATE KEY"), the traditional grid form. */
  rsaPem: string;
  forgePrivate: forge.pki.rsa.PrivateKey;
  forgePublic: forge.pki.rsa.PublicKey;
}

export function makeKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const forgePrivate = pki.privateKeyFromPem(privateKey);
  return { pem: privateKey, rsaPem: pki.privateKeyToPem(forgePrivate), forgePrivate, forgePublic: pki.publicKeyFromPem(publicKey) };
}

export interface Issued {
  pem: string;
  cert: forge.pki.Certificate;
  key: TestKey;
}

export interface IssueOptions {
  subject: { name: string; value: string }[];
  key: TestKey;
  /** null: self-signed. */
  issuer: Issued | null;
  /** Unix seconds. */
  notBefore: number;
  notAfter: number;
  ca?: boolean;
}

export function issue(o: IssueOptions): Issued {
  const cert = pki.createCertificate();
  cert.publicKey = o.key.forgePublic;
  cert.serialNumber = "01" + randomBytes(8).toString("hex");
  cert.validity.notBefore = new Date(o.notBefore * 1000);
  cert.validity.notAfter = new Date(o.notAfter * 1000);
  cert.setSubject(o.subject);
  cert.setIssuer(o.issuer ? o.issuer.cert.subject.attributes : o.subject);
  cert.setExtensions(
    o.ca
      ? [
          { name: "basicConstraints", cA: true, critical: true },
          { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [
          { name: "basicConstraints", cA: false },
          { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
          { name: "extKeyUsage", serverAuth: true, clientAuth: true },
        ],
  );
  cert.sign(o.issuer ? o.issuer.key.forgePrivate : o.key.forgePrivate, forge.md.sha256.create());
  return { pem: pki.certificateToPem(cert), cert, key: o.key };
}

export const CA_SUBJECT = [
  { name: "countryName", value: "UK" },
  { name: "organizationName", value: "vacuum-agent tests" },
  { name: "commonName", value: "Test Grid CA" },
];
export const HOST_SUBJECT = [
  { name: "countryName", value: "UK" },
  { name: "organizationName", value: "vacuum-agent tests" },
  { name: "commonName", value: "vm01.vac.example.org" },
];

export interface TestPki {
  ca: Issued;
  otherCa: Issued;
  host: Issued;
  /** Another key pair, belonging to no certificate above. */
  otherKey: TestKey;
  /** issue() with the CA by default. */
  hostCert(notBefore: number, notAfter: number, key?: TestKey, issuer?: Issued): Issued;
}

/** CA valid ten years around `now`, host certificate valid from a day before `now` for 30 days. */
export function makePki(now: number): TestPki {
  const caKey = makeKey();
  const hostKey = makeKey();
  const otherKey = makeKey();
  const ca = issue({ subject: CA_SUBJECT, key: caKey, issuer: null, notBefore: now - 86_400, notAfter: now + 3650 * 86_400, ca: true });
  const otherCa = issue({
    subject: [{ name: "organizationName", value: "elsewhere" }, { name: "commonName", value: "Other CA" }],
    key: otherKey,
    issuer: null,
    notBefore: now - 86_400,
    notAfter: now + 3650 * 86_400,
    ca: true,
  });
  const hostCert = (notBefore: number, notAfter: number, key = hostKey, issuer = ca) => issue({ subject: HOST_SUBJECT, key, issuer, notBefore, notAfter });
  return { ca, otherCa, host: hostCert(now - 86_400, now + 30 * 86_400), otherKey, hostCert };
}
