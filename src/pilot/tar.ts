// A reader for pilot.tar as DIRAC's publisher writes it (Python tarfile: ustar headers, PAX
// records only for long or non-ASCII names), also GNU tar's output. It extracts into memory,
// never onto the disk, and accepts only what a flat pilot directory can hold: regular files with
// flat names. Links, devices, FIFOs, directories (other than "./"), absolute or "..", nested or
// hidden names, duplicates and oversized content are errors naming the entry, so a hostile tar
// cannot write anywhere, and the caller refuses the whole archive.

import { flatNameProblem } from "./file-name.ts";

export interface TarFile {
  name: string;
  data: Uint8Array;
}

export interface TarLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

export type TarResult = { ok: true; files: TarFile[] } | { ok: false; error: string };

const BLOCK = 512;

const TYPE_NAMES: Record<string, string> = {
  "1": "hard link",
  "2": "symbolic link",
  "3": "character device",
  "4": "block device",
  "5": "directory",
  "6": "FIFO",
  K: "GNU long link name",
  S: "GNU sparse file",
  V: "GNU volume header",
  M: "GNU multi-volume continuation",
};

const ascii = (b: Uint8Array, off: number, len: number): string => {
  const field = b.subarray(off, off + len);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
};

/** A numeric header field: octal text, or GNU's base-256 when the top bit is set. */
function numeric(b: Uint8Array, off: number, len: number): number | null {
  if ((b[off]! & 0x80) !== 0) {
    let n = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + b[off + i]!;
    return Number.isSafeInteger(n) ? n : null;
  }
  const text = ascii(b, off, len).trim();
  if (text === "") return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : null;
}

function checksumOk(header: Uint8Array): boolean {
  const stored = numeric(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return stored === sum;
}

/** PAX extended header records: "<length> <key>=<value>\n". */
function paxRecords(data: Uint8Array): Map<string, string> | null {
  const out = new Map<string, string>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break;
    const space = data.indexOf(0x20, off);
    if (space < 0) return null;
    const len = Number(new TextDecoder().decode(data.subarray(off, space)));
    if (!Number.isSafeInteger(len) || len <= space - off || off + len > data.length) return null;
    const record = new TextDecoder().decode(data.subarray(space + 1, off + len - 1));
    const eq = record.indexOf("=");
    if (eq < 0) return null;
    out.set(record.slice(0, eq), record.slice(eq + 1));
    off += len;
  }
  return out;
}

export function readTar(bytes: Uint8Array, limits: TarLimits): TarResult {
  const files: TarFile[] = [];
  const seen = new Set<string>();
  let total = 0;
  let off = 0;
  let pax = new Map<string, string>();
  let longName: string | null = null;
  const fail = (error: string): TarResult => ({ ok: false, error });

  while (off + BLOCK <= bytes.length) {
    const header = bytes.subarray(off, off + BLOCK);
    if (header.every((x) => x === 0)) return { ok: true, files }; // end-of-archive marker
    const at = `entry at byte ${off}`;
    if (!checksumOk(header)) return fail(`${at}: not a tar header (checksum does not match)`);
    const type = header[156] === 0 ? "0" : String.fromCharCode(header[156]!);
    let name = ascii(header, 0, 100);
    if (ascii(header, 257, 5) === "ustar") {
      const prefix = ascii(header, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const headerSize = numeric(header, 124, 12);
    if (headerSize === null) return fail(`${at} (${JSON.stringify(name)}): unreadable size field`);
    const isFile = type === "0" || type === "7";
    const paxSize = isFile && pax.has("size") ? Number(pax.get("size")) : null;
    if (paxSize !== null && !Number.isSafeInteger(paxSize)) return fail(`${at}: unreadable PAX size`);
    const size = paxSize ?? headerSize;
    const start = off + BLOCK;
    if (start + size > bytes.length) return fail(`${at} (${JSON.stringify(name)}): truncated (${size} bytes announced)`);
    const data = bytes.subarray(start, start + size);
    off = start + Math.ceil(size / BLOCK) * BLOCK;

    if (type === "x") {
      const records = paxRecords(data);
      if (!records) return fail(`${at}: unreadable PAX header`);
      pax = records;
      continue;
    }
    if (type === "g") continue; // global PAX defaults (comments, mtimes): nothing a flat file needs
    if (type === "L") {
      if (size > 4096) return fail(`${at}: GNU long name of ${size} bytes`);
      longName = ascii(data, 0, data.length);
      continue;
    }
    const fullName = pax.get("path") ?? longName ?? name;
    pax = new Map();
    longName = null;
    const flat = fullName.startsWith("./") ? fullName.slice(2) : fullName;
    if (type === "5" && (flat === "" || flat === "." || flat === "./")) continue; // the archive's "./"
    if (!isFile) return fail(`entry ${JSON.stringify(fullName)} is a ${TYPE_NAMES[type] ?? `type ${JSON.stringify(type)} entry`}: only regular files are accepted`);
    const problem = flatNameProblem(flat);
    if (problem) return fail(`entry ${JSON.stringify(fullName)}: expected a file name at the top level, found ${problem}`);
    if (seen.has(flat)) return fail(`entry ${JSON.stringify(fullName)} appears twice`);
    if (size > limits.maxFileBytes) return fail(`entry ${JSON.stringify(fullName)} is ${size} bytes, more than the ${limits.maxFileBytes} allowed`);
    total += size;
    if (total > limits.maxTotalBytes) return fail(`the archive holds more than ${limits.maxTotalBytes} bytes`);
    if (files.length + 1 > limits.maxFiles) return fail(`the archive holds more than ${limits.maxFiles} files`);
    seen.add(flat);
    files.push({ name: flat, data });
  }
  // Python's tarfile and GNU tar always end with zero blocks; a missing end means a cut download.
  return fail(off >= bytes.length && bytes.length > 0 ? "no end-of-archive marker (truncated?)" : "empty or truncated archive");
}
