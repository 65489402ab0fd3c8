// Who a client certificate says the client is, as Vcycle decides it: the subject DN in `/`-form
// (`/DC=org/DC=example/CN=vm-01`). OpenSSL in Node and bun refuses RFC 3820 proxies as client
// certificates (toolchain.md P3), and a VM's credential from Vac or Vcycle is such a proxy
// (`##user_data_option_x509_proxy##`: the site's certificate plus `/CN=<machinetype>`). So the
// TLS layer lets every certificate through and this file checks the chain itself:
//   - a chain OpenSSL verified against the client CAs: its leaf's DN;
//   - else proxies: each certificate signed by the next one's key, its subject the next one's plus
//     one CN, all within their validity; below them the end-entity certificate (not a CA), signed
//     by a client CA (directly or through CA certificates the client sent): the leaf's DN.
// Not checked: CRLs, proxy path-length limits and policies (a proxy grants what its issuer has).

import { X509Certificate } from "node:crypto";

export type Identity = { dn: string; proxy: boolean } | { problem: string };

const MAX_CHAIN = 10;

/** `O=x\nCN=y` (X509Certificate keeps the attribute order) -> `/O=x/CN=y`. */
export const slashDn = (subject: string): string =>
  subject
    .split("\n")
    .filter(Boolean)
    .map((p) => `/${p}`)
    .join("");

const validAt = (c: X509Certificate, now: number): boolean => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);

/** `cert` is a proxy issued by `issuer`: signed by it, named after it plus one CN. */
function isProxyOf(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.issuer === issuer.subject && cert.subject.startsWith(`${issuer.subject}\nCN=`) && !cert.subject.slice(issuer.subject.length + 1).includes("\n") && cert.verify(issuer.publicKey);
}

function signedByCa(cert: X509Certificate, cas: readonly X509Certificate[], now: number): boolean {
  return cas.some((ca) => ca.subject === cert.issuer && validAt(ca, now) && cert.verify(ca.publicKey));
}

/**
 * The identity of the chain `der` (leaf first) presented on a TLS connection; `authorized` is
 * what OpenSSL decided against the same client CAs.
 */
export function certificateIdentity(der: readonly Buffer[], authorized: boolean, cas: readonly X509Certificate[], now = Date.now()): Identity {
  if (der.length === 0) return { problem: "no client certificate" };
  let chain: X509Certificate[];
  try {
    chain = der.slice(0, MAX_CHAIN).map((d) => new X509Certificate(d));
  } catch {
    return { problem: "a client certificate that cannot be parsed" };
  }
  const leaf = chain[0]!;
  if (authorized) return { dn: slashDn(leaf.subject), proxy: false };
  let i = 0;
  while (i + 1 < chain.length && isProxyOf(chain[i]!, chain[i + 1]!)) {
    if (!validAt(chain[i]!, now)) return { problem: "an expired or not yet valid proxy" };
    i++;
  }
  if (i === 0) return { problem: "a client certificate not issued by a trusted CA" };
  const eec = chain[i]!;
  if (eec.ca) return { problem: "a proxy signed by a CA certificate" };
  if (!validAt(eec, now)) return { problem: "a proxy of an expired or not yet valid certificate" };
  // Up the CA certificates the client sent, until one is signed by a trusted CA.
  let cert = eec;
  for (let j = i + 1; ; j++) {
    if (signedByCa(cert, cas, now)) return { dn: slashDn(leaf.subject), proxy: true };
    const next = chain[j];
    if (!next || !next.ca || !validAt(next, now) || next.subject !== cert.issuer || !cert.verify(next.publicKey)) {
      return { problem: "a proxy of a certificate not issued by a trusted CA" };
    }
    cert = next;
  }
}

/** Whether `dn` starts with one of `prefixes` (Vcycle: `https_x509dn` is a prefix of the DN). */
export const dnAllowed = (dn: string, prefixes: readonly string[]): boolean => prefixes.some((p) => p !== "" && dn.startsWith(p));
