// Machine paths ("/etc/hostname") become real paths under --root at the moment of the effect
// (ignition's late rooting). Each existing component is resolved as if the root were "/": an
// absolute symlink target restarts at the root and ".." stops at the root, so neither a planned
// path nor a symlink inside the tree (an image's /etc -> /somewhere) can reach outside it.

import { lstatSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

/** Linux gives up after 40 links in one lookup (MAXSYMLINKS); so do we. */
const MAX_SYMLINKS = 40;

export class RootedPathError extends Error {
  override name = "RootedPathError";
}

function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/** Refuse what is never a sensible planned path: relative, NUL bytes, ".." above "/". */
function checkMachinePath(machinePath: string): void {
  if (machinePath.includes("\0")) throw new RootedPathError(`path contains a NUL byte: ${JSON.stringify(machinePath)}`);
  if (!machinePath.startsWith("/")) throw new RootedPathError(`expected an absolute machine path, found ${JSON.stringify(machinePath)}`);
  let depth = 0;
  for (const c of components(machinePath)) {
    depth += c === ".." ? -1 : 1;
    if (depth < 0) throw new RootedPathError(`path ${machinePath} goes above "/" with ".."`);
  }
}

export function rootedPath(root: string | null, machinePath: string): string {
  checkMachinePath(machinePath);
  if (root === null || posix.resolve(root) === "/") return posix.normalize(machinePath);
  const base = posix.resolve(root);
  const resolved: string[] = [];
  const pending = components(machinePath);
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === "..") {
      resolved.pop(); // at the root, ".." is the root (as for "/")
      continue;
    }
    const candidate = posix.join(base, ...resolved, c);
    let isLink: boolean;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw new RootedPathError(`cannot look at ${candidate}: ${code ?? String(err)}`);
      // Not there (yet): the rest is taken literally; a later mkdir creates it under the root.
      resolved.push(c);
      continue;
    }
    if (!isLink) {
      resolved.push(c);
      continue;
    }
    links += 1;
    if (links > MAX_SYMLINKS) throw new RootedPathError(`too many symlinks (a loop?) resolving ${machinePath} under ${base}`);
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...components(target));
  }
  return posix.join(base, ...resolved);
}
