import { describe, expect, it } from "vitest";
import type { Context } from "../../src/context/context.ts";
import type { BlockDevice } from "../../src/machine/block-devices.ts";
import type { Signature } from "../../src/machine/disk-signature.ts";
import type { Action } from "../../src/plan/actions.ts";
import { AUTO_DEVICES, chooseScratch, refusal, scratchDisk, scratchProblems } from "../../src/stages/scratch-disk.ts";
import { makeContext, type ContextOverrides } from "../support/context.ts";

/** A blank, unused 10 GiB disk unless overridden. */
const dev = (name: string, o: Partial<BlockDevice> = {}): BlockDevice => ({
  name,
  path: `/dev/${name}`,
  links: [],
  sizeBytes: 10 * 2 ** 30,
  readOnly: false,
  parent: null,
  partitions: [],
  holders: [],
  mountPoints: [],
  swap: false,
  signature: null,
  unreadable: null,
  ...o,
});

const ctxWith = (blockDevices: BlockDevice[], o: ContextOverrides = {}): Context => {
  const ctx = makeContext(o);
  return { ...ctx, machine: { ...ctx.machine, blockDevices } };
};

const scratch = (s: Partial<Context["config"]["scratch"]>) => ({ config: { scratch: s } });
const sig = (kind: Signature["kind"], offset = 0, label?: string): Signature => (label ? { kind, offset, label } : { kind, offset });

describe("refusal: a device is formatted only when blank and unused", () => {
  const disk = dev("vda", { partitions: ["vda1"], signature: sig("mbr", 510) });
  it.each<[string, BlockDevice, BlockDevice[], string | null]>([
    ["blank and unused", dev("vdb"), [], null],
    ["mounted", dev("vdb", { mountPoints: ["/mnt"] }), [], "it is mounted on /mnt"],
    ["an active swap area", dev("vdb", { swap: true }), [], "it is an active swap area"],
    ["a partition mounted", disk, [dev("vda1", { parent: "vda", mountPoints: ["/"] })], "its partition /dev/vda1 is mounted on /"],
    ["a partition swapping", disk, [dev("vda1", { parent: "vda", swap: true })], "its partition /dev/vda1 is an active swap area"],
    ["a partition held by LVM", disk, [dev("vda1", { parent: "vda", holders: ["dm-0"] })], "its partition /dev/vda1 is in use by dm-0"],
    ["partitions, none in use", dev("vdb", { partitions: ["vdb1"] }), [dev("vdb1", { parent: "vdb" })], "it has partitions (vdb1)"],
    ["held by device-mapper", dev("vdb", { holders: ["dm-0", "dm-1"] }), [], "it is in use by dm-0, dm-1"],
    ["unreadable", dev("vdb", { unreadable: "permission denied reading its first blocks" }), [], "its contents are unknown: permission denied reading its first blocks"],
    ["empty (no medium)", dev("vdb", { sizeBytes: 0, unreadable: "empty (size 0)" }), [], "its contents are unknown: empty (size 0)"],
    ["read-only", dev("vdb", { readOnly: true }), [], "it is read-only"],
    ["of unknown size", dev("vdb", { sizeBytes: null }), [], "its size is unknown"],
    ["an ext4 filesystem", dev("vdb", { signature: sig("ext4", 0x438, "ephemeral0") }), [], 'it carries an ext4 filesystem labelled "ephemeral0"'],
    ["an XFS filesystem", dev("vdb", { signature: sig("xfs") }), [], "it carries an XFS filesystem"],
    ["a swap signature", dev("vdb", { signature: sig("swap", 4086) }), [], "it carries a swap area"],
    ["a GPT", dev("vdb", { signature: sig("gpt", 512) }), [], "it carries a GPT partition table"],
    ["an MBR", dev("vdb", { signature: sig("mbr", 510) }), [], "it carries an MBR partition table"],
    ["an LVM label", dev("vdb", { signature: sig("lvm2", 512) }), [], "it carries an LVM2 physical volume label"],
    ["unknown data", dev("vdb", { signature: sig("data", 4096) }), [], "it carries unrecognised data at byte 4096"],
  ])("%s", (_n, device, others, expected) => {
    expect(refusal(device, [device, ...others])).toBe(expected);
  });
});

