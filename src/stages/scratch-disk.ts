// The scratch area payloads work in: a blank block device made ext4 and mounted, else a directory
// on the root disk; optionally a swap file on it.
//
// Today's pilot scripts format the first device whose name matches a pattern, and even repartition
// the root disk (pilots.md 1.2 item 6, 1.6 item 7). Here a device is formatted only when the probe
// taken before any stage (src/machine/block-devices.ts) shows it blank and unused: not mounted, no
// active swap, no partitions, nothing stacked on it, readable, and all zeros in its first blocks.
// mkfs.ext4 runs without -f, so a filesystem appearing between probe and format still stops it.

import { posix } from "node:path";
import { problem, type Problem } from "../config/problem.ts";
import type { Context } from "../context/context.ts";
import type { BlockDevice } from "../machine/block-devices.ts";
import { describeSignature } from "../machine/disk-signature.ts";
import type { Action } from "../plan/actions.ts";
import type { Stage } from "./stage.ts";

/** Where clouds attach a second disk, in the order `scratch.device = auto` tries them (vda2, sda3: GCE-style spare partitions). */
export const AUTO_DEVICES = ["vdb", "sdb", "xvdb", "vda2", "sda3", "hdb", "nvme1n1"] as const;

export const SCRATCH_LABEL = "scratch";
const MKFS_TIMEOUT_MS = 600_000;
const SWAP_TIMEOUT_MS = 300_000;

export type ScratchChoice =
  /** Format and mount this device; `passedOver` says why earlier names were not taken. */
  | { kind: "device"; device: BlockDevice; passedOver: string[] }
  /** No device: a directory on the root disk, and why. */
  | { kind: "directory"; why: string }
  /** The mount point already has this device mounted (the agent ran before on this boot). */
  | { kind: "mounted"; device: BlockDevice }
  /** The configured device cannot be used: the run is refused (scratchProblems). */
  | { kind: "refused"; device: string; reason: string };

const devicesOf = (ctx: Context): readonly BlockDevice[] => ctx.machine.blockDevices ?? [];

/** Why `dev` must not be formatted, or null when it is blank and unused. */
export function refusal(dev: BlockDevice, all: readonly BlockDevice[]): string | null {
  if (dev.mountPoints.length) return `it is mounted on ${dev.mountPoints.join(", ")}`;
  if (dev.swap) return "it is an active swap area";
  for (const name of dev.partitions) {
    const part = all.find((d) => d.name === name);
    if (part?.mountPoints.length) return `its partition ${part.path} is mounted on ${part.mountPoints.join(", ")}`;
    if (part?.swap) return `its partition ${part.path} is an active swap area`;
    if (part?.holders.length) return `its partition ${part.path} is in use by ${part.holders.join(", ")}`;
  }
  if (dev.partitions.length) return `it has partitions (${dev.partitions.join(", ")})`;
  if (dev.holders.length) return `it is in use by ${dev.holders.join(", ")}`;
  if (dev.unreadable !== null) return `its contents are unknown: ${dev.unreadable}`;
  if (dev.readOnly) return "it is read-only";
  if (dev.sizeBytes === null) return "its size is unknown";
  if (dev.signature) return `it carries ${describeSignature(dev.signature)}`;
  return null;
}

const matches = (dev: BlockDevice, path: string): boolean => dev.path === path || dev.links.includes(path);

