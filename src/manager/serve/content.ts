// What `manager serve` publishes, built once per (re)load and then only read: every pipe and
// user_data template as bytes with its validators (ETag, Last-Modified) and, for pipes, a gzip copy
// compressed once here rather than per request. Keyed by request path, so the app does one lookup.

import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { baseUrlOf } from "../pipe-build.ts";
import type { LoadedDefinition } from "../definition-file.ts";

export type EntryKind = "pipe" | "template";

export interface Entry {
  kind: EntryKind;
  /** `pipes/<name>.pipe` or `user_data/<name>-<suffix>.template`. */
  path: string;
  bytes: Uint8Array;
  /** The gzip encoding of `bytes` (pipes only: templates are small and never cached). */
  gzip: Uint8Array | null;
  /** sha256 of `bytes`, hex. */
  sha256: string;
  /** Whole seconds (HTTP dates have no finer resolution). */
  lastModified: Date;
}

export interface Content {
  /** Request path -> entry, at `/<path>` and under base_url's path (`/example/<path>`). */
  entries: ReadonlyMap<string, Entry>;
  /** The pipes' and templates' relative paths, for the log. */
  paths: readonly string[];
}

export const EMPTY_CONTENT: Content = { entries: new Map(), paths: [] };

/**
 * Content of a definition that validated. `previous` keeps Last-Modified of unchanged bytes, so a
 * reload that changes nothing does not make every site re-fetch its pipe.
 */
export function buildContent(loaded: LoadedDefinition, now: Date, previous: Content = EMPTY_CONTENT): Content {
  const files: { kind: EntryKind; path: string; bytes: Uint8Array }[] = [
    ...loaded.pipes.map((p) => ({ kind: "pipe" as const, path: p.path, bytes: Buffer.from(p.text, "ascii") })),
    ...loaded.templates.map((t) => ({ kind: "template" as const, path: t.path, bytes: t.bytes })),
  ];
  const prefix = loaded.definition ? basePath(baseUrlOf(loaded.definition)) : "";
  const stamp = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const entries = new Map<string, Entry>();
  for (const f of files) {
    const sha256 = createHash("sha256").update(f.bytes).digest("hex");
    const before = previous.entries.get(`/${f.path}`);
    const entry: Entry = {
      kind: f.kind,
      path: f.path,
      bytes: f.bytes,
      gzip: f.kind === "pipe" ? gzipSync(f.bytes, { level: 9 }) : null,
      sha256,
      lastModified: before && before.sha256 === sha256 ? before.lastModified : stamp,
    };
    entries.set(`/${f.path}`, entry);
    // Served under base_url's path too, so base_url can point straight at this server.
    if (prefix) entries.set(`${prefix}/${f.path}`, entry);
  }
  return { entries, paths: files.map((f) => f.path) };
}

/** `https://h/example/` -> `/example`; `https://h` -> "". */
function basePath(baseUrl: string): string {
  try {
    return new URL(baseUrl).pathname.replace(/\/+$/, "");
  } catch {
    return "";
  }
}
