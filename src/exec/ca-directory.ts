import { existsSync } from "node:fs";

/**
 * The CA directory a TLS client of the executor verifies against: the copy under --root when there
 * is one (what host preparation put there), else the machine's own (a --root run on a host whose
 * CAs are installed), else none (the system CAs).
 */
export function caDirectory(machinePath: string | null | undefined, at: (p: string) => string): string | undefined {
  if (!machinePath) return undefined;
  const rooted = at(machinePath);
  if (existsSync(rooted)) return rooted;
  return existsSync(machinePath) ? machinePath : undefined;
}
