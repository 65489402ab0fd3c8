import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeJobOutput } from "../../../src/manager/vm/joboutput-store.ts";
import { VmRegistry } from "../../../src/manager/vm/vm-registry.ts";
import { loadVmState, STATE_FILE, startStateFile } from "../../../src/manager/vm/vm-state-file.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "vm-state-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("the VM state file", () => {
  it("writes only when something changed, and a new registry reads the same records back", async () => {
    const dir = tempDir();
    const registry = new VmRegistry();
    const file = startStateFile({ stateDir: dir, registry, flushMs: 60_000, log: () => {} });
    await file.flush(); // nothing yet
    expect(readdirSync(dir)).toEqual([]);
    const r = registry.touch("example-command", "vm-1", 1000)!;
    r.lastHeartbeat = 2000;
    r.heartbeat = "0.1 0.2 0.3 1 1\n";
    registry.changed();
    await file.flush();
    const first = readFileSync(join(dir, STATE_FILE), "utf8");
    expect(first.trim().split("\n")).toHaveLength(1);
    rmSync(join(dir, STATE_FILE));
    await file.flush(); // nothing changed: not written again
    expect(readdirSync(dir)).toEqual([]);
    r.lastHeartbeat = 3000;
    registry.changed();
    await file.close();
    expect(readdirSync(dir)).toEqual([STATE_FILE]);

    const again = new VmRegistry();
    await loadVmState(dir, again, () => {});
    expect(again.get("example-command", "vm-1")).toEqual({ ...r });
  });

  it("completes the records from the job outputs on disk and removes temporary files a crash left", async () => {
    const dir = tempDir();
    await writeJobOutput(dir, "example-command", "vm-2", "shutdown_message", Buffer.from("700 Payload crashed\n"));
    await writeJobOutput(dir, "example-command", "vm-2", "log.txt", Buffer.from("x"));
    const outputs = join(dir, "vms", "example-command", "vm-2", "joboutputs");
    writeFileSync(join(outputs, ".big.bin.tmp-123-abc"), "partial");
    writeFileSync(join(dir, STATE_FILE), 'not json\n{"machinetype":"example-command","vmId":"vm-3","firstSeen":5}\n');
    mkdirSync(join(dir, "vms", "example-command", "vm-4"));
    const logs: string[] = [];
    const registry = new VmRegistry();
    await loadVmState(dir, registry, (l) => logs.push(l));
    expect(registry.get("example-command", "vm-2")).toMatchObject({ outputs: 2, shutdownMessage: "700 Payload crashed" });
    expect(registry.get("example-command", "vm-3")).toMatchObject({ firstSeen: 5, shutdownMessage: null });
    expect(readdirSync(outputs).sort()).toEqual(["log.txt", "shutdown_message"]);
    expect(logs.join("\n")).toContain("1 line(s) not understood");
  });
});
