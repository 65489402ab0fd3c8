import { describe, expect, it } from "vitest";
import { describeSignature, detectSignature, type Signature } from "../../src/machine/disk-signature.ts";
import * as img from "./device-images.ts";

describe("detectSignature", () => {
  it.each<[string, Uint8Array, Signature | null]>([
    ["all zeros: blank", img.blank(), null],
    ["a short blank device", img.blank(4096), null],
    ["nothing read at all", new Uint8Array(0), null],
    ["ext4 with a label", img.extImage("ext4", "cloudimg-rootfs"), { kind: "ext4", offset: 0x438, label: "cloudimg-rootfs" }],
    ["ext3", img.extImage("ext3"), { kind: "ext3", offset: 0x438 }],
    ["ext2", img.extImage("ext2"), { kind: "ext2", offset: 0x438 }],
    ["XFS", img.xfsImage("data"), { kind: "xfs", offset: 0, label: "data" }],
    ["swap (4 KiB pages)", img.swapImage("swap1"), { kind: "swap", offset: 4086, label: "swap1" }],
    ["swap (64 KiB pages)", img.swapImage("", 65536), { kind: "swap", offset: 65526 }],
    ["GPT (with its protective MBR)", img.gptImage(), { kind: "gpt", offset: 512 }],
    ["MBR with a partition", img.mbrImage(), { kind: "mbr", offset: 510 }],
    ["a boot sector with an empty table is still data", img.mbrImage(false), { kind: "data", offset: 510 }],
    ["LVM2 physical volume", img.lvmImage(), { kind: "lvm2", offset: 512 }],
    ["LUKS", img.luksImage(), { kind: "luks", offset: 0 }],
    ["md RAID 1.2", img.mdImage(), { kind: "md", offset: 4096 }],
    ["btrfs (superblock at 64 KiB)", img.btrfsImage(), { kind: "btrfs", offset: 0x10040, label: "data" }],
    ["ISO 9660 (a config drive)", img.isoImage(), { kind: "iso9660", offset: 0x8001, label: "config-2" }],
    ["FAT32", img.vfatImage(), { kind: "vfat", offset: 82 }],
    ["NTFS", img.ntfsImage(), { kind: "ntfs", offset: 3 }],
    ["unknown leftovers", img.dataImage(40000), { kind: "data", offset: 40000 }],
  ])("%s", (_name, bytes, expected) => {
    expect(detectSignature(bytes)).toEqual(expected);
  });

  it("does not read past a short buffer", () => {
    // The ext magic would sit at 0x438: a 1 KiB read cannot contain it, and must not throw.
    expect(detectSignature(img.extImage("ext4").subarray(0, 1024))).toBeNull();
  });

  it("keeps labels printable", () => {
    const b = img.extImage("ext4", "a\u0007b");
    expect(detectSignature(b)?.label).toBe("a?b");
  });
});

describe("describeSignature", () => {
  it.each<[Signature, string]>([
    [{ kind: "ext4", offset: 0x438, label: "cloudimg-rootfs" }, 'an ext4 filesystem labelled "cloudimg-rootfs"'],
    [{ kind: "gpt", offset: 512 }, "a GPT partition table"],
    [{ kind: "data", offset: 4096 }, "unrecognised data at byte 4096"],
  ])("%j", (s, text) => {
    expect(describeSignature(s)).toBe(text);
  });
});
