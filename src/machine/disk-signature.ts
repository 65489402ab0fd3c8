// What the first bytes of a block device carry: a filesystem, a partition table, a volume-manager
// label, or data we do not recognise. blkid-free on purpose: the scratch choice must not depend on
// util-linux being installed, and must never format a device because a probe program was missing.
//
// The rule that protects data is the last one: any non-zero byte that matches no known signature is
// "data". Only a device whose first bytes are all zero counts as blank.

/** Bytes read from the start of a device: 64 KiB plus btrfs's primary superblock at 64 KiB. */
export const SIGNATURE_BYTES = 0x11000;

export type SignatureKind =
  | "ext2"
  | "ext3"
  | "ext4"
  | "xfs"
  | "btrfs"
  | "swap"
  | "lvm2"
  | "luks"
  | "md"
  | "gpt"
  | "mbr"
  | "iso9660"
  | "vfat"
  | "ntfs"
  | "data";

export interface Signature {
  kind: SignatureKind;
  /** Byte offset of the magic that identified it (the first non-zero byte for "data"). */
  offset: number;
  /** The filesystem or swap label, when it has one. */
  label?: string;
}

const ascii = (b: Uint8Array, at: number, text: string): boolean => {
  if (at + text.length > b.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
};

const bytesAt = (b: Uint8Array, at: number, expected: readonly number[]): boolean =>
  at + expected.length <= b.length && expected.every((v, i) => b[at + i] === v);

const u32le = (b: Uint8Array, at: number): number =>
  at + 4 <= b.length ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0 : 0;

/** A NUL-padded label, printable ASCII only (it ends up in messages). */
function label(b: Uint8Array, at: number, length: number): string | undefined {
  if (at + length > b.length) return undefined;
  let s = "";
  for (let i = at; i < at + length && b[i] !== 0; i++) s += b[i]! >= 0x20 && b[i]! < 0x7f ? String.fromCharCode(b[i]!) : "?";
  return s.trim() || undefined;
}

const withLabel = (kind: SignatureKind, offset: number, l: string | undefined): Signature => (l === undefined ? { kind, offset } : { kind, offset, label: l });

// ext2/3/4 superblock at 1024: magic 0xEF53 at +0x38, features at +0x5C (compat), +0x60 (incompat).
const EXT_SB = 0x400;
function ext(b: Uint8Array): Signature | null {
  if (!bytesAt(b, EXT_SB + 0x38, [0x53, 0xef])) return null;
  const compat = u32le(b, EXT_SB + 0x5c);
  const incompat = u32le(b, EXT_SB + 0x60);
  // extents, 64bit, flex_bg: ext4; a journal without them: ext3.
  const kind: SignatureKind = incompat & (0x40 | 0x80 | 0x200) ? "ext4" : compat & 0x4 ? "ext3" : "ext2";
  return withLabel(kind, EXT_SB + 0x38, label(b, EXT_SB + 0x78, 16));
}

// Swap: the magic ends the first page; pages of 4, 8, 16 and 64 KiB. Label at 1024 + 28.
function swap(b: Uint8Array): Signature | null {
  for (const page of [4096, 8192, 16384, 65536]) {
    const at = page - 10;
    if (ascii(b, at, "SWAPSPACE2") || ascii(b, at, "SWAP-SPACE")) return withLabel("swap", at, label(b, 1024 + 28, 16));
  }
  return null;
}

// LVM2 physical volume: "LABELONE" in one of the first four sectors, "LVM2 001" 24 bytes on.
function lvm(b: Uint8Array): Signature | null {
  for (let sector = 0; sector < 4; sector++) {
    const at = sector * 512;
    if (ascii(b, at, "LABELONE") && ascii(b, at + 24, "LVM2 001")) return { kind: "lvm2", offset: at };
  }
  return null;
}

// An MBR counts only with a partition table that has at least one entry (type byte non-zero);
// a bare boot sector falls through to "data".
function mbr(b: Uint8Array): Signature | null {
  if (!bytesAt(b, 510, [0x55, 0xaa])) return null;
  for (let i = 0; i < 4; i++) if (b[446 + 16 * i + 4] !== 0) return { kind: "mbr", offset: 510 };
  return null;
}

// Linux md RAID superblock 1.1 (at 0) or 1.2 (at 4 KiB); 0.90 and 1.0 sit at the end of the device.
const MD_MAGIC = [0xfc, 0x4e, 0x2b, 0xa9];

/** Ordered: specific signatures before the ones they contain (GPT's protective MBR, vfat's 0x55AA). */
const DETECTORS: readonly ((b: Uint8Array) => Signature | null)[] = [
  lvm,
  (b) => (bytesAt(b, 0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) ? { kind: "luks", offset: 0 } : null),
  (b) => (ascii(b, 0, "XFSB") ? withLabel("xfs", 0, label(b, 108, 12)) : null),
  ext,
  (b) => (ascii(b, 0x10040, "_BHRfS_M") ? withLabel("btrfs", 0x10040, label(b, 0x1012b, 256)) : null),
  swap,
  (b) => (ascii(b, 512, "EFI PART") ? { kind: "gpt", offset: 512 } : ascii(b, 4096, "EFI PART") ? { kind: "gpt", offset: 4096 } : null),
  (b) => (bytesAt(b, 0, MD_MAGIC) ? { kind: "md", offset: 0 } : bytesAt(b, 4096, MD_MAGIC) ? { kind: "md", offset: 4096 } : null),
  (b) => (ascii(b, 0x8001, "CD001") ? withLabel("iso9660", 0x8001, label(b, 0x8028, 32)) : null),
  (b) => (ascii(b, 3, "NTFS    ") ? { kind: "ntfs", offset: 3 } : null),
  (b) => (bytesAt(b, 510, [0x55, 0xaa]) && (ascii(b, 54, "FAT1") || ascii(b, 82, "FAT32")) ? { kind: "vfat", offset: ascii(b, 54, "FAT1") ? 54 : 82 } : null),
  mbr,
];

/** The signature in a device's first bytes, or null when they are all zero (a blank device). */
export function detectSignature(bytes: Uint8Array): Signature | null {
  for (const detect of DETECTORS) {
    const s = detect(bytes);
    if (s) return s;
  }
  const firstData = bytes.findIndex((v) => v !== 0);
  return firstData < 0 ? null : { kind: "data", offset: firstData };
}

const NAMES: Record<SignatureKind, string> = {
  ext2: "an ext2 filesystem",
  ext3: "an ext3 filesystem",
  ext4: "an ext4 filesystem",
  xfs: "an XFS filesystem",
  btrfs: "a btrfs filesystem",
  swap: "a swap area",
  lvm2: "an LVM2 physical volume label",
  luks: "a LUKS encryption header",
  md: "a Linux RAID (md) superblock",
  gpt: "a GPT partition table",
  mbr: "an MBR partition table",
  iso9660: "an ISO 9660 filesystem",
  vfat: "a FAT filesystem",
  ntfs: "an NTFS filesystem",
  data: "unrecognised data",
};

/** `an ext4 filesystem labelled "cloudimg-rootfs"`, `unrecognised data at byte 4096`. */
export function describeSignature(s: Signature): string {
  if (s.kind === "data") return `${NAMES.data} at byte ${s.offset}`;
  return s.label === undefined ? NAMES[s.kind] : `${NAMES[s.kind]} labelled "${s.label}"`;
}
