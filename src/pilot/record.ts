// `.vacuum-agent-pilot.json` in the pilot directory: what the last download wrote there, with each
// file's SHA-512 and whether checksums.sha512 vouched for it. The next download removes exactly
// these files (stale ones from an earlier attempt), and verifiedPilotFiles() tells the hook runner
// which include_vm_*.sh a manifest covered. Written by root, 0644.

import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, readSync, constants as fsConstants } from "node:fs";
import { join } from "node:path";
import { flatNameProblem } from "./file-name.ts";

export const RECORD_NAME = ".vacuum-agent-pilot.json";

export type PilotSource = "manifest" | "pilot.tar" | "listing";

export interface RecordedFile {
  name: string;
  bytes: number;
  sha512: string;
  verified: boolean;
}

export interface PilotRecord {
  version: 1;
  /** The directory URL the files came from, without credentials. */
  url: string;
  source: PilotSource;
  files: RecordedFile[];
}

export function recordText(r: PilotRecord): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** The record in `dir`, or null when there is none or it is not one of ours. Never throws. */
export function readRecord(dir: string): PilotRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, RECORD_NAME), "utf8"));
  } catch {
    return null;
  }
  const r = parsed as Partial<PilotRecord> | null;
  if (!r || r.version !== 1 || !Array.isArray(r.files)) return null;
  const files = r.files.filter(
    (f): f is RecordedFile =>
      !!f && typeof f.name === "string" && flatNameProblem(f.name) === null && typeof f.sha512 === "string" && typeof f.verified === "boolean",
  );
  return { version: 1, url: String(r.url ?? ""), source: (r.source ?? "listing") as PilotSource, files };
}

const MAX_HASHED_BYTES = 256 * 1024 * 1024;

/** SHA-512 of the regular file at `path` (never through a symlink), or null. */
function sha512OfRegularFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_HASHED_BYTES) return null;
    const hash = createHash("sha512");
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
    return hash.digest("hex");
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Names of files in `dir` that a checksums.sha512 verified, sorted. Each file is hashed again and
 * left out when it changed since the download (the pilot user owns it), so a hook runner can
 * trust the answer at the moment it asks.
 */
export function verifiedPilotFiles(dir: string): string[] {
  const record = readRecord(dir);
  if (!record) return [];
  return record.files
    .filter((f) => f.verified && sha512OfRegularFile(join(dir, f.name)) === f.sha512)
    .map((f) => f.name)
    .sort();
}
