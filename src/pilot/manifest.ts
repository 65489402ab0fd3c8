// checksums.sha512 as DIRAC's PilotCStoJSONSynchronizer writes it: `sha512sum` output, one
// `<128 hex digits>  <name>` line per file (`<hex> *<name>` in binary mode, and the BSD
// `SHA512 (<name>) = <hex>` form of `sha512sum --tag` for hand-made directories). Bad input never
// throws: every line that does not fit is reported with its number and what was found.

import { flatNameProblem } from "./file-name.ts";

export const MANIFEST_NAME = "checksums.sha512";

export interface ManifestEntry {
  name: string;
  /** Lower-case hex. */
  sha512: string;
}

export type ManifestResult = { ok: true; entries: ManifestEntry[] } | { ok: false; errors: string[] };

const GNU_LINE = /^([0-9a-fA-F]{128}) [ *](.*)$/;
const TAG_LINE = /^SHA512 \((.*)\) = ([0-9a-fA-F]{128})$/;

/** Printable preview of a bad line: never more than 80 characters, control characters escaped. */
function preview(line: string): string {
  const shown = JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line);
  return shown;
}

export function parseManifest(text: string): ManifestResult {
  const errors: string[] = [];
  const byName = new Map<string, ManifestEntry>();
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const where = `${MANIFEST_NAME} line ${i + 1}`;
    if (line.trim() === "") return;
    let name: string;
    let hex: string;
    const gnu = GNU_LINE.exec(line);
    const tag = gnu ? null : TAG_LINE.exec(line);
    if (gnu) [, hex, name] = gnu as unknown as [string, string, string];
    else if (tag) [, name, hex] = tag as unknown as [string, string, string];
    else {
      // sha512sum starts a line with "\" when it escaped a backslash or newline in the name:
      // such a name is never flat, so say that rather than "bad format".
      const hint = line.startsWith("\\") ? " (an escaped name with a backslash or newline)" : "";
      errors.push(`${where}: expected "<128 hex digits>  <file name>", found ${preview(line)}${hint}`);
      return;
    }
    const problem = flatNameProblem(name);
    if (problem) {
      errors.push(`${where}: expected a file name in the pilot directory, found ${problem}`);
      return;
    }
    if (name === MANIFEST_NAME) return; // a file cannot vouch for itself; nothing to fetch
    const sha512 = hex.toLowerCase();
    const earlier = byName.get(name);
    if (earlier && earlier.sha512 !== sha512) {
      errors.push(`${where}: ${name} is listed twice with different checksums`);
      return;
    }
    byName.set(name, { name, sha512 });
  });
  if (errors.length > 0) return { ok: false, errors };
  if (byName.size === 0) return { ok: false, errors: [`${MANIFEST_NAME}: lists no files`] };
  return { ok: true, entries: [...byName.values()] };
}
