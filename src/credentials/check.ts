// Checks of the credentials a VM is given, before anything is installed: each PEM parses, the key
// belongs to its certificate, a proxy's chain holds together, nothing has expired, everything lasts
// until the VM's deadline, and the chain ends at a CA of the CA directory when that exists. Pure:
// the clock, the deadline and the CA directory's contents are inputs. Findings name the item and
// say what was expected and found, with subjects and dates only, never key material.

import type { Severity } from "../config/problem.ts";
import type { CaDirFacts } from "./ca-dir.ts";
import { keyMatches, parseCertificates, parsePrivateKey, signedBy, type Certificate } from "./certificate.ts";

export type CredentialItem = "credentials.x509_proxy" | "credentials.hostcert" | "credentials.hostkey" | "credentials.ca_dir";

export interface Finding {
  severity: Severity;
  item: CredentialItem;
  message: string;
}

export interface CredentialCheckInput {
  x509_proxy?: string;
  hostcert?: string;
  hostkey?: string;
  /** Unix seconds: the agent's start. */
  now: number;
  /** Unix seconds of the VM's hard deadline, or null when none is known. */
  deadline: number | null;
  expiryPolicy: "warn" | "fail";
  /** What the CA directory holds, or null when it was not looked at. */
  caDir: CaDirFacts | null;
}

/** Clocks of a fresh VM and of a certificate's issuer differ by a few minutes at most. */
export const CLOCK_SKEW_SECONDS = 300;

export const isoTime = (unix: number): string => new Date(unix * 1000).toISOString().replace(/\.000Z$/, "Z");

function hours(seconds: number): string {
  const h = seconds / 3600;
  return h >= 10 ? `${Math.round(h)} h` : `${h.toFixed(1)} h`;
}

const nth = (certs: readonly Certificate[], i: number): string => (certs.length === 1 ? `the certificate (${certs[i]!.subject})` : `certificate ${i + 1} (${certs[i]!.subject})`);

export function checkCredentials(input: CredentialCheckInput): Finding[] {
  const out: Finding[] = [];
  const add = (severity: Severity, item: CredentialItem, message: string) => out.push({ severity, item, message });
  const chains: { item: CredentialItem; certs: Certificate[] }[] = [];

  if (input.x509_proxy !== undefined) {
    const item = "credentials.x509_proxy";
    const certs = parseCertificates(input.x509_proxy);
    const key = parsePrivateKey(input.x509_proxy);
    if (!certs.ok) add("error", item, certs.message);
    if (!key.ok) add("error", item, key.message);
    if (certs.ok) {
      if (key.ok && !keyMatches(certs.value[0]!, key.value)) {
        add("error", item, `expected the private key of the first certificate (${certs.value[0]!.subject}), the proxy itself, found a key that belongs to another certificate`);
      }
      if (certs.value.length === 1) {
        add("warning", item, `expected the proxy certificate followed by its issuer's certificate, found only one certificate (${certs.value[0]!.subject}): the chain cannot be checked`);
      }
      if (chainHolds(item, certs.value, add)) chains.push({ item, certs: certs.value });
      checkValidity(item, certs.value, input, add);
    }
  }

  if (input.hostcert !== undefined) {
    const item = "credentials.hostcert";
    const certs = parseCertificates(input.hostcert);
    if (!certs.ok) add("error", item, certs.message);
    else {
      if (chainHolds(item, certs.value, add)) chains.push({ item, certs: certs.value });
      checkValidity(item, certs.value, input, add);
    }
    if (input.hostkey !== undefined) {
      const key = parsePrivateKey(input.hostkey);
      if (!key.ok) add("error", "credentials.hostkey", key.message);
      else if (certs.ok && !keyMatches(certs.value[0]!, key.value)) {
        add("error", "credentials.hostkey", `expected the private key of credentials.hostcert (${certs.value[0]!.subject}), found a key that belongs to another certificate`);
      }
    }
  }

  if (input.caDir !== null && chains.length > 0) checkAnchors(input.caDir, chains, add);
  return out;
}

type Add = (severity: Severity, item: CredentialItem, message: string) => void;

/** Each certificate is issued by the next one in the file (proxy, then its issuer, then any intermediates). */
function chainHolds(item: CredentialItem, certs: readonly Certificate[], add: Add): boolean {
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!signedBy(certs[i]!, certs[i + 1]!)) {
      add("error", item, `expected each certificate to be issued by the next, found ${nth(certs, i)} not issued by ${nth(certs, i + 1)}: the chain is broken`);
      return false;
    }
  }
  return true;
}

function checkValidity(item: CredentialItem, certs: readonly Certificate[], input: CredentialCheckInput, add: Add): void {
  const expired = certs.findIndex((c) => c.notAfter <= input.now);
  if (expired >= 0) {
    add("error", item, `expected a valid certificate, found ${nth(certs, expired)} expired at ${isoTime(certs[expired]!.notAfter)}`);
    return;
  }
  const early = certs.findIndex((c) => c.notBefore > input.now + CLOCK_SKEW_SECONDS);
  if (early >= 0) {
    add("warning", item, `${nth(certs, early)} is not valid before ${isoTime(certs[early]!.notBefore)}, later than the agent's start ${isoTime(input.now)}: the clock or the certificate is wrong`);
  }
  if (input.deadline === null) return;
  let first = 0;
  certs.forEach((c, i) => {
    if (c.notAfter < certs[first]!.notAfter) first = i;
  });
  const until = certs[first]!.notAfter;
  if (until < input.deadline) {
    const fail = input.expiryPolicy === "fail";
    add(
      fail ? "error" : "warning",
      item,
      `expected validity until the VM's deadline ${isoTime(input.deadline)}, found ${nth(certs, first)} valid until ${isoTime(until)}, ${hours(input.deadline - until)} earlier (credentials.expiry_policy is "${input.expiryPolicy}")`,
    );
  }
}

/**
 * The last certificate of each chain is issued by (or is) a CA of the CA directory. Only a warning:
 * the directory trusts servers for this VM, while the credentials are judged by the services they
 * are presented to, and an image's directory may lag the IGTF bundle.
 */
function checkAnchors(caDir: CaDirFacts, chains: readonly { item: CredentialItem; certs: Certificate[] }[], add: Add): void {
  if (!caDir.exists) {
    add("info", "credentials.ca_dir", `${caDir.path} does not exist (yet): the certificates' chains are not checked against it (it may come from CVMFS later)`);
    return;
  }
  if (caDir.cas.length === 0) {
    add("info", "credentials.ca_dir", `${caDir.path} holds no readable CA certificate (yet): the certificates' chains are not checked against it`);
    return;
  }
  for (const { item, certs } of chains) {
    const top = certs.at(-1)!;
    if (caDir.cas.some((ca) => ca.x509.fingerprint256 === top.x509.fingerprint256)) continue;
    const named = caDir.cas.filter((ca) => ca.x509.subject === top.x509.issuer);
    if (named.length === 0) {
      add("warning", item, `expected ${nth(certs, certs.length - 1)} to be issued by a CA in ${caDir.path}, found no CA named ${top.issuer} among its ${caDir.cas.length}`);
    } else if (!named.some((ca) => signedBy(top, ca))) {
      add("warning", item, `expected ${nth(certs, certs.length - 1)} to be signed by the CA ${top.issuer} in ${caDir.path}, found that its signature does not verify with that CA's key`);
    }
  }
}
