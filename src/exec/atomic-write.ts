// Files appear whole or not at all (cloud-init's atomic_helper): a temp file in the target's
// directory, created with the final mode (so a key is never world-readable, not even for a
// moment), written, fsynced, chowned, then renamed over the target. A VM can lose power at any
// time; readers (Vac, Vcycle, `agent status`) then see the old file or the new one.

import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { chmod, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { posix } from "node:path";

export interface WriteOptions {
  /** Permission bits of the final file, e.g. 0o600. */
  mode: number;
  uid?: number;
  gid?: number;
  /**
   * false: still atomic (rename), but without the fsyncs that make it survive a power cut: for a
   * file rewritten many times a second whose last version alone matters (status.json between
   * stages; each fsync pair costs ~10 ms in a slow VM). Default true.
   */
  durable?: boolean;
}

const tempPathFor = (path: string): string =>
  posix.join(posix.dirname(path), `.${posix.basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);

const bytesOf = (data: string | Uint8Array): Uint8Array => (typeof data === "string" ? Buffer.from(data, "utf8") : data);

const wantsChown = (o: WriteOptions): boolean => o.uid !== undefined || o.gid !== undefined;

/** Flush the rename itself to disk; some filesystems cannot fsync a directory, which is fine. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function atomicWrite(path: string, data: string | Uint8Array, options: WriteOptions): Promise<void> {
  const mode = options.mode & 0o7777;
  const temp = tempPathFor(path);
  // "wx": O_CREAT|O_EXCL, so an attacker's symlink at the temp name is not followed.
  const handle = await open(temp, "wx", mode & 0o777);
  let renamed = false;
  try {
    const bytes = bytesOf(data);
    let offset = 0;
    while (offset < bytes.length) offset += (await handle.write(bytes, offset)).bytesWritten;
    await handle.sync();
    if (wantsChown(options)) await handle.chown(options.uid ?? -1, options.gid ?? -1);
    // The umask only ever narrows the creation mode; set the exact bits (after chown, which
    // clears set-id bits).
    await handle.chmod(mode);
    await handle.close();
    await rename(temp, path);
    renamed = true;
    syncDirectory(posix.dirname(path));
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}

/** The same, for callers that must not yield (status.json between stages, on the way down). */
export function atomicWriteSync(path: string, data: string | Uint8Array, options: WriteOptions): void {
  const mode = options.mode & 0o7777;
  const temp = tempPathFor(path);
  const fd = openSync(temp, "wx", mode & 0o777);
  let closed = false;
  let renamed = false;
  try {
    const bytes = bytesOf(data);
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
    if (options.durable !== false) fsyncSync(fd);
    if (wantsChown(options)) fchownSync(fd, options.uid ?? -1, options.gid ?? -1);
    fchmodSync(fd, mode);
    closeSync(fd);
    closed = true;
    renameSync(temp, path);
    renamed = true;
    if (options.durable !== false) syncDirectory(posix.dirname(path));
  } finally {
    if (!renamed) {
      if (!closed) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      try {
        unlinkSync(temp);
      } catch {
        // never created or already gone
      }
    }
  }
}

/** Directories that `mkdir -p` would create for `path`, outermost first. */
function missingDirs(path: string): string[] {
  const missing: string[] = [];
  let p = posix.resolve(path);
  for (;;) {
    try {
      statSync(p);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    missing.unshift(p);
    const up = posix.dirname(p);
    if (up === p) break;
    p = up;
  }
  return missing;
}

/** Create missing directories down to `dir`, each exactly 0755 (not narrowed by the umask). */
export function ensureParentDirsSync(dir: string): void {
  for (const d of missingDirs(dir)) {
    try {
      mkdirSync(d, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    chmodSync(d, 0o755);
  }
}

/**
 * Make sure `path` is a directory with exactly `mode`; missing parents are created 0755.
 * Returns whether the directory was created.
 */
export async function ensureDir(path: string, mode: number): Promise<boolean> {
  const existing = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw err;
  });
  if (existing && !existing.isDirectory()) throw new Error(`${path} exists and is not a directory`);
  if (!existing) {
    ensureParentDirsSync(posix.dirname(path));
    await mkdir(path, { mode: mode & 0o777 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
  await chmod(path, mode & 0o7777);
  return !existing;
}

export function ensureDirSync(path: string, mode: number): boolean {
  let existing: ReturnType<typeof statSync> | null = null;
  try {
    existing = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (existing && !existing.isDirectory()) throw new Error(`${path} exists and is not a directory`);
  if (!existing) {
    ensureParentDirsSync(posix.dirname(path));
    try {
      mkdirSync(path, { mode: mode & 0o777 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  chmodSync(path, mode & 0o7777);
  return !existing;
}
