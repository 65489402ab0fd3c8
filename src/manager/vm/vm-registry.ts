// What the manager knows about each VM, in memory: first seen, the latest heartbeat (only the
// latest matters: Vac and Vcycle look at its time alone), job outputs received, the
// shutdown_message. A heartbeat PUT only changes a record here; vm-state-file.ts writes all
// records to disk every few seconds when something changed, so no file is written per heartbeat.
// The number of records is capped, so nobody can grow the manager's memory without limit by
// inventing VM ids.

export interface VmRecord {
  machinetype: string;
  vmId: string;
  /** Milliseconds since the epoch. */
  firstSeen: number;
  lastHeartbeat: number | null;
  /** The latest heartbeat's content (a few bytes: `load1 load5 load15 uptime idle`). */
  heartbeat: string | null;
  lastOutput: number | null;
  /** Job outputs accepted (heartbeats not counted). */
  outputs: number;
  shutdownMessage: string | null;
  shutdownAt: number | null;
  /** When the metadata emulation last answered for it. */
  metadataAt: number | null;
  /** The client certificate DN of its last authenticated PUT, if it used one. */
  dn: string | null;
}

export const DEFAULT_MAX_VMS = 1_000_000;

export const vmKey = (machinetype: string, vmId: string): string => `${machinetype}/${vmId}`;

export class VmRegistry {
  private readonly records = new Map<string, VmRecord>();
  /** Bumped at each change; the state file remembers which version it wrote. */
  version = 0;

  constructor(private readonly maxVms = DEFAULT_MAX_VMS) {}

  get size(): number {
    return this.records.size;
  }

  get(machinetype: string, vmId: string): VmRecord | undefined {
    return this.records.get(vmKey(machinetype, vmId));
  }

  /** The record, created when missing; null when the registry is full. */
  touch(machinetype: string, vmId: string, now: number): VmRecord | null {
    const key = vmKey(machinetype, vmId);
    let r = this.records.get(key);
    if (r) return r;
    if (this.records.size >= this.maxVms) return null;
    r = { machinetype, vmId, firstSeen: now, lastHeartbeat: null, heartbeat: null, lastOutput: null, outputs: 0, shutdownMessage: null, shutdownAt: null, metadataAt: null, dn: null };
    this.records.set(key, r);
    this.version++;
    return r;
  }

  changed(): void {
    this.version++;
  }

  /** Records restored from the state file or the job outputs on disk. */
  restore(r: VmRecord): void {
    this.records.set(vmKey(r.machinetype, r.vmId), r);
  }

  all(): IterableIterator<VmRecord> {
    return this.records.values();
  }
}

/** The first line of a shutdown_message, at most 200 printable characters (TN04). */
export function shutdownLine(body: Uint8Array): string {
  const text = Buffer.from(body.subarray(0, 1024)).toString("latin1");
  return text.split(/\r?\n/)[0]!.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}
