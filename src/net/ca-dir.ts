// Grid CA directories (/etc/grid-security/certificates) are OpenSSL hash directories: each CA is
// `<hash>.0` (`.1`, … on collisions), often next to `<name>.pem` copies, plus `.signing_policy`,
// `.namespaces`, `.crl_url`, `.info` and `<hash>.r0` CRLs that are not certificates. Node's TLS
// takes CAs as PEM text only, so read every certificate file once, deduplicated.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const CA_FILE = /\.(pem|crt|\d+)$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every PEM certificate in `dir`, one string per certificate; unreadable files are skipped. */
export async function readCaDir(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => CA_FILE.test(n)).sort();
  const seen = new Set<string>();
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(join(dir, name), "utf8");
    } catch {
      continue; // a dangling symlink or a subdirectory named like a CA file
    }
    for (const cert of text.match(PEM_CERT) ?? []) seen.add(cert);
  }
  return [...seen];
}
