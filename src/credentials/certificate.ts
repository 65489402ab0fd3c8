// Certificates and private keys from PEM text, parsed with node:crypto (native in Node and in bun,
// no dependency to load). Failures come back as messages that name what was expected and found;
// an error from the crypto library is reduced to its code, so no key text can leak through it.

import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { CERTIFICATE, describeBlocks, PRIVATE_KEY_LABELS, readPem } from "./pem.ts";

export interface Certificate {
  x509: X509Certificate;
  /** `/O=Example/CN=host.example.org`: the form grid software prints and compares. */
  subject: string;
  issuer: string;
  /** Unix seconds. */
  notBefore: number;
  notAfter: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** `/O=vacuum-agent tests/CN=host-01.example` from node's "O=…\nCN=…" form. */
export const slashDn = (name: string): string =>
  name
    .split("\n")
    .filter((part) => part !== "")
    .map((part) => `/${part}`)
    .join("");

const errorCode = (err: unknown): string => (err as { code?: string }).code ?? "unparsable";

const unixSeconds = (text: string): number => Math.floor(new Date(text).getTime() / 1000);

export function toCertificate(x509: X509Certificate): Certificate {
  return { x509, subject: slashDn(x509.subject), issuer: slashDn(x509.issuer), notBefore: unixSeconds(x509.validFrom), notAfter: unixSeconds(x509.validTo) };
}

/** Every CERTIFICATE block, in order; other blocks (a key in a proxy file) are left to parsePrivateKey. */
export function parseCertificates(text: string): Parsed<Certificate[]> {
  const pem = readPem(text, "a PEM certificate");
  if (!pem.ok) return pem;
  const blocks = pem.blocks.filter((b) => b.label === CERTIFICATE);
  if (blocks.length === 0) return { ok: false, message: `expected a PEM certificate, found only ${describeBlocks(pem.blocks)}` };
  const certs: Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      certs.push(toCertificate(new X509Certificate(b.text)));
    } catch (err) {
      return { ok: false, message: `expected a PEM certificate, found a CERTIFICATE block (number ${i + 1}) that is not a valid X.509 certificate (${errorCode(err)})` };
    }
  }
  return { ok: true, value: certs };
}

/** The one unencrypted private key in `text`. */
export function parsePrivateKey(text: string): Parsed<KeyObject> {
  const pem = readPem(text, "a PEM private key");
  if (!pem.ok) return pem;
  const keys = pem.blocks.filter((b) => PRIVATE_KEY_LABELS.has(b.label) || b.label === "ENCRYPTED PRIVATE KEY");
  if (keys.length === 0) return { ok: false, message: `expected a PEM private key, found only ${describeBlocks(pem.blocks)}` };
  if (keys.length > 1) return { ok: false, message: `expected one PEM private key, found ${keys.length}` };
  const block = keys[0]!;
  if (block.label === "ENCRYPTED PRIVATE KEY" || block.encrypted) {
    return { ok: false, message: "expected an unencrypted private key, found an encrypted one (the agent has no passphrase)" };
  }
  try {
    return { ok: true, value: createPrivateKey(block.text) };
  } catch (err) {
    return { ok: false, message: `expected a PEM private key, found a ${block.label} block that cannot be read (${errorCode(err)})` };
  }
}

/** Whether the key is the certificate's: their public keys are the same (SPKI DER). */
export function keyMatches(cert: Certificate, key: KeyObject): boolean {
  try {
    const fromKey = createPublicKey(key).export({ type: "spki", format: "der" });
    const fromCert = cert.x509.publicKey.export({ type: "spki", format: "der" });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}

/**
 * Whether `issuer` issued `cert`: the names chain and the signature verifies with the issuer's key.
 * Not X509Certificate.checkIssued: it also demands keyCertSign of the issuer, which a host or user
 * certificate that signs a proxy never has, and bun's BoringSSL knows no proxy exception.
 */
export function signedBy(cert: Certificate, issuer: Certificate): boolean {
  try {
    return cert.x509.issuer === issuer.x509.subject && cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}
