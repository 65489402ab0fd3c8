// A read-only probe of the machine's block devices, taken once by gather() so that planners (the
// scratch disk) decide from facts, not from a read hidden in an effect. It reads sysfs
// (/sys/class/block), /proc/self/mountinfo, /proc/swaps, the /dev/disk/by-* and /dev/mapper links
// and the first bytes of each device; it writes nothing and never throws. Anything it cannot read
// is recorded as such (`unreadable`), so such a device is never mistaken for a blank one.
//
// `sysRoot` prefixes every path: tests point it at a fake tree where regular files stand in for
// device nodes.

import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from "node:fs";
import { posix } from "node:path";
import { detectSignature, SIGNATURE_BYTES, type Signature } from "./disk-signature.ts";
import { parseMountinfo, parseSwaps, type MountEntry } from "./mount-table.ts";

export interface BlockDevice {
  /** The kernel's name: "vdb", "vda2", "nvme1n1". */
  name: string;
  /** Its device node: "/dev/vdb". */
  path: string;
  /** Other names udev gave it: /dev/disk/by-id/..., /dev/disk/by-label/..., /dev/mapper/... */
  links: string[];
  /** null when sysfs does not say. */
  sizeBytes: number | null;
  readOnly: boolean;
  /** For a partition, its disk ("vda" for "vda2"); null for a whole disk. */
  parent: string | null;
  /** A disk's partitions, by name. */
  partitions: string[];
  /** Devices built on top of it (LVM, dm-crypt, md), by name. */
  holders: string[];
  /** Where this device itself (not its partitions) is mounted. */
  mountPoints: string[];
  /** An active swap area (/proc/swaps). */
  swap: boolean;
  /** What its first bytes carry; null when they are all zero. */
  signature: Signature | null;
  /** Why its first bytes could not be read; such a device is in use or unknown, never blank. */
  unreadable: string | null;
}

const LINK_DIRS = ["/dev/disk/by-id", "/dev/disk/by-label", "/dev/disk/by-uuid", "/dev/disk/by-partuuid", "/dev/disk/by-partlabel", "/dev/disk/by-path", "/dev/mapper"];

/** Every block device the kernel lists, sorted by name; [] when sysfs cannot be read. */
export function probeBlockDevices(sysRoot = "/"): BlockDevice[] {
  const at = (machinePath: string): string => posix.join(sysRoot, machinePath);
  const classDir = at("/sys/class/block");
  const names = listDir(classDir).sort();
  const mounts = parseMountinfo(readText(at("/proc/self/mountinfo")) ?? "");
  const swaps = new Set(parseSwaps(readText(at("/proc/swaps")) ?? ""));
  const links = readLinks(sysRoot);

  // A disk's partitions are the subdirectories of its sysfs directory that hold a `partition` file.
  const partitionsOf = new Map<string, string[]>();
  for (const name of names) {
    partitionsOf.set(name, listDir(posix.join(classDir, name)).filter((e) => existsSync(posix.join(classDir, name, e, "partition"))).sort());
  }
  const parentOf = new Map<string, string>();
  for (const [disk, parts] of partitionsOf) for (const p of parts) parentOf.set(p, disk);

  return names.map((name): BlockDevice => {
    const dir = posix.join(classDir, name);
    const path = `/dev/${name.replace(/!/g, "/")}`;
    const sectors = parseInteger(readText(posix.join(dir, "size")));
    const sizeBytes = sectors === null ? null : sectors * 512;
    const read = sizeBytes === 0 ? { signature: null, unreadable: "empty (size 0)" } : readSignature(at(path), path);
    return {
      name,
      path,
      links: links.get(path) ?? [],
      sizeBytes,
      readOnly: readText(posix.join(dir, "ro"))?.trim() === "1",
      parent: parentOf.get(name) ?? null,
      partitions: partitionsOf.get(name) ?? [],
      holders: listDir(posix.join(dir, "holders")).sort(),
      mountPoints: mountPointsOf(mounts, readText(posix.join(dir, "dev"))?.trim() ?? null, path),
      swap: swaps.has(path),
      ...read,
    };
  });
}

function mountPointsOf(mounts: readonly MountEntry[], majorMinor: string | null, path: string): string[] {
  const points = mounts.filter((m) => (majorMinor !== null && m.majorMinor === majorMinor) || m.source === path).map((m) => m.mountPoint);
  return [...new Set(points)];
}

function readSignature(file: string, machinePath: string): { signature: Signature | null; unreadable: string | null } {
  let fd: number | null = null;
  try {
    // Only a block device (or, in tests, a regular file): opening a FIFO would block forever.
    const kind = statSync(file);
    if (!kind.isBlockDevice() && !kind.isFile()) return { signature: null, unreadable: `${machinePath} is not a block device` };
    fd = openSync(file, "r");
    const buf = new Uint8Array(SIGNATURE_BYTES);
    let filled = 0;
    while (filled < buf.length) {
      const n = readSync(fd, buf, filled, buf.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return { signature: detectSignature(buf.subarray(0, filled)), unreadable: null };
  } catch (err) {
    return { signature: null, unreadable: errorText(err, machinePath) };
  } finally {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // Nothing was written; a failed close loses nothing.
      }
    }
  }
}

/** Machine device path -> its udev links ("/dev/vdb" -> ["/dev/disk/by-id/virtio-scratch"]). */
function readLinks(sysRoot: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const dir of LINK_DIRS) {
    for (const entry of listDir(posix.join(sysRoot, dir)).sort()) {
      let target: string;
      try {
        target = readlinkSync(posix.join(sysRoot, dir, entry));
      } catch {
        continue;
      }
      const device = posix.resolve(dir, target);
      out.set(device, [...(out.get(device) ?? []), `${dir}/${entry}`]);
    }
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function parseInteger(text: string | null): number | null {
  const t = text?.trim();
  return t !== undefined && /^[0-9]+$/.test(t) ? Number(t) : null;
}

function errorText(err: unknown, machinePath: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return `no device node ${machinePath}`;
  if (code === "EACCES" || code === "EPERM") return "permission denied reading its first blocks";
  if (code === "ENOMEDIUM") return "no medium";
  return `cannot read its first blocks: ${code ?? (err instanceof Error ? err.message : String(err))}`;
}
