// Finding and mounting an OpenStack config drive (a vfat or iso9660 filesystem labelled
// config-2). Behind an interface so tests hand in a plain directory instead of a block device.
// The default mounts read-only in a fresh temporary directory and unmounts after reading.

import { access, mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MountedDrive {
  dir: string;
  release(): Promise<void>;
}

export interface ConfigDriveDevice {
  /** Where the device is looked for, for the attempts log. */
  readonly description: string;
  /** The block device carrying the config-2 label, or null when there is none. */
  find(): Promise<string | null>;
  mount(device: string): Promise<MountedDrive>;
}

const LABELS = ["/dev/disk/by-label/config-2", "/dev/disk/by-label/CONFIG-2"];
const MOUNT_TIMEOUT_MS = 10_000;

export const systemConfigDrive: ConfigDriveDevice = {
  description: LABELS[0]!,
  async find() {
    for (const path of LABELS) {
      try {
        await access(path);
        return path;
      } catch {
        // not this label
      }
    }
    return null;
  },
  async mount(device) {
    // Loaded here so that merely importing the metadata reader never touches child_process.
    const { execFile } = await import("node:child_process");
    const run = (argv: string[]) =>
      new Promise<void>((resolve, reject) =>
        execFile(argv[0]!, argv.slice(1), { timeout: MOUNT_TIMEOUT_MS }, (err, _out, stderr) =>
          err ? reject(new Error(`${argv[0]} failed: ${String(stderr).trim().split("\n")[0] || err.message}`)) : resolve(),
        ),
      );
    const dir = await mkdtemp(join(tmpdir(), "config-2-"));
    try {
      await run(["mount", "-o", "ro", device, dir]);
    } catch (err) {
      await rmdir(dir).catch(() => undefined);
      throw err;
    }
    return {
      dir,
      release: async () => {
        await run(["umount", dir]).catch(() => undefined);
        await rmdir(dir).catch(() => undefined);
      },
    };
  },
};