describe("choosing the scratch device with scratch.device = auto", () => {
  it.each<[string, BlockDevice[], string]>([
    ["the first usual name", [dev("vda1", { mountPoints: ["/"] }), dev("vdb"), dev("sdb")], "/dev/vdb"],
    ["the list's order, not the kernel's", [dev("nvme1n1"), dev("vda2", { parent: "vda" })], "/dev/vda2"],
    ["GCE's spare partition", [dev("sda1", { mountPoints: ["/"] }), dev("sda3", { parent: "sda" })], "/dev/sda3"],
    ["Xen", [dev("xvda", { partitions: ["xvda1"] }), dev("xvdb")], "/dev/xvdb"],
    ["past a formatted vdb to a blank sdb", [dev("vdb", { signature: sig("ext4", 0x438) }), dev("sdb")], "/dev/sdb"],
    ["past a mounted vdb to a blank nvme1n1", [dev("vdb", { mountPoints: ["/mnt"] }), dev("nvme1n1")], "/dev/nvme1n1"],
  ])("%s", (_n, devices, path) => {
    const choice = chooseScratch(ctxWith(devices));
    expect(choice.kind).toBe("device");
    expect(choice.kind === "device" && choice.device.path).toBe(path);
  });

  it("names what it passed over", () => {
    const choice = chooseScratch(ctxWith([dev("vdb", { mountPoints: ["/mnt"] }), dev("sdb", { signature: sig("xfs") }), dev("hdb")]));
    expect(choice).toMatchObject({ kind: "device", device: { name: "hdb" }, passedOver: ["/dev/vdb: it is mounted on /mnt", "/dev/sdb: it carries an XFS filesystem"] });
  });

  it("never takes a device outside the usual names", () => {
    expect(chooseScratch(ctxWith([dev("vdc"), dev("sdc")]))).toEqual({ kind: "directory", why: `none of ${AUTO_DEVICES.join(", ")} exists` });
  });

  it("falls back to a directory when every candidate is in use, saying why", () => {
    const choice = chooseScratch(ctxWith([dev("vdb", { signature: sig("ext4", 0x438) }), dev("sdb", { mountPoints: ["/data"] })]));
    expect(choice).toEqual({
      kind: "directory",
      why: "no blank, unused block device (/dev/vdb: it carries an ext4 filesystem; /dev/sdb: it is mounted on /data)",
    });
    expect(scratchProblems(ctxWith([dev("vdb", { signature: sig("ext4", 0x438) })]))).toEqual([]);
  });

  it("without a probe (no block devices known) uses a directory", () => {
    expect(chooseScratch(makeContext())).toMatchObject({ kind: "directory" });
  });

  it("sees a scratch already mounted (a second run) and leaves it", () => {
    const ctx = ctxWith([dev("vdb", { mountPoints: ["/scratch"], signature: sig("ext4", 0x438, "scratch") })]);
    expect(chooseScratch(ctx)).toMatchObject({ kind: "mounted", device: { name: "vdb" } });
    expect(scratchDisk.skip(ctx)).toBe("/scratch already has /dev/vdb mounted on it");
    expect(scratchDisk.plan(ctx)).toEqual([]);
  });
});

describe("scratch.device = none", () => {
  it("uses a directory even with a blank disk present", () => {
    const ctx = ctxWith([dev("vdb")], scratch({ device: "none" }));
    expect(chooseScratch(ctx)).toEqual({ kind: "directory", why: "scratch.device is none" });
    expect(scratchDisk.plan(ctx)).toEqual([{ kind: "mkdir", path: "/scratch", mode: 0o1777, why: "scratch is a directory on the root disk: scratch.device is none" }]);
  });
});

describe("a configured scratch.device", () => {
  it.each<[string, string, BlockDevice[]]>([
    ["by its node", "/dev/vdc", [dev("vdc")]],
    ["by a udev link", "/dev/disk/by-id/virtio-scratch", [dev("vdc", { links: ["/dev/disk/by-id/virtio-scratch"] })]],
    ["even a name auto would not try", "/dev/sdz", [dev("sdz")]],
  ])("is used when blank: %s", (_n, device, devices) => {
    const ctx = ctxWith(devices, scratch({ device }));
    expect(scratchProblems(ctx)).toEqual([]);
    expect(scratchDisk.skip(ctx)).toBeNull();
    expect(scratchDisk.plan(ctx)[0]).toMatchObject({ kind: "run-command", argv: ["mkfs.ext4", "-q", "-L", "scratch", devices[0]!.path] });
  });

  it.each<[string, string, BlockDevice[], string]>([
    ["missing", "/dev/vdc", [dev("vda"), dev("vdb")], "/dev/vdc: no such block device (the kernel lists: vda, vdb)"],
    ["missing, nothing probed", "/dev/vdc", [], "/dev/vdc: no such block device (the kernel lists: none)"],
    ["mounted", "/dev/vdb", [dev("vdb", { mountPoints: ["/mnt"] })], "/dev/vdb: it is mounted on /mnt; only a blank, unused device is formatted"],
    ["with a filesystem", "/dev/vdb", [dev("vdb", { signature: sig("ext4", 0x438) })], "/dev/vdb: it carries an ext4 filesystem; only a blank, unused device is formatted"],
    ["unreadable", "/dev/vdb", [dev("vdb", { unreadable: "no device node /dev/vdb" })], "/dev/vdb: its contents are unknown: no device node /dev/vdb; only a blank, unused device is formatted"],
    ["while another device is mounted on the mount point", "/dev/vdc", [dev("vdb", { mountPoints: ["/scratch"] }), dev("vdc")], "/dev/vdc: /scratch already has /dev/vdb mounted on it"],
  ])("refuses the run when %s (500)", (_n, device, devices, message) => {
    const ctx = ctxWith(devices, { ...scratch({ device }) });
    expect(scratchProblems(ctx)).toEqual([{ severity: "error", source: "user_data", path: "scratch.device", message, code: 500 }]);
    expect(scratchDisk.skip(ctx)).toMatch(new RegExp(`^scratch\\.device ${device} not used: `));
    expect(scratchDisk.plan(ctx)).toEqual([]);
  });

  it("names the source the value came from", () => {
    const ctx = { ...ctxWith([], scratch({ device: "/dev/vdc" })), provenance: { "scratch.device": { source: "command line" as const, location: "--set" } } };
    expect(scratchProblems(ctx)[0]?.source).toBe("command line");
  });

  it("is fine when it is the one already mounted on the mount point", () => {
    const ctx = ctxWith([dev("vdb", { mountPoints: ["/scratch"] })], scratch({ device: "/dev/vdb" }));
    expect(scratchProblems(ctx)).toEqual([]);
    expect(scratchDisk.skip(ctx)).toBe("/scratch already has /dev/vdb mounted on it");
  });
});

