// An X.509 proxy file (RFC 3820, as grid-proxy-init and voms-proxy-init write it) is one PEM
// file: the proxy certificate, its private key, then the issuing chain. TLS clients take the
// chain and the key separately. Messages name what is missing, never any of the key's text.

import { X509Certificate, createPrivateKey } from "node:crypto";

export type ClientCredential =
  | { ok: true; cert: string; key: string; subject: string | null; notAfter: Date | null }
  | { ok: false; message: string };

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/** `/O=vacuum-agent tests/CN=host-01.example`: the form Vcycle compares with https_x509dn. */
export function slashDn(subject: string): string {
  return subject
    .split("\n")
    .filter((part) => part !== "")
    .map((part) => `/${part}`)
    .join("");
}

/** Splits a proxy (or any cert + key PEM bundle) into the chain and the key, and checks they belong together. */
export function splitProxyPem(pem: string): ClientCredential {
  const certs = pem.match(CERT_BLOCK) ?? [];
  const keyMatch = KEY_BLOCK.exec(pem);
  if (certs.length === 0 && !keyMatch) return { ok: false, message: "expected PEM certificate and private key blocks, found neither" };
  if (certs.length === 0) return { ok: false, message: "expected a PEM certificate block besides the private key, found none" };
  if (!keyMatch) return { ok: false, message: `expected a PEM private key block besides ${certs.length} certificate(s), found none` };
  if (keyMatch[1] === "ENCRYPTED PRIVATE KEY" || /Proc-Type:\s*4,ENCRYPTED/.test(keyMatch[0])) {
    return { ok: false, message: "the private key is encrypted; a proxy or host key must be unencrypted" };
  }
  const chain = certs.map((c) => `${c}\n`).join("");
  const key = `${keyMatch[0]}\n`;
  let subject: string | null = null;
  let notAfter: Date | null = null;
  try {
    const first = new X509Certificate(certs[0]!);
    subject = slashDn(first.subject);
    const until = new Date(first.validTo);
    notAfter = Number.isNaN(until.getTime()) ? null : until;
    if (!first.checkPrivateKey(createPrivateKey(key))) {
      return { ok: false, message: "the private key does not belong to the first certificate (the proxy must come first)" };
    }
  } catch (err) {
    // Node's messages about a key never include its text, but keep only the error code anyway.
    const code = (err as { code?: string }).code ?? "unparsable";
    return { ok: false, message: `the certificate or key cannot be parsed (${code})` };
  }
  return { ok: true, cert: chain, key, subject, notAfter };
}
