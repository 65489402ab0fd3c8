// Pilot directories (`pilot_directories`): the regular files of a directory, published with a
// generated `checksums.sha512` (sha512sum format, sorted by name, as DIRAC's pilot checks it) and
// an nginx-style autoindex page. Read whole at each (re)load: pilot files are small scripts and
// JSON, and a reader must see one consistent set with its checksums.

import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export interface PilotFile {
  name: string;
  bytes: Uint8Array;
  sha512: string;
  lastModified: Date;
}

export interface PilotDirectory {
  name: string;
  dir: string;
  /** Sorted by name. */
  files: PilotFile[];
  /** The generated checksums.sha512. */
  checksums: Uint8Array;
}

export const CHECKSUMS_FILE = "checksums.sha512";
/** A pilot directory larger than this is refused: it would be held in memory. */
export const MAX_PILOT_BYTES = 64 * 1024 * 1024;
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export async function loadPilotDirectory(name: string, dir: string): Promise<{ pilot: PilotDirectory; skipped: string[] } | { problem: string }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: `cannot read the directory ${dir}: ${code === "ENOENT" ? "no such directory" : code ?? String(err)}` };
  }
  const files: PilotFile[] = [];
  const skipped: string[] = [];
  let total = 0;
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name === CHECKSUMS_FILE) continue; // generated; a stale copy in the directory is not published
    if (!e.isFile() || !FILE_NAME.test(e.name)) {
      if (!e.name.startsWith(".")) skipped.push(e.name);
      continue;
    }
    const path = join(dir, e.name);
    try {
      const bytes = new Uint8Array(await readFile(path));
      total += bytes.length;
      if (total > MAX_PILOT_BYTES) return { problem: `${dir} holds more than ${MAX_PILOT_BYTES} bytes` };
      const mtime = (await stat(path)).mtimeMs;
      files.push({ name: e.name, bytes, sha512: createHash("sha512").update(bytes).digest("hex"), lastModified: new Date(Math.floor(mtime / 1000) * 1000) });
    } catch (err) {
      return { problem: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
  }
  return { pilot: { name, dir, files, checksums: checksumsSha512(files) }, skipped };
}

/** `sha512sum` output for `files`, sorted by name (byte order, as `LC_ALL=C sort`). */
export function checksumsSha512(files: readonly Pick<PilotFile, "name" | "sha512">[]): Uint8Array {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Buffer.from(sorted.map((f) => `${f.sha512}  ${f.name}\n`).join(""), "utf8");
}

export interface IndexEntry {
  name: string;
  size: number;
  lastModified: Date;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");
const nginxDate = (d: Date) => `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The page nginx's autoindex writes for `urlPath` (ending in "/"): names padded to 50 columns. */
export function autoindexPage(urlPath: string, entries: readonly IndexEntry[]): string {
  const title = `Index of ${escapeHtml(urlPath)}`;
  const lines = entries.map((e) => {
    const shown = e.name.length > 50 ? `${e.name.slice(0, 47)}..>` : e.name;
    return `<a href="${escapeHtml(encodeURIComponent(e.name))}">${escapeHtml(shown)}</a>${" ".repeat(Math.max(1, 51 - shown.length))}${nginxDate(e.lastModified)} ${String(e.size).padStart(19)}`;
  });
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<h1>${title}</h1><hr><pre><a href="../">../</a>\r\n${lines.map((l) => `${l}\r\n`).join("")}</pre><hr></body>\r\n</html>\r\n`;
}

/** The index entries of a pilot directory, the generated checksums file included. */
export function pilotIndexEntries(p: PilotDirectory): IndexEntry[] {
  const newest = p.files.reduce((t, f) => (f.lastModified.getTime() > t ? f.lastModified.getTime() : t), 0);
  const all: IndexEntry[] = [
    ...p.files.map((f) => ({ name: f.name, size: f.bytes.length, lastModified: f.lastModified })),
    { name: CHECKSUMS_FILE, size: p.checksums.length, lastModified: new Date(newest) },
  ];
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
