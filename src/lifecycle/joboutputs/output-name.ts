// Job output names are flat: one path component of `[A-Za-z0-9._-]` (TN04; Vac takes exactly
// `/joboutputs/<name>` and does not URL-decode it, Vcycle keeps a query string in the name).
// A leading dot is refused too: it would hide the file, and the spool's own temp and reserve
// files start with one, so "every regular file" never picks them up.

import { lstat } from "node:fs/promises";
import { posix } from "node:path";

export const FLAT_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Longest name produced; ext4 and xfs allow 255 bytes, keep room for a `-NN` suffix. */
export const MAX_NAME_LENGTH = 200;

export const isFlatName = (name: string): boolean => name.length <= MAX_NAME_LENGTH && FLAT_NAME.test(name);

/** `payload/std out.log` → `payload_std_out.log`, `.hidden` → `_hidden`, `` → `output`. */
export function flatName(raw: string): string {
  let name = raw.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\./, "_");
  if (name === "") name = "output";
  if (name.length > MAX_NAME_LENGTH) {
    // Keep the extension: a reader tells a log from a tarball by it.
    const ext = posix.extname(name).slice(0, 16);
    name = name.slice(0, MAX_NAME_LENGTH - ext.length) + ext;
  }
  return name;
}

const exists = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** `name`, or `base-2.ext`, `base-3.ext`… : the first that does not exist in `dir`. */
export async function uniqueName(dir: string, name: string): Promise<string> {
  if (!(await exists(posix.join(dir, name)))) return name;
  const ext = posix.extname(name);
  const base = ext && ext !== name ? name.slice(0, -ext.length) : name;
  for (let n = 2; n < 1000; n++) {
    const candidate = `${base.slice(0, MAX_NAME_LENGTH - ext.length - 5)}-${n}${ext}`;
    if (!(await exists(posix.join(dir, candidate)))) return candidate;
  }
  return `${base.slice(0, MAX_NAME_LENGTH - ext.length - 14)}-${Date.now().toString(36)}${ext}`;
}