export function chooseScratch(ctx: Context): ScratchChoice {
  const { device: wanted, mount_point: mountPoint } = ctx.config.scratch;
  if (wanted === "none") return { kind: "directory", why: "scratch.device is none" };
  const devices = devicesOf(ctx);
  const there = devices.find((d) => d.mountPoints.includes(mountPoint));

  if (wanted !== "auto") {
    const dev = devices.find((d) => matches(d, wanted));
    if (there && (!dev || there.name !== dev.name)) return { kind: "refused", device: wanted, reason: `${mountPoint} already has ${there.path} mounted on it` };
    if (there) return { kind: "mounted", device: there };
    if (!dev) {
      const known = devices.map((d) => d.name).join(", ") || "none";
      return { kind: "refused", device: wanted, reason: `no such block device (the kernel lists: ${known})` };
    }
    const why = refusal(dev, devices);
    return why === null ? { kind: "device", device: dev, passedOver: [] } : { kind: "refused", device: wanted, reason: `${why}; only a blank, unused device is formatted` };
  }

  if (there) return { kind: "mounted", device: there };
  const passedOver: string[] = [];
  for (const name of AUTO_DEVICES) {
    const dev = devices.find((d) => d.name === name);
    if (!dev) continue;
    const why = refusal(dev, devices);
    if (why === null) return { kind: "device", device: dev, passedOver };
    passedOver.push(`${dev.path}: ${why}`);
  }
  return {
    kind: "directory",
    why: passedOver.length ? `no blank, unused block device (${passedOver.join("; ")})` : `none of ${AUTO_DEVICES.join(", ")} exists`,
  };
}

/** A configured scratch.device that is missing or in use refuses the run (500: the site's VM). */
export function scratchProblems(ctx: Context): Problem[] {
  const choice = chooseScratch(ctx);
  if (choice.kind !== "refused") return [];
  const source = ctx.provenance["scratch.device"]?.source ?? "user_data";
  return [problem("error", source, "scratch.device", `${choice.device}: ${choice.reason}`, 500)];
}

function swapActions(ctx: Context): Action[] {
  const gb = ctx.config.scratch.swap_gb;
  if (gb <= 0) return [];
  const file = posix.join(ctx.config.scratch.mount_point, "swapfile");
  const cmd = (argv: string[], why: string): Action => ({ kind: "run-command", argv, timeoutMs: SWAP_TIMEOUT_MS, machineWide: true, why });
  return [
    cmd(["fallocate", "-l", `${gb}G`, file], `a ${gb} GiB swap file on scratch`),
    cmd(["chmod", "0600", file], "swap contents are other processes' memory: root only"),
    cmd(["mkswap", file], "make it a swap area"),
    cmd(["swapon", file], "use it"),
  ];
}

function planScratch(ctx: Context): Action[] {
  const mountPoint = ctx.config.scratch.mount_point;
  const choice = chooseScratch(ctx);
  if (choice.kind === "directory") {
    return [{ kind: "mkdir", path: mountPoint, mode: 0o1777, why: `scratch is a directory on the root disk: ${choice.why}` }, ...swapActions(ctx)];
  }
  if (choice.kind !== "device") return [];
  const dev = choice.device;
  const size = dev.sizeBytes === null ? "" : `, ${(dev.sizeBytes / 2 ** 30).toFixed(1)} GiB`;
  const passed = choice.passedOver.length ? `; passed over ${choice.passedOver.join("; ")}` : "";
  return [
    {
      kind: "run-command",
      argv: ["mkfs.ext4", "-q", "-L", SCRATCH_LABEL, dev.path],
      timeoutMs: MKFS_TIMEOUT_MS,
      machineWide: true,
      why: `${dev.path} is blank and unused (all zeros in its first blocks, not mounted${size})${passed}`,
    },
    { kind: "mkdir", path: mountPoint, mode: 0o755, why: "mount point for scratch" },
    { kind: "mount", device: dev.path, target: mountPoint, fstype: "ext4", options: ["defaults", "noatime"], why: "scratch for payloads" },
    { kind: "mkdir", path: mountPoint, mode: 0o1777, why: "scratch's root world-writable and sticky, like /tmp" },
    ...swapActions(ctx),
  ];
}

export const scratchDisk: Stage = {
  id: "scratch-disk",
  title: "scratch disk",
  skip: (ctx) => {
    const choice = chooseScratch(ctx);
    if (choice.kind === "mounted") return `${ctx.config.scratch.mount_point} already has ${choice.device.path} mounted on it`;
    if (choice.kind === "refused") return `scratch.device ${choice.device} not used: ${choice.reason}`;
    return null;
  },
  plan: planScratch,
  failure: { code: 500, fatal: true, text: "Cannot prepare the scratch disk" },
};
