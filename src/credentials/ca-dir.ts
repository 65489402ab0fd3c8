// The CA directory (credentials.ca_dir, /etc/grid-security/certificates by default): the trust
// anchors grid software reads through OpenSSL's -CApath lookup, which finds a CA only through
// `<subject hash>.<n>` links. It may not exist when the agent plans (CVMFS's
// /cvmfs/grid.cern.ch/etc/grid-security/certificates is mounted later), so its facts are read once,
// read-only, and checks that need it are skipped with an info problem when it is absent.

import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { posix } from "node:path";
import { toCertificate, type Certificate } from "./certificate.ts";

export interface CaDirFacts {
  /** The machine path (credentials.ca_dir). */
  path: string;
  exists: boolean;
  /** `<8 hex digits>.<n>` entries: OpenSSL's certificate hash links (`.r<n>` CRL links are not counted). */
  hashLinks: number;
  /** `*.pem` and `*.crt` files: the certificates as distributed (IGTF ships `<alias>.pem`). */
  certificateFiles: number;
  /** Every certificate readable in the directory, duplicates (a file and its links) removed. */
  cas: Certificate[];
  /** Entries that could not be read or parsed, by name (counted, never fatal). */
  unreadable: string[];
}

const HASH_LINK = /^[0-9a-f]{8}\.[0-9]+$/;
const CERT_FILE = /\.(pem|crt)$/;
/** More than the IGTF bundle (about 250 anchors) times the two hash styles of c_rehash. */
const MAX_ENTRIES = 4000;

/** Reads the CA directory at `realPath` (the machine path rooted under --root by the caller). */
export function probeCaDir(realPath: string, machinePath: string): CaDirFacts {
  const facts: CaDirFacts = { path: machinePath, exists: false, hashLinks: 0, certificateFiles: 0, cas: [], unreadable: [] };
  let names: string[];
  try {
    if (!statSync(realPath).isDirectory()) return facts;
    names = readdirSync(realPath).sort().slice(0, MAX_ENTRIES);
  } catch {
    return facts;
  }
  facts.exists = true;
  const seen = new Set<string>();
  for (const name of names) {
    const isLink = HASH_LINK.test(name);
    const isFile = CERT_FILE.test(name);
    if (!isLink && !isFile) continue;
    if (isLink) facts.hashLinks++;
    else facts.certificateFiles++;
    try {
      const x509 = new X509Certificate(readFileSync(posix.join(realPath, name)));
      if (seen.has(x509.fingerprint256)) continue;
      seen.add(x509.fingerprint256);
      facts.cas.push(toCertificate(x509));
    } catch {
      facts.unreadable.push(name);
    }
  }
  return facts;
}

/** Certificate files without hash links: OpenSSL's -CApath lookup would not find them. */
export const needsRehash = (facts: CaDirFacts): boolean => facts.exists && facts.certificateFiles > 0 && facts.hashLinks < facts.certificateFiles;
