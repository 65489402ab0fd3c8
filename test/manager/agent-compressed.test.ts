import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { loadAgentBinary, type AgentBinary } from "../../src/manager/agent-binary.ts";
import { createAgentCompressor, zstdAvailable } from "../../src/manager/agent-compressed.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "agent-compressed-"));
  dirs.push(d);
  return d;
};

/** A compressible 2 MiB "binary": a random 4 KiB block repeated, a quarter of it random. */
async function binary(dir: string): Promise<{ a: AgentBinary; bytes: Buffer }> {
  const block = randomBytes(4 * 1024);
  const bytes = Buffer.concat(Array.from({ length: 512 }, (_, i) => (i % 4 === 0 ? randomBytes(4 * 1024) : block)));
  const path = join(dir, "agent");
  writeFileSync(path, bytes, { mode: 0o755 });
  const a = await loadAgentBinary("agent", path);
  if ("problem" in a) throw new Error(a.problem);
  return { a, bytes };
}

describe("createAgentCompressor", () => {
  it("gz: not ready at first, made once in the background, then the copy decompresses to the binary", async () => {
    const dir = temp();
    const { a, bytes } = await binary(dir);
    const lines: string[] = [];
    const c = createAgentCompressor({ cacheDir: join(dir, "cache"), log: (l) => lines.push(l) });
    expect(await c.ready(a, "gz")).toBeNull();
    expect(await c.ready(a, "gz")).toBeNull(); // still being made: not started twice
    await c.idle();
    const copy = await c.ready(a, "gz");
    expect(copy).not.toBeNull();
    expect(copy!.path).toBe(join(dir, "cache", `${a.sha256}.gz`));
    const gz = readFileSync(copy!.path);
    expect(copy!.size).toBe(gz.length);
    expect(gz.length).toBeLessThan(bytes.length * 0.6);
    expect(createHash("sha256").update(gunzipSync(gz)).digest("hex")).toBe(a.sha256);
    expect(lines.filter((l) => l.startsWith("agents/agent.gz: "))).toHaveLength(1);
    expect(readdirSync(join(dir, "cache"))).toEqual([`${a.sha256}.gz`]); // no temp file left
  });

  it("a copy already in the cache (an earlier run) is served without compressing again", async () => {
    const dir = temp();
    const { a } = await binary(dir);
    mkdirSync(join(dir, "cache"));
    writeFileSync(join(dir, "cache", `${a.sha256}.gz`), "made before");
    const lines: string[] = [];
    const c = createAgentCompressor({ cacheDir: join(dir, "cache"), log: (l) => lines.push(l) });
    expect(await c.ready(a, "gz")).toEqual({ path: join(dir, "cache", `${a.sha256}.gz`), size: 11 });
    expect(lines).toEqual([]);
  });

  it("a binary rewritten while it is compressed gets no copy under the old hash", async () => {
    const dir = temp();
    const { a } = await binary(dir);
    writeFileSync(a.path, randomBytes(4096)); // after it was hashed
    const lines: string[] = [];
    const c = createAgentCompressor({ cacheDir: join(dir, "cache"), log: (l) => lines.push(l) });
    c.warm([a]);
    await c.idle();
    expect(await c.ready(a, "gz")).toBeNull();
    await c.idle();
    expect(lines.some((l) => /^agents\/agent\.gz: .* changed while it was compressed; not published/.test(l))).toBe(true);
    expect(readdirSync(join(dir, "cache"))).toEqual([]);
  });

  it("an unwritable cache path (a file in the way): logged once, served uncompressed, not retried", async () => {
    const dir = temp();
    const { a } = await binary(dir);
    writeFileSync(join(dir, "cache"), "a file, not a directory");
    const lines: string[] = [];
    const c = createAgentCompressor({ cacheDir: join(dir, "cache"), log: (l) => lines.push(l) });
    expect(await c.ready(a, "gz")).toBeNull();
    await c.idle();
    expect(await c.ready(a, "gz")).toBeNull();
    await c.idle();
    const failures = lines.filter((l) => l.startsWith("agents/agent.gz: cannot make the compressed copy in "));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/serving agent uncompressed only$/);
  });

  it.skipIf(zstdAvailable())("zst without node:zlib's zstd (Node < 22.15): never ready, nothing written", async () => {
    const dir = temp();
    const { a } = await binary(dir);
    const c = createAgentCompressor({ cacheDir: join(dir, "cache"), log: () => {} });
    expect(await c.ready(a, "zst")).toBeNull();
    await c.idle();
    expect(await c.ready(a, "zst")).toBeNull();
  });
});