describe("the plan", () => {
  const swap = (file: string, gb: number): Action[] =>
    [
      [["fallocate", "-l", `${gb}G`, file], `a ${gb} GiB swap file on scratch`],
      [["chmod", "0600", file], "swap contents are other processes' memory: root only"],
      [["mkswap", file], "make it a swap area"],
      [["swapon", file], "use it"],
    ].map(([argv, why]) => ({ kind: "run-command", argv: argv as string[], timeoutMs: 300_000, machineWide: true, why: why as string }));

  it("formats, mounts with noatime and opens a blank device", () => {
    const ctx = ctxWith([dev("vdb", { mountPoints: ["/mnt"] }), dev("sdb", { sizeBytes: 50 * 2 ** 30 })], scratch({ mount_point: "/data/scratch" }));
    expect(scratchDisk.skip(ctx)).toBeNull();
    expect(scratchDisk.plan(ctx)).toEqual([
      {
        kind: "run-command",
        argv: ["mkfs.ext4", "-q", "-L", "scratch", "/dev/sdb"],
        timeoutMs: 600_000,
        machineWide: true,
        why: "/dev/sdb is blank and unused (all zeros in its first blocks, not mounted, 50.0 GiB); passed over /dev/vdb: it is mounted on /mnt",
      },
      { kind: "mkdir", path: "/data/scratch", mode: 0o755, why: "mount point for scratch" },
      { kind: "mount", device: "/dev/sdb", target: "/data/scratch", fstype: "ext4", options: ["defaults", "noatime"], why: "scratch for payloads" },
      { kind: "mkdir", path: "/data/scratch", mode: 0o1777, why: "scratch's root world-writable and sticky, like /tmp" },
    ]);
  });

  it("makes a directory when there is no device, and says why", () => {
    const ctx = ctxWith([dev("vdb", { signature: sig("vfat", 82) })]);
    expect(scratchDisk.skip(ctx)).toBeNull();
    expect(scratchDisk.plan(ctx)).toEqual([
      { kind: "mkdir", path: "/scratch", mode: 0o1777, why: "scratch is a directory on the root disk: no blank, unused block device (/dev/vdb: it carries a FAT filesystem)" },
    ]);
  });

  it.each<[string, BlockDevice[], string[]]>([
    ["on a device", [dev("vdb")], ["run-command", "mkdir", "mount", "mkdir"]],
    ["on a directory", [], ["mkdir"]],
  ])("adds a swap file after scratch is ready: %s", (_n, devices, first) => {
    const actions = scratchDisk.plan(ctxWith(devices, scratch({ swap_gb: 4 })));
    expect(actions.map((a) => a.kind).slice(0, first.length)).toEqual(first);
    expect(actions.slice(first.length)).toEqual(swap("/scratch/swapfile", 4));
  });

  it("adds no swap with swap_gb 0", () => {
    expect(scratchDisk.plan(ctxWith([dev("vdb")])).some((a) => a.kind === "run-command" && a.argv[0] === "mkswap")).toBe(false);
  });

  it("marks every command machine-wide (recorded, never run, under --root)", () => {
    const actions = scratchDisk.plan(ctxWith([dev("vdb")], scratch({ swap_gb: 1 })));
    const commands = actions.filter((a) => a.kind === "run-command");
    expect(commands).toHaveLength(5);
    for (const c of commands) expect(c).toMatchObject({ machineWide: true });
  });
});
