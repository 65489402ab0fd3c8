import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeBlockDevices, type BlockDevice } from "../../src/machine/block-devices.ts";
import * as img from "./device-images.ts";

// A fake machine: sysfs as the kernel lays it out (a disk's partitions are subdirectories holding a
// `partition` file, and /sys/class/block/<part> links to them), /proc tables, and regular files
// standing in for the device nodes under dev/.

interface FakeDevice {
  name: string;
  /** "252:16" */
  dev: string;
  sectors?: number | null;
  ro?: boolean;
  /** Bytes of the device node; "none" for no node, "directory" for something that is not a device. */
  image?: Uint8Array | "none" | "directory";
  holders?: string[];
  partitions?: FakeDevice[];
}

function writeDevice(root: string, sysDir: string, d: FakeDevice, isPartition: boolean): void {
  mkdirSync(join(sysDir, "holders"), { recursive: true });
  for (const h of d.holders ?? []) mkdirSync(join(sysDir, "holders", h));
  if (d.sectors !== null) writeFileSync(join(sysDir, "size"), `${d.sectors ?? 204800}\n`);
  writeFileSync(join(sysDir, "ro"), d.ro ? "1\n" : "0\n");
  writeFileSync(join(sysDir, "dev"), `${d.dev}\n`);
  if (isPartition) writeFileSync(join(sysDir, "partition"), "1\n");
  const node = join(root, "dev", d.name.replace(/!/g, "/"));
  mkdirSync(join(node, ".."), { recursive: true });
  if (d.image === "directory") mkdirSync(node);
  else if (d.image !== "none") writeFileSync(node, d.image ?? img.blank());
}

function fakeMachine(devices: FakeDevice[], proc: { mountinfo?: string; swaps?: string }, links: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "vacuum-blockdev-"));
  const classDir = join(root, "sys/class/block");
  mkdirSync(classDir, { recursive: true });
  for (const d of devices) {
    writeDevice(root, join(classDir, d.name), d, false);
    for (const p of d.partitions ?? []) {
      writeDevice(root, join(classDir, d.name, p.name), p, true);
      symlinkSync(join(d.name, p.name), join(classDir, p.name));
    }
  }
  mkdirSync(join(root, "proc/self"), { recursive: true });
  if (proc.mountinfo !== undefined) writeFileSync(join(root, "proc/self/mountinfo"), proc.mountinfo);
  if (proc.swaps !== undefined) writeFileSync(join(root, "proc/swaps"), proc.swaps);
  for (const [link, target] of Object.entries(links)) {
    mkdirSync(join(root, link, ".."), { recursive: true });
    symlinkSync(target, join(root, link));
  }
  return root;
}

const MOUNTINFO = [
  "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/root rw", // matched by device number, not by name
  "40 22 0:40 / /data rw - btrfs /dev/vdc rw", // matched by name: btrfs has an anonymous number
  "",
].join("\n");
const SWAPS = "Filename Type Size Used Priority\n/dev/vdd partition 1048572 0 -2\n";

