// The agent binaries a definition publishes (`agents`): served from disk, never held in memory
// (about 110 MB each), with their sha256 so a bootstrap script can check what it downloaded. The
// hash is computed once and again only when the file's identity (inode, size, mtime) changes, so a
// rebuilt dist/agent is published with its new hash without a reload.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

export interface AgentBinary {
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** inode, size and mtime when the hash was computed. */
  identity: string;
  lastModified: Date;
}

/** Largest binary published: a bigger file is a mistake (a directory of images, a core dump). */
export const MAX_AGENT_BYTES = 512 * 1024 * 1024;

export const identityOf = (s: { ino: number; size: number; mtimeMs: number }): string => `${s.ino}:${s.size}:${s.mtimeMs}`;

export function sha256File(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolveHash(hash.digest("hex")))
      .on("error", reject);
  });
}

/** The binary with its hash, or why it cannot be published. */
export async function loadAgentBinary(name: string, path: string): Promise<AgentBinary | { problem: string }> {
  try {
    const before = await stat(path);
    if (!before.isFile()) return { problem: `${path} is not a regular file` };
    if (before.size > MAX_AGENT_BYTES) return { problem: `${path} has ${before.size} bytes: more than ${MAX_AGENT_BYTES}` };
    const sha256 = await sha256File(path);
    const after = await stat(path);
    // Rewritten while it was hashed (a build running): the hash belongs to neither version.
    if (identityOf(after) !== identityOf(before)) return { problem: `${path} changed while it was read: try again once it is written` };
    return { name, path, size: after.size, sha256, identity: identityOf(after), lastModified: new Date(Math.floor(after.mtimeMs / 1000) * 1000) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: `cannot read ${path}: ${code === "ENOENT" ? "no such file" : code ?? String(err)}` };
  }
}

/** `<hex>  <name>\n`, what `sha256sum -c` reads. */
export const sha256Line = (a: Pick<AgentBinary, "name" | "sha256">): string => `${a.sha256}  ${a.name}\n`;
