// What is tested: the reserve's mechanics (created, sized, never listed as an output, released
// once, a write that fails for lack of space succeeds after release) on a model of a full disk,
// and the failure paths with an injected filesystem. Not tested: a real full filesystem (that needs
// root to mount a tiny tmpfs), and ext4's blocks reserved for root, which let the agent (root)
// write even when the payload (unprivileged) filled the disk.

import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_RESERVE_BYTES, RESERVE_NAME, reserveSpace, type SpaceReserveFs } from "../../../src/lifecycle/joboutputs/space-reserve.ts";
import { isFlatName } from "../../../src/lifecycle/joboutputs/output-name.ts";
import { recordLog } from "./log-recorder.ts";

let spool: string;
beforeEach(() => (spool = mkdtempSync(join(tmpdir(), "reserve-"))));
afterEach(() => rmSync(spool, { recursive: true, force: true }));

const enospc = () => Object.assign(new Error("no space left on device"), { code: "ENOSPC" });

/** A disk of `capacity` bytes: writes fail once the files in the spool would exceed it. */
function diskOf(capacity: number) {
  const used = () => readdirSync(spool).reduce((sum, n) => sum + statSync(join(spool, n)).size, 0);
  return (name: string, data: string) => {
    if (used() + Buffer.byteLength(data) > capacity) throw enospc();
    writeFileSync(join(spool, name), data);
  };
}

describe("reserveSpace", () => {
  it("holds a 64 KiB file that is not a job output, and releases it once", async () => {
    const reserve = await reserveSpace(spool);
    const path = join(spool, RESERVE_NAME);
    expect(reserve.path).toBe(path);
    expect(reserve.held()).toBe(true);
    expect(statSync(path).size).toBe(DEFAULT_RESERVE_BYTES);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(isFlatName(RESERVE_NAME)).toBe(false);
    expect(await reserve.release()).toBe(true);
    expect(readdirSync(spool)).toEqual([]);
    expect(reserve.held()).toBe(false);
    expect(await reserve.release()).toBe(false);
  });

  it("makes the shutdown_message writable on a disk the payload filled", async () => {
    const write = diskOf(DEFAULT_RESERVE_BYTES + 10_000);
    const reserve = await reserveSpace(spool);
    // The payload writes until the disk is full.
    let written = 0;
    for (;;) {
      try {
        write(`payload-${written}.log`, "x".repeat(1000));
        written++;
      } catch {
        break;
      }
    }
    expect(written).toBe(10);
    expect(() => write("shutdown_message", "700 payload filled the disk")).toThrow(/no space/);
    await reserve.release();
    expect(() => write("shutdown_message", "700 payload filled the disk")).not.toThrow();
  });

  it("gives no reserve, without throwing, on a disk already full at start", async () => {
    const unlinked: string[] = [];
    const fs: SpaceReserveFs = {
      writeFile: () => Promise.reject(enospc()),
      unlink: async (p) => void unlinked.push(p),
    };
    const log = recordLog();
    const reserve = await reserveSpace(spool, { fs, log });
    expect(reserve.held()).toBe(false);
    expect(unlinked).toEqual([join(spool, RESERVE_NAME)]); // a partial file is not left behind
    expect(log.lines).toEqual([`warn no space reserve for the shutdown_message in ${spool} (ENOSPC)`]);
    expect(await reserve.release()).toBe(false);
  });

  it("reports a reserve that cannot be deleted, and one already gone silently", async () => {
    const log = recordLog();
    const denied = await reserveSpace(spool, {
      log,
      fs: { writeFile: async () => undefined, unlink: () => Promise.reject(Object.assign(new Error("denied"), { code: "EACCES" })) },
    });
    expect(await denied.release()).toBe(false);
    expect(log.lines).toEqual([`warn cannot release the space reserve ${join(spool, RESERVE_NAME)} (EACCES)`]);

    const gone = await reserveSpace(spool, { log });
    rmSync(gone.path);
    expect(await gone.release()).toBe(false);
    expect(log.lines).toHaveLength(1);
  });
});
