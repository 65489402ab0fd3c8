// Puts downloaded files into the pilot directory. Every file goes to a temp name first (created
// O_EXCL, so a planted symlink is never followed), gets its owner and mode, and is renamed over its
// final name only once the whole set is ready: a file under its final name has always passed
// verification. No fsync: a VM that loses power never boots again (vacuum VMs are one-shot), so
// durability buys nothing and would cost one disk flush per file.

import { randomBytes } from "node:crypto";
import { lstat, mkdir, open, readdir, rename, unlink, chown } from "node:fs/promises";
import { join } from "node:path";
import { atomicWrite } from "../exec/atomic-write.ts";
import { readRecord, RECORD_NAME, recordText, type PilotRecord } from "./record.ts";

export interface FileToWrite {
  name: string;
  data: Uint8Array;
}

export interface Owner {
  uid?: number;
  gid?: number;
}

const TEMP_NAME = /^\.pilot-tmp-[0-9a-f]{12}-\d+$/;

/** Scripts stay executable, as wget's copies are not but the pilot's own `chmod` would make them. */
export const modeFor = (name: string): number => (/\.(py|sh)$/.test(name) ? 0o755 : 0o644);

const hasOwner = (o: Owner) => o.uid !== undefined || o.gid !== undefined;

/**
 * Creates `dir` when missing, then removes what an earlier download left: the files its record
 * lists, its record, and temp files of an interrupted commit. Files the agent did not write stay.
 */
export async function prepareDirectory(dir: string, owner: Owner): Promise<void> {
  const existing = await lstat(dir).catch(() => null);
  if (existing && !existing.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
  if (!existing) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (hasOwner(owner)) await chown(dir, owner.uid ?? -1, owner.gid ?? -1);
  }
  const stale = readRecord(dir)?.files.map((f) => f.name) ?? [];
  const temps = (await readdir(dir)).filter((n) => TEMP_NAME.test(n));
  for (const name of [...stale, ...temps, RECORD_NAME]) {
    const path = join(dir, name);
    const st = await lstat(path).catch(() => null);
    if (st && !st.isDirectory()) await unlink(path);
  }
}

async function writeTemp(path: string, data: Uint8Array, mode: number, owner: Owner): Promise<void> {
  const handle = await open(path, "wx", mode & 0o777);
  try {
    let offset = 0;
    while (offset < data.length) offset += (await handle.write(data, offset)).bytesWritten;
    if (hasOwner(owner)) await handle.chown(owner.uid ?? -1, owner.gid ?? -1);
    await handle.chmod(mode); // exact bits, whatever the umask
  } finally {
    await handle.close();
  }
}

/**
 * Writes every file under a temp name, then the record, then renames them all into place. On
 * failure the temp files are removed and the error is rethrown; nothing half-written remains.
 */
export async function commitFiles(dir: string, files: FileToWrite[], record: PilotRecord, owner: Owner): Promise<void> {
  const tag = randomBytes(6).toString("hex");
  const temps = files.map((f, i) => ({ final: join(dir, f.name), temp: join(dir, `.pilot-tmp-${tag}-${i}`), f }));
  let renamed = 0;
  try {
    await Promise.all(temps.map((t) => writeTemp(t.temp, t.f.data, modeFor(t.f.name), owner)));
    // The record first: if the VM dies between two renames, the next attempt still knows which
    // names to clear. verifiedPilotFiles() re-hashes, so a name not yet renamed is never trusted.
    await atomicWrite(join(dir, RECORD_NAME), recordText(record), { mode: 0o644 });
    for (const t of temps) {
      await rename(t.temp, t.final);
      renamed += 1;
    }
  } finally {
    for (const t of temps.slice(renamed)) await unlink(t.temp).catch(() => undefined);
  }
}
