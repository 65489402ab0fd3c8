// RFC 3820 proxy certificates minted by the agent from the host certificate and key, as
// toolchain.md section 5 verified: node-forge builds the certificate (subject = the issuer's plus
// one CN holding the serial, critical keyUsage and proxyCertInfo with inheritAll), the key pair is
// the platform's native RSA-2048 (never forge's pure-JavaScript generator, seconds instead of
// milliseconds), and the TBSCertificate is signed natively with the issuer's key: forge's own RSA
// signature is JavaScript and costs about as much as the key generation. The file is the proxy
// certificate, its key and the issuer's certificate(s), as grid-proxy-init and voms-proxy-init
// write it, mode 0600. node-forge is loaded on first use so `agent --version` never pays for it.

import { generateKeyPair, randomBytes, sign, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { posix } from "node:path";
import type { asn1 as Asn1, pki as Pki } from "node-forge";
import { atomicWrite, ensureParentDirsSync } from "../exec/atomic-write.ts";
import { keyMatches, parseCertificates, parsePrivateKey, signedBy, slashDn, toCertificate } from "./certificate.ts";
import { CLOCK_SKEW_SECONDS, isoTime } from "./check.ts";

/** RFC 3820 proxyCertInfo, and the inheritAll policy language (a full proxy, like grid-proxy-init's default). */
const PROXY_CERT_INFO_OID = "1.3.6.1.5.5.7.1.14";
const INHERIT_ALL_OID = "1.3.6.1.5.5.7.21.1";
const PROXY_KEY_BITS = 2048;

export class MintProxyError extends Error {
  override name = "MintProxyError";
}

export interface MintProxyInput {
  /** The issuer: the host (or user) certificate PEM; further CERTIFICATE blocks are its chain. */
  issuerCertPem: string;
  issuerKeyPem: string;
  /** Unix seconds the proxy should last until; cut to the issuer's own end. */
  notAfter: number;
  /** Unix seconds; the current time by default. */
  now?: number;
}

export interface MintedProxy {
  /** Proxy certificate, proxy key (PKCS#1), issuer certificate(s). A secret. */
  pem: string;
  subject: string;
  /** Unix seconds. */
  notBefore: number;
  notAfter: number;
}

interface NativeKeys {
  publicKeyPem: string;
  privateKeyPem: string;
}

/** Native RSA key generation, off the event loop (OpenSSL in Node, BoringSSL in bun). */
function nativeKeyPair(): Promise<NativeKeys> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      "rsa",
      {
        modulusLength: PROXY_KEY_BITS,
        publicKeyEncoding: { type: "spki", format: "pem" },
        // PKCS#1 ("RSA PRIVATE KEY"): what grid-proxy-init and voms-proxy-init write, read by every grid tool.
        privateKeyEncoding: { type: "pkcs1", format: "pem" },
      },
      (err, publicKeyPem, privateKeyPem) => (err ? reject(err) : resolve({ publicKeyPem, privateKeyPem })),
    );
  });
}

/**
 * A positive 63-bit serial whose first byte is 0x40..0x7f: DER needs no sign byte and has no
 * leading zero (OpenSSL rejects padded INTEGERs), and the decimal form is the proxy's last CN.
 */
function proxySerial(): { hex: string; decimal: string } {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  const hex = bytes.toString("hex");
  return { hex, decimal: BigInt(`0x${hex}`).toString(10) };
}

