// The VM records on disk: <state>/vm-state.jsonl, one JSON object per VM, rewritten whole
// (temporary file, fsync, rename) every few seconds when a record changed, and at shutdown. Heartbeats
// acknowledged since the last write are lost if the manager is killed: a heartbeat need not be
// durable (the next one comes within minutes). Job outputs are the durable part: at start the
// records are completed from the job outputs on disk (joboutput-store.ts), so a shutdown_message
// acknowledged just before a crash is there after the restart.

import { open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { readJobOutput, scanVms } from "./joboutput-store.ts";
import { shutdownLine, type VmRecord, VmRegistry } from "./vm-registry.ts";

export const STATE_FILE = "vm-state.jsonl";

export interface StateFileOptions {
  stateDir: string;
  registry: VmRegistry;
  /** Default 5 s. */
  flushMs?: number;
  log: (line: string) => void;
}

export interface StateFile {
  /** Writes now if anything changed since the last write. */
  flush(): Promise<void>;
  /** Stops the timer and writes a last time. */
  close(): Promise<void>;
}

const FIELDS: readonly (keyof VmRecord)[] = ["machinetype", "vmId", "firstSeen", "lastHeartbeat", "heartbeat", "lastOutput", "outputs", "shutdownMessage", "shutdownAt", "metadataAt", "dn"];

/** Loads the records into `registry`: the state file, then what the job outputs on disk add. */
export async function loadVmState(stateDir: string, registry: VmRegistry, log: (line: string) => void): Promise<void> {
  const file = join(stateDir, STATE_FILE);
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") log(`${file}: cannot read (${(err as NodeJS.ErrnoException).code}); starting from the job outputs on disk`);
  }
  let bad = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const r = parseRecord(line);
    if (r) registry.restore(r);
    else bad++;
  }
  if (bad) log(`${file}: ${bad} line(s) not understood, skipped`);
  for (const vm of await scanVms(stateDir)) {
    let r: VmRecord | null | undefined = registry.get(vm.machinetype, vm.vmId);
    if (!r) {
      r = registry.touch(vm.machinetype, vm.vmId, vm.firstOutput ?? Date.now());
      if (!r) break;
      r.outputs = vm.outputs.length;
      r.lastOutput = vm.lastOutput;
    }
    if (vm.outputs.includes("shutdown_message") && r.shutdownMessage === null) {
      const body = await readJobOutput(stateDir, vm.machinetype, vm.vmId, "shutdown_message", 64 * 1024);
      if (body) {
        r.shutdownMessage = shutdownLine(body);
        r.shutdownAt = vm.lastOutput;
      }
    }
  }
}

function parseRecord(line: string): VmRecord | null {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : null);
    const str = (x: unknown) => (typeof x === "string" ? x : null);
    if (typeof v.machinetype !== "string" || typeof v.vmId !== "string" || num(v.firstSeen) === null) return null;
    return {
      machinetype: v.machinetype,
      vmId: v.vmId,
      firstSeen: num(v.firstSeen)!,
      lastHeartbeat: num(v.lastHeartbeat),
      heartbeat: str(v.heartbeat),
      lastOutput: num(v.lastOutput),
      outputs: num(v.outputs) ?? 0,
      shutdownMessage: str(v.shutdownMessage),
      shutdownAt: num(v.shutdownAt),
      metadataAt: num(v.metadataAt),
      dn: str(v.dn),
    };
  } catch {
    return null;
  }
}

export function startStateFile(o: StateFileOptions): StateFile {
  const file = join(o.stateDir, STATE_FILE);
  let written = o.registry.version;
  let running: Promise<void> | null = null;

  async function write(): Promise<void> {
    const version = o.registry.version;
    if (version === written) return;
    const temp = `${join(o.stateDir, `.${STATE_FILE}.tmp-${process.pid}`)}`;
    const fh = await open(temp, "w", 0o640);
    try {
      let chunk: string[] = [];
      for (const r of o.registry.all()) {
        chunk.push(JSON.stringify(r, FIELDS as string[]));
        if (chunk.length >= 1000) {
          await fh.write(chunk.join("\n") + "\n");
          chunk = [];
        }
      }
      if (chunk.length) await fh.write(chunk.join("\n") + "\n");
      await fh.sync();
      await fh.close();
      await rename(temp, file);
      written = version;
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      o.log(`${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the VM records stay in memory`);
    }
  }

  const flush = (): Promise<void> => {
    // One write at a time; a flush asked for during a write waits for it and writes again.
    running = (running ?? Promise.resolve()).then(write);
    return running;
  };
  const timer = setInterval(() => void flush(), o.flushMs ?? 5_000);
  timer.unref();
  return {
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
