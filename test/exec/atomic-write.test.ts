import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { atomicWrite, atomicWriteSync, ensureDir, ensureDirSync } from "../../src/exec/atomic-write.ts";

let dir: string;
let oldUmask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-"));
  oldUmask = process.umask(0o022);
});
afterEach(() => {
  process.umask(oldUmask);
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (p: string) => statSync(p).mode & 0o7777;
const isRoot = process.getuid?.() === 0;

describe.each([
  ["atomicWrite", (p: string, d: string | Uint8Array, m: number) => atomicWrite(p, d, { mode: m })],
  ["atomicWriteSync", async (p: string, d: string | Uint8Array, m: number) => atomicWriteSync(p, d, { mode: m })],
  // Without the fsyncs (status.json between stages): the same atomic replacement, modes and clean-up.
  ["atomicWriteSync, durable false", async (p: string, d: string | Uint8Array, m: number) => atomicWriteSync(p, d, { mode: m, durable: false })],
])("%s", (_name, write) => {
  it.each([0o600, 0o640, 0o644, 0o755, 0o400])("writes mode %o exactly, whatever the umask", async (mode) => {
    process.umask(0o077);
    const p = join(dir, "f");
    await write(p, "hello\n", mode);
    expect(readFileSync(p, "utf8")).toBe("hello\n");
    expect(modeOf(p)).toBe(mode);
    expect(readdirSync(dir)).toEqual(["f"]);
  });

  it("replaces an existing file and its mode", async () => {
    const p = join(dir, "f");
    writeFileSync(p, "old", { mode: 0o666 });
    await write(p, new Uint8Array([1, 2, 3]), 0o600);
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    expect(modeOf(p)).toBe(0o600);
  });

  it("removes its temp file when the rename fails and leaves the target alone", async () => {
    const target = join(dir, "busy");
    mkdirSync(target);
    writeFileSync(join(target, "inside"), "x");
    await expect(write(target, "data", 0o644)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["busy"]);
    expect(readdirSync(target)).toEqual(["inside"]);
  });

  it("fails cleanly when the directory does not exist", async () => {
    await expect(write(join(dir, "missing", "f"), "x", 0o644)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("a secret is never observable with a wider mode", () => {
  it("every file seen in the directory during the write is 0600", async () => {
    process.umask(0); // a temp file created 0666 and chmodded later would now be seen as 0666
    const p = join(dir, "key.pem");
    const seen: number[] = [];
    let tempsSeen = 0;
    let writing = true;
    const poll = async () => {
      while (writing) {
        for (const name of readdirSync(dir)) {
          try {
            seen.push(modeOf(join(dir, name)));
            if (name.includes(".tmp-")) tempsSeen += 1;
          } catch {
            // renamed between readdir and stat
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    const poller = poll();
    await atomicWrite(p, Buffer.alloc(32 * 1024 * 1024, 0x41), { mode: 0o600 });
    writing = false;
    await poller;
    expect(tempsSeen).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([0o600]));
    expect(modeOf(p)).toBe(0o600);
  });
});

describe.skipIf(!isRoot)("ownership (as root)", () => {
  it.each([
    ["atomicWrite", atomicWrite],
    ["atomicWriteSync", async (...a: Parameters<typeof atomicWriteSync>) => atomicWriteSync(...a)],
  ])("%s chowns before the file appears", async (_name, write) => {
    const p = join(dir, "owned");
    await write(p, "x", { mode: 0o640, uid: 65534, gid: 65534 });
    const st = statSync(p);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([65534, 65534, 0o640]);
  });
});

describe.each([
  ["ensureDir", ensureDir],
  ["ensureDirSync", async (p: string, m: number) => ensureDirSync(p, m)],
])("%s", (_name, ensure) => {
  it("creates missing parents 0755 and the directory with its mode", async () => {
    process.umask(0o077);
    const p = join(dir, "a/b/c");
    expect(await ensure(p, 0o750)).toBe(true);
    expect(modeOf(p)).toBe(0o750);
    expect(modeOf(join(dir, "a/b"))).toBe(0o755);
  });

  it("sets the mode of an existing directory", async () => {
    const p = join(dir, "d");
    mkdirSync(p, { mode: 0o700 });
    expect(await ensure(p, 0o755)).toBe(false);
    expect(modeOf(p)).toBe(0o755);
  });

  it("refuses a file in the way", async () => {
    const p = join(dir, "file");
    writeFileSync(p, "");
    await expect(ensure(p, 0o755)).rejects.toThrow(/not a directory/);
  });
});
