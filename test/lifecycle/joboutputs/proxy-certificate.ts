// Test helper: an RFC 3820 proxy file (proxy cert + its key + issuer cert, as voms-proxy-init
// writes it) made from the client certificate of test/support/tls-fixtures.ts, following the
// recipe in toolchain.md section 5.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

const { pki, asn1 } = forge;

export function makeProxyPem(issuerCertPem: string, issuerKeyPem: string): string {
  const issuer = pki.certificateFromPem(issuerCertPem);
  const issuerKey = pki.privateKeyFromPem(issuerKeyPem);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(publicKey);
  const serial = BigInt("0x" + randomBytes(8).toString("hex")) & 0x7fffffffffffffffn;
  cert.serialNumber = serial.toString(16).padStart(16, "0");
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Math.min(Date.now() + 12 * 3600_000, issuer.validity.notAfter.getTime()));
  const U = asn1.Class.UNIVERSAL;
  const pci = asn1.create(U, asn1.Type.SEQUENCE, true, [
    asn1.create(U, asn1.Type.SEQUENCE, true, [asn1.create(U, asn1.Type.OID, false, asn1.oidToDer("1.3.6.1.5.5.7.21.1").getBytes())]),
  ]);
  cert.setSubject([
    ...issuer.subject.attributes.map(({ type, value, valueTagClass }) => ({ type, value, valueTagClass })),
    { name: "commonName", value: serial.toString(10) },
  ] as forge.pki.CertificateField[]);
  cert.setIssuer(issuer.subject.attributes);
  cert.setExtensions([
    { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    { id: "1.3.6.1.5.5.7.1.14", critical: true, value: pci },
  ]);
  cert.sign(issuerKey, forge.md.sha256.create());
  return pki.certificateToPem(cert) + privateKey + issuerCertPem;
}
