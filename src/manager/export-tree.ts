// Writes a static tree so that readers never see half of it: everything goes into a temporary
// directory beside DIR, is fsynced, and is then renamed into place. An existing DIR is replaced
// only if it looks like an earlier export (nothing but pipes/ and user_data/), so a mistyped DIR
// cannot wipe someone's home directory.

import { copyFile, lstat, mkdir, mkdtemp, open, readdir, rename, rm, chmod } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

export interface TreeFile {
  /** Relative path inside the tree, with "/" separators and no "..". */
  path: string;
  bytes: Uint8Array;
  /** Copied from this file instead of `bytes` (agent binaries: never read into memory). */
  from?: string;
  /** Permission bits; default 0644. */
  mode?: number;
}

export class ExportError extends Error {}

/** The top-level entries an export tree may have (and so may be replaced). */
export const TREE_ENTRIES: ReadonlySet<string> = new Set(["pipes", "user_data", "agents", "pilots"]);

export async function writeTreeAtomically(dir: string, files: readonly TreeFile[]): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  const name = basename(target);
  for (const f of files) {
    if (f.path.startsWith("/") || f.path.split("/").some((part) => part === "" || part === "." || part === "..")) {
      throw new ExportError(`refusing to write ${JSON.stringify(f.path)} outside the tree`);
    }
  }
  const existing = await inspectTarget(target);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.${name}.tmp-`));
  try {
    await chmod(tmp, 0o755); // mkdtemp makes 0700; a web server must read the tree
    for (const f of files) {
      const path = join(tmp, ...f.path.split("/"));
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await writeSynced(path, f);
    }
    if (!existing) {
      await rename(tmp, target);
    } else {
      // rename() cannot replace a non-empty directory: move the old one aside, then swap.
      const old = `${tmp.replace(/\.tmp-([^/]*)$/, ".old-$1")}`;
      await rename(target, old);
      try {
        await rename(tmp, target);
      } catch (err) {
        await rename(old, target);
        throw err;
      }
      await rm(old, { recursive: true, force: true });
    }
    await syncDir(parent);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** False when DIR does not exist; true when it is an earlier export that may be replaced. */
async function inspectTarget(target: string): Promise<boolean> {
  let info;
  try {
    info = await lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  if (!info.isDirectory()) throw new ExportError(`${target} exists and is not a directory`);
  const foreign = (await readdir(target)).filter((e) => !TREE_ENTRIES.has(e));
  if (foreign.length) {
    throw new ExportError(`${target} is not an export tree (it has ${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}): refusing to replace it`);
  }
  return true;
}

async function writeSynced(path: string, f: TreeFile): Promise<void> {
  const mode = f.mode ?? 0o644;
  if (f.from) await copyFile(f.from, path, 1 /* COPYFILE_EXCL */);
  const fh = f.from ? await open(path, "r+") : await open(path, "wx", mode);
  try {
    if (!f.from) await fh.writeFile(f.bytes);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  try {
    const fh = await open(path, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some filesystems cannot fsync a directory; the renames are still atomic.
  }
}