describe("probeBlockDevices on a fake machine", () => {
  let root: string;
  let devices: BlockDevice[];
  const get = (name: string): BlockDevice => devices.find((d) => d.name === name)!;

  beforeAll(() => {
    root = fakeMachine(
      [
        { name: "vda", dev: "252:0", image: img.mbrImage(), partitions: [{ name: "vda1", dev: "252:1", image: img.extImage("ext4", "root") }, { name: "vda2", dev: "252:2" }] },
        { name: "vdb", dev: "252:16", sectors: 20971520 },
        { name: "vdc", dev: "252:32", image: img.btrfsImage() },
        { name: "vdd", dev: "252:48", image: img.swapImage() },
        { name: "vde", dev: "252:64", image: img.lvmImage(), holders: ["dm-0"] },
        { name: "vdf", dev: "252:80", image: "none" },
        { name: "vdg", dev: "252:96", ro: true },
        { name: "vdh", dev: "252:112", image: "directory" },
        { name: "vdi", dev: "252:128", sectors: null, image: img.xfsImage() },
        { name: "xvdb", dev: "202:16", image: img.blank(4096) },
        { name: "sr0", dev: "11:0", sectors: 0, image: img.isoImage() },
        { name: "cciss!c0d0", dev: "104:0", image: img.gptImage() },
        { name: "nvme1n1", dev: "259:0", image: img.dataImage() },
      ],
      { mountinfo: MOUNTINFO, swaps: SWAPS },
      { "dev/disk/by-id/virtio-scratch": "../../vdb", "dev/disk/by-label/root": "../../vda1", "dev/mapper/vg-lv": "../dm-0" },
    );
    devices = probeBlockDevices(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("lists every device of /sys/class/block, sorted, partitions included", () => {
    expect(devices.map((d) => d.name)).toEqual(["cciss!c0d0", "nvme1n1", "sr0", "vda", "vda1", "vda2", "vdb", "vdc", "vdd", "vde", "vdf", "vdg", "vdh", "vdi", "xvdb"]);
  });

  it("a blank, unused disk: size, no signature, its udev links", () => {
    expect(get("vdb")).toEqual({
      name: "vdb",
      path: "/dev/vdb",
      links: ["/dev/disk/by-id/virtio-scratch"],
      sizeBytes: 20971520 * 512,
      readOnly: false,
      parent: null,
      partitions: [],
      holders: [],
      mountPoints: [],
      swap: false,
      signature: null,
      unreadable: null,
    });
  });

  it("a partitioned disk: its partitions, their parent, a mount matched by device number", () => {
    expect(get("vda")).toMatchObject({ partitions: ["vda1", "vda2"], parent: null, mountPoints: [], signature: { kind: "mbr" } });
    expect(get("vda1")).toMatchObject({ parent: "vda", partitions: [], mountPoints: ["/"], links: ["/dev/disk/by-label/root"], signature: { kind: "ext4", label: "root" } });
    expect(get("vda2")).toMatchObject({ parent: "vda", mountPoints: [], signature: null, unreadable: null });
  });

  it.each<[string, Partial<BlockDevice>]>([
    ["vdc", { mountPoints: ["/data"], signature: { kind: "btrfs", offset: 0x10040, label: "data" } }],
    ["vdd", { swap: true, signature: { kind: "swap", offset: 4086 } }],
    ["vde", { holders: ["dm-0"], signature: { kind: "lvm2", offset: 512 } }],
    ["vdf", { signature: null, unreadable: "no device node /dev/vdf" }],
    ["vdg", { readOnly: true, signature: null }],
    ["vdh", { signature: null, unreadable: "/dev/vdh is not a block device" }],
    ["vdi", { sizeBytes: null, signature: { kind: "xfs", offset: 0 } }],
    ["xvdb", { signature: null, unreadable: null }],
    ["sr0", { sizeBytes: 0, signature: null, unreadable: "empty (size 0)" }],
    ["cciss!c0d0", { path: "/dev/cciss/c0d0", signature: { kind: "gpt", offset: 512 } }],
    ["nvme1n1", { signature: { kind: "data", offset: 4096 } }],
  ])("%s", (name, expected) => {
    expect(get(name)).toMatchObject(expected);
  });
});

describe("probeBlockDevices never throws", () => {
  it("returns nothing for a machine without sysfs", () => {
    expect(probeBlockDevices(join(tmpdir(), "vacuum-no-such-root"))).toEqual([]);
  });

  it("works without /proc tables: nothing mounted, nothing swapping", () => {
    const root = fakeMachine([{ name: "vdb", dev: "252:16" }], {});
    try {
      expect(probeBlockDevices(root)).toEqual([expect.objectContaining({ name: "vdb", mountPoints: [], swap: false, signature: null })]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
