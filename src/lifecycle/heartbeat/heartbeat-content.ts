// What a heartbeat says. Vac and Vcycle look only at the file's time; the content is the
// `load1 load5 load15 uptime idle` line DIRAC and VMCondor VMs have always sent (pilots.md 1.4),
// which people read when they look at a VM's outputs.

import { readFile } from "node:fs/promises";

export type ReadProc = (path: string) => Promise<string>;

const NUMBER = /^\d+(\.\d+)?$/;
/** DIRAC's first heartbeat, used when /proc cannot be read. */
const UNKNOWN = ["0.0", "0.0", "0.0"];

const defaultReadProc: ReadProc = (path) => readFile(path, "utf8");

async function fields(read: ReadProc, path: string, count: number): Promise<string[]> {
  try {
    const parts = (await read(path)).trim().split(/\s+/).slice(0, count);
    return parts.length === count && parts.every((p) => NUMBER.test(p)) ? parts : UNKNOWN.slice(0, count);
  } catch {
    return UNKNOWN.slice(0, count);
  }
}

/** `"0.52 0.58 0.59 12345.67 45678.90\n"`; never throws. */
export async function heartbeatContent(readProc: ReadProc = defaultReadProc): Promise<string> {
  const [load, uptime] = await Promise.all([fields(readProc, "/proc/loadavg", 3), fields(readProc, "/proc/uptime", 2)]);
  return `${[...load, ...uptime].join(" ")}\n`;
}
