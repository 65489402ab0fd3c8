// Compressed copies of the published agents, `agents/NAME.zst` and `agents/NAME.gz`: the
// bootstrap (user_data/parts/bootstrap.sh) asks for them first and decompresses while the bytes
// arrive, so a VM moves 45 MB instead of 118 MB. Made once per binary (keyed by its sha256), in
// the background, into a cache directory (the state directory's `agent-cache/` with --state):
// until a copy is ready its URL answers 404 and the bootstrap takes the next form. The input is
// hashed while it is compressed and a copy is kept only when that hash is the published one, so a
// binary rewritten meanwhile never gets a copy of other bytes under its hash.
// zstd needs node:zlib's zstd (bun, Node >= 22.15); without it only .gz is made.

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import type { AgentBinary } from "./agent-binary.ts";

export type AgentEncoding = "zst" | "gz";

export const AGENT_ENCODINGS: readonly AgentEncoding[] = ["zst", "gz"];

export const CONTENT_TYPES: Record<AgentEncoding, string> = { zst: "application/zstd", gz: "application/gzip" };

/**
 * zstd 9: 49 MB for the 118 MB agent in ~2 s here; 19 saves 4 MB more but takes ~45 s, during
 * which booting VMs would fetch the plain binary. A VM decompresses either at the same speed.
 */
export const ZSTD_LEVEL = 9;
export const GZIP_LEVEL = 6;

export interface AgentCompressor {
  /** The copy's path and size when it is ready; otherwise starts making it (once) and returns null. */
  ready(a: AgentBinary, enc: AgentEncoding): Promise<{ path: string; size: number } | null>;
  /** Starts every copy of these binaries that is not there yet (after a definition load). */
  warm(agents: Iterable<AgentBinary>): void;
  /** Resolves when nothing is being compressed (tests, shutdown). */
  idle(): Promise<void>;
}

type ZstdFactory = (opts: { params: Record<number, number> }) => Transform;

/** node:zlib's zstd stream when this runtime has it. */
export function zstdAvailable(): boolean {
  return typeof (zlib as unknown as { createZstdCompress?: unknown }).createZstdCompress === "function";
}

function compressorStream(enc: AgentEncoding): Transform | null {
  if (enc === "gz") return zlib.createGzip({ level: GZIP_LEVEL });
  const z = zlib as unknown as { createZstdCompress?: ZstdFactory; constants: Record<string, number> };
  if (!z.createZstdCompress) return null;
  const levelParam = z.constants.ZSTD_c_compressionLevel;
  return z.createZstdCompress(levelParam === undefined ? { params: {} } : { params: { [levelParam]: ZSTD_LEVEL } });
}

/** Hashes what passes through. */
function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

export function createAgentCompressor(o: { cacheDir: string; log?: (line: string) => void }): AgentCompressor {
  const log = o.log ?? (() => {});
  const running = new Map<string, Promise<void>>();
  /** One copy at a time: the manager also serves while it compresses. */
  let queue: Promise<void> = Promise.resolve();
  /** Copies that failed, not retried for this binary (a full disk would otherwise retry per request). */
  const failed = new Set<string>();
  const fileOf = (a: AgentBinary, enc: AgentEncoding) => join(o.cacheDir, `${a.sha256}.${enc}`);

  async function make(a: AgentBinary, enc: AgentEncoding, key: string): Promise<void> {
    const stream = compressorStream(enc);
    if (!stream) {
      failed.add(key);
      return;
    }
    const t0 = Date.now();
    const final = fileOf(a, enc);
    const tmp = `${final}.${process.pid}.tmp`;
    const hash = createHash("sha256");
    try {
      await mkdir(o.cacheDir, { recursive: true, mode: 0o755 });
      await pipeline(createReadStream(a.path), hashing(hash), stream, createWriteStream(tmp, { mode: 0o644 }));
      const got = hash.digest("hex");
      if (got !== a.sha256) {
        await rm(tmp, { force: true });
        log(`agents/${a.name}.${enc}: ${a.path} changed while it was compressed; not published (the next request tries again)`);
        return;
      }
      await rename(tmp, final);
      const size = (await stat(final)).size;
      log(`agents/${a.name}.${enc}: ${size} bytes (${((100 * size) / a.size).toFixed(0)}% of ${a.size}) made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      failed.add(key);
      await rm(tmp, { force: true }).catch(() => {});
      log(`agents/${a.name}.${enc}: cannot make the compressed copy in ${o.cacheDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; serving ${a.name} uncompressed only`);
    }
  }

  function start(a: AgentBinary, enc: AgentEncoding): void {
    const key = `${a.sha256}.${enc}`;
    if (running.has(key) || failed.has(key)) return;
    const p = queue.then(() => make(a, enc, key)).finally(() => running.delete(key));
    queue = p.catch(() => {});
    running.set(key, p);
  }

  return {
    async ready(a, enc) {
      const key = `${a.sha256}.${enc}`;
      if (!running.has(key)) {
        const s = await stat(fileOf(a, enc)).catch(() => null);
        if (s?.isFile()) return { path: fileOf(a, enc), size: s.size };
      }
      start(a, enc);
      return null;
    },
    warm(agents) {
      for (const a of agents) {
        for (const enc of AGENT_ENCODINGS) {
          void this.ready(a, enc);
        }
      }
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running.values()]);
    },
  };
}