export async function mintProxy(input: MintProxyInput): Promise<MintedProxy> {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const certs = parseCertificates(input.issuerCertPem);
  if (!certs.ok) throw new MintProxyError(`host certificate: ${certs.message}`);
  const key = parsePrivateKey(input.issuerKeyPem);
  if (!key.ok) throw new MintProxyError(`host key: ${key.message}`);
  const issuer = certs.value[0]!;
  if (!keyMatches(issuer, key.value)) throw new MintProxyError(`host key: expected the private key of ${issuer.subject}, found a key that belongs to another certificate`);
  if (key.value.asymmetricKeyType !== "rsa") {
    throw new MintProxyError(`host key: expected an RSA key to sign the proxy, found ${key.value.asymmetricKeyType ?? "an unknown"} key`);
  }
  // A few minutes in the past, as Globus does, so a service whose clock lags accepts the proxy at once.
  const notBefore = Math.max(issuer.notBefore, now - CLOCK_SKEW_SECONDS);
  const notAfter = Math.min(input.notAfter, issuer.notAfter);
  if (issuer.notAfter <= now) throw new MintProxyError(`host certificate ${issuer.subject} expired at ${isoTime(issuer.notAfter)}`);
  if (notAfter <= now) throw new MintProxyError(`expected an end of validity after now (${isoTime(now)}), asked for ${isoTime(input.notAfter)}`);

  const [{ default: forge }, keys] = await Promise.all([import("node-forge"), nativeKeyPair()]);
  const { pki, asn1 } = forge;
  const U = asn1.Class.UNIVERSAL;
  const forgeIssuer = pki.certificateFromPem(issuer.x509.toString());
  const serial = proxySerial();

  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serial.hex;
  cert.validity.notBefore = new Date(notBefore * 1000);
  cert.validity.notAfter = new Date(notAfter * 1000);
  cert.setSubject([
    ...forgeIssuer.subject.attributes.map(({ type, value, valueTagClass }) => ({ type, value, valueTagClass })),
    { name: "commonName", value: serial.decimal },
  ] as Pki.CertificateField[]);
  cert.setIssuer(forgeIssuer.subject.attributes);
  const proxyCertInfo = asn1.create(U, asn1.Type.SEQUENCE, true, [
    asn1.create(U, asn1.Type.SEQUENCE, true, [asn1.create(U, asn1.Type.OID, false, asn1.oidToDer(INHERIT_ALL_OID).getBytes())]),
  ]);
  cert.setExtensions([
    { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    { id: PROXY_CERT_INFO_OID, critical: true, value: proxyCertInfo },
  ]);

  // What cert.sign(key, sha256) does, with the RSA signature computed natively.
  const sha256WithRsa = pki.oids.sha256WithRSAEncryption!;
  // Fields cert.sign sets, and forge's own getTBSCertificate, which @types/node-forge leaves out.
  const forgeCert = cert as Pki.Certificate & { signatureOid: string; siginfo: { algorithmOid: string }; tbsCertificate: Asn1.Asn1; signature: string };
  const getTbs = (pki as unknown as { getTBSCertificate(c: Pki.Certificate): Asn1.Asn1 }).getTBSCertificate;
  forgeCert.signatureOid = sha256WithRsa;
  forgeCert.siginfo.algorithmOid = sha256WithRsa;
  forgeCert.tbsCertificate = getTbs(cert);
  const tbs = Buffer.from(asn1.toDer(forgeCert.tbsCertificate).getBytes(), "binary");
  forgeCert.signature = sign("sha256", tbs, key.value).toString("binary");
  const certPem = pki.certificateToPem(cert);

  // Cheap, and a broken certificate never reaches a payload.
  const minted = toCertificate(new X509Certificate(certPem));
  if (!signedBy(minted, issuer)) throw new MintProxyError(`the minted proxy does not verify with ${issuer.subject}'s key`);

  const chain = certs.value.map((c) => c.x509.toString().replace(/\n*$/, "\n")).join("");
  return {
    pem: `${certPem.replace(/\r\n/g, "\n")}${keys.privateKeyPem}${chain}`,
    subject: slashDn(minted.x509.subject),
    notBefore: minted.notBefore,
    notAfter: minted.notAfter,
  };
}

export interface MintProxyFileRequest {
  /** Real paths (already rooted under --root by the executor). */
  certPath: string;
  keyPath: string;
  path: string;
  /** Unix seconds; cut to the host certificate's end. */
  notAfter: number;
  /** 0600 or stricter: the file holds a private key. */
  mode: number;
  uid?: number;
  gid?: number;
  now?: number;
}

export interface MintProxyFileResult {
  subject: string;
  notAfter: number;
  /** One line for the log and the status: the proxy's subject and end, never its key. */
  detail: string;
}

/** The executor side of a `mint-proxy` action: read the host certificate and key, mint, write atomically. */
export async function mintProxyFile(req: MintProxyFileRequest): Promise<MintProxyFileResult> {
  if ((req.mode & 0o077) !== 0) throw new MintProxyError(`expected mode 0600 or stricter for a proxy file, got 0${(req.mode & 0o777).toString(8)}`);
  const read = async (path: string, what: string): Promise<string> => {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      throw new MintProxyError(`cannot read the ${what} ${path} (${(err as { code?: string }).code ?? "error"})`);
    }
  };
  const [issuerCertPem, issuerKeyPem] = await Promise.all([read(req.certPath, "host certificate"), read(req.keyPath, "host key")]);
  const minted = await mintProxy({ issuerCertPem, issuerKeyPem, notAfter: req.notAfter, ...(req.now !== undefined ? { now: req.now } : {}) });
  ensureParentDirsSync(posix.dirname(req.path));
  await atomicWrite(req.path, minted.pem, { mode: req.mode, ...(req.uid !== undefined ? { uid: req.uid } : {}), ...(req.gid !== undefined ? { gid: req.gid } : {}) });
  const cut = minted.notAfter < req.notAfter ? ` (cut to the host certificate's end; ${isoTime(req.notAfter)} was asked)` : "";
  return { subject: minted.subject, notAfter: minted.notAfter, detail: `proxy ${minted.subject} valid until ${isoTime(minted.notAfter)}${cut}` };
}
