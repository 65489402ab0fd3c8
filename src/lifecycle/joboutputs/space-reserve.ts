// A payload can fill the disk that holds the job outputs spool (its logs live there). The
// shutdown_message must still be written, so the agent holds a small file of its own on that
// filesystem from the start and deletes it right before it writes the message.
// The reserve holds random bytes, not zeros: a compressing filesystem (btrfs, zfs) would store
// zeros in almost no blocks and free almost nothing on release.

import { randomBytes } from "node:crypto";
import { unlink, writeFile } from "node:fs/promises";
import { posix } from "node:path";
import type { LogSink } from "../../status/log.ts";

/** A dot file: never picked up as a job output. */
export const RESERVE_NAME = ".vacuum-agent-reserve";
export const DEFAULT_RESERVE_BYTES = 64 * 1024;

export interface SpaceReserveFs {
  writeFile(path: string, data: Uint8Array, options: { mode: number }): Promise<void>;
  unlink(path: string): Promise<void>;
}

export interface SpaceReserve {
  path: string;
  /** Whether the reserve file is (still) held. */
  held(): boolean;
  /** Deletes the reserve; call it right before writing the shutdown_message. Never throws;
   * returns whether space was freed. */
  release(): Promise<boolean>;
}

export interface ReserveOptions {
  bytes?: number;
  log?: LogSink;
  /** For tests: a filesystem that fails on purpose. */
  fs?: SpaceReserveFs;
}

const nodeFs: SpaceReserveFs = {
  writeFile: (path, data, options) => writeFile(path, data, options),
  unlink: (path) => unlink(path),
};

/** Creates the reserve in spoolDir. Never throws: a disk already full at start means no reserve. */
export async function reserveSpace(spoolDir: string, o: ReserveOptions = {}): Promise<SpaceReserve> {
  const fs = o.fs ?? nodeFs;
  const path = posix.join(spoolDir, RESERVE_NAME);
  let held = false;
  try {
    await fs.writeFile(path, randomBytes(o.bytes ?? DEFAULT_RESERVE_BYTES), { mode: 0o600 });
    held = true;
  } catch (err) {
    o.log?.warn(`no space reserve for the shutdown_message in ${spoolDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    // Leave no partial file behind: nothing would ever delete it.
    await fs.unlink(path).catch(() => undefined);
  }
  return {
    path,
    held: () => held,
    async release() {
      if (!held) return false;
      held = false;
      try {
        await fs.unlink(path);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT") o.log?.warn(`cannot release the space reserve ${path} (${code ?? (err as Error).message})`);
        return false;
      }
    },
  };
}
