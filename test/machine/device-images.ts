// The first bytes of devices carrying each signature, built byte by byte as the on-disk formats
// lay them out (no mkfs: tests never format anything). Shared by the signature and probe tests.

export const IMAGE_BYTES = 0x11000;

const put = (b: Uint8Array, at: number, bytes: readonly number[] | string): Uint8Array => {
  const arr = typeof bytes === "string" ? [...bytes].map((c) => c.charCodeAt(0)) : bytes;
  b.set(arr, at);
  return b;
};
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

export const blank = (size = IMAGE_BYTES): Uint8Array => new Uint8Array(size);

export function extImage(kind: "ext2" | "ext3" | "ext4", label = ""): Uint8Array {
  const b = blank();
  put(b, 0x438, [0x53, 0xef]);
  if (kind !== "ext2") put(b, 0x45c, u32(0x4 | 0x10 | 0x20)); // has_journal, resize_inode, dir_index
  put(b, 0x460, u32(kind === "ext4" ? 0x2 | 0x40 | 0x80 | 0x200 : 0x2)); // filetype (+ extents, 64bit, flex_bg)
  return put(b, 0x478, label);
}

export const xfsImage = (label = ""): Uint8Array => put(put(blank(), 0, "XFSB"), 108, label);
export const swapImage = (label = "", page = 4096): Uint8Array => put(put(blank(), page - 10, "SWAPSPACE2"), 1024 + 28, label);
export const btrfsImage = (): Uint8Array => put(put(blank(), 0x10040, "_BHRfS_M"), 0x1012b, "data");
export const luksImage = (): Uint8Array => put(blank(), 0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe, 0x00, 0x02]);
export const lvmImage = (): Uint8Array => put(put(blank(), 512, "LABELONE"), 536, "LVM2 001");
export const mdImage = (): Uint8Array => put(blank(), 4096, [0xfc, 0x4e, 0x2b, 0xa9, 1, 0, 0, 0]);
export const isoImage = (): Uint8Array => put(put(put(blank(), 0x8000, [1]), 0x8001, "CD001"), 0x8028, "config-2");
export const ntfsImage = (): Uint8Array => put(put(blank(), 3, "NTFS    "), 510, [0x55, 0xaa]);
export const vfatImage = (): Uint8Array => put(put(put(blank(), 0, [0xeb, 0x58, 0x90]), 82, "FAT32   "), 510, [0x55, 0xaa]);

/** An MBR with one Linux partition (type 0x83), or only the 0x55AA boot signature. */
export function mbrImage(withPartition = true): Uint8Array {
  const b = put(blank(), 510, [0x55, 0xaa]);
  if (withPartition) put(b, 446, [0x00, 0, 0, 0, 0x83, 0, 0, 0, ...u32(2048), ...u32(204800)]);
  return b;
}

/** A protective MBR (type 0xEE) and the GPT header at LBA 1. */
export const gptImage = (): Uint8Array => put(put(mbrImage(false), 446 + 4, [0xee]), 512, "EFI PART");

/** Leftovers that match no signature. */
export const dataImage = (at = 4096): Uint8Array => put(blank(), at, [0xde, 0xad, 0xbe, 0xef]);
