// Job outputs on disk: <state>/vms/<machinetype>/<vm-id>/joboutputs/<name>, each written to a
// temporary dot file, fsynced, renamed over the name and the directory fsynced (atomic-write.ts),
// all before the 201: a reader never sees half a file, and whatever was acknowledged survives a
// crash. Two uploads of one name at once each write their own temporary file; the last rename
// wins and the file is always one whole upload. Temporary files left by a crash are dot files,
// never listed, and removed at the next start (cleanStaleTemps).

import { mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { atomicWrite, syncDirectory } from "../../exec/atomic-write.ts";

export const VMS_DIR = "vms";

export const vmDir = (stateDir: string, machinetype: string, vmId: string): string => join(stateDir, VMS_DIR, machinetype, vmId);
export const outputsDir = (stateDir: string, machinetype: string, vmId: string): string => join(vmDir(stateDir, machinetype, vmId), "joboutputs");

/** mkdir -p, fsyncing the parent of each directory created so the new entry survives a crash. */
async function ensureDirs(base: string, parts: string[]): Promise<string> {
  let dir = base;
  for (const part of parts) {
    const next = join(dir, part);
    const created = await mkdir(next, { mode: 0o750 }).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === "EEXIST") return false;
        throw err;
      },
    );
    if (created) syncDirectory(dir);
    dir = next;
  }
  return dir;
}

export async function writeJobOutput(stateDir: string, machinetype: string, vmId: string, name: string, bytes: Uint8Array): Promise<void> {
  const dir = await ensureDirs(stateDir, [VMS_DIR, machinetype, vmId, "joboutputs"]);
  await atomicWrite(join(dir, name), bytes, { mode: 0o640 });
}

export async function readJobOutput(stateDir: string, machinetype: string, vmId: string, name: string, maxBytes: number): Promise<Uint8Array | null> {
  const path = join(outputsDir(stateDir, machinetype, vmId), name);
  try {
    if ((await stat(path)).size > maxBytes) return null;
    return new Uint8Array(await readFile(path));
  } catch {
    return null;
  }
}

export interface VmOnDisk {
  machinetype: string;
  vmId: string;
  /** Names of the job outputs (temporary files excluded). */
  outputs: string[];
  /** Oldest and newest job output mtime, ms. */
  firstOutput: number | null;
  lastOutput: number | null;
}

/** Every VM with a job outputs directory; temporary files a crash left behind are deleted. */
export async function scanVms(stateDir: string): Promise<VmOnDisk[]> {
  const found: VmOnDisk[] = [];
  const list = async (dir: string) => readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const mt of await list(join(stateDir, VMS_DIR))) {
    if (!mt.isDirectory()) continue;
    for (const vm of await list(join(stateDir, VMS_DIR, mt.name))) {
      if (!vm.isDirectory()) continue;
      const dir = outputsDir(stateDir, mt.name, vm.name);
      const entry: VmOnDisk = { machinetype: mt.name, vmId: vm.name, outputs: [], firstOutput: null, lastOutput: null };
      for (const f of await list(dir)) {
        if (!f.isFile()) continue;
        if (f.name.startsWith(".")) {
          // A temporary file of an upload that was never acknowledged.
          if (f.name.includes(".tmp-")) await unlink(join(dir, f.name)).catch(() => undefined);
          continue;
        }
        entry.outputs.push(f.name);
        const mtime = await stat(join(dir, f.name)).then((s) => s.mtimeMs, () => null);
        if (mtime !== null) {
          entry.firstOutput = entry.firstOutput === null ? mtime : Math.min(entry.firstOutput, mtime);
          entry.lastOutput = entry.lastOutput === null ? mtime : Math.max(entry.lastOutput, mtime);
        }
      }
      found.push(entry);
    }
  }
  return found;
}
