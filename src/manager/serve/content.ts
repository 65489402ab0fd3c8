// What `manager serve` publishes, built once per (re)load and then only read: every pipe and
// user_data template as bytes with its validators (ETag, Last-Modified) and, for pipes, a gzip copy
// compressed once here rather than per request; the pilot directories' files, checksums and index
// pages; the agent binaries (served from disk). Keyed by request path, so the app does one lookup.
// The machinetypes are kept too, for the VM-facing endpoints.

import { AGENT_ENCODINGS, CONTENT_TYPES, type AgentEncoding } from "../agent-compressed.ts";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { sha256Line, type AgentBinary } from "../agent-binary.ts";
import type { LoadedDefinition } from "../definition-file.ts";
import type { Definition, MachinetypeDefinition } from "../definition.ts";
import { baseUrlOf } from "../pipe-build.ts";
import { autoindexPage, CHECKSUMS_FILE, pilotIndexEntries } from "../pilot-directory.ts";
import { hasPlaceholders } from "../vm/placeholders.ts";

export type EntryKind = "pipe" | "template" | "file" | "agent";

export interface Entry {
  kind: EntryKind;
  /** `pipes/<name>.pipe`, `user_data/<name>-<suffix>.template`, `pilots/<name>/<file>`, `agents/<name>`. */
  path: string;
  /** Empty for agents (read from disk at each request). */
  bytes: Uint8Array;
  /** The gzip encoding of `bytes` (pipes only: templates are small and never cached). */
  gzip: Uint8Array | null;
  /** sha256 of `bytes`, hex. */
  sha256: string;
  /** Whole seconds (HTTP dates have no finer resolution). */
  lastModified: Date;
  contentType: string;
  /** Templates: the manager's machinetype name, and whether it has {{vacuum.*}} to fill per request. */
  machinetype?: string;
  placeholders?: boolean;
  /** Agents: the binary's name in `Content.agents`. */
  agent?: string;
  /** Agents: a compressed copy (`agents/NAME.zst`, `.gz`) rather than the binary. */
  encoding?: AgentEncoding;
}

export interface MachinetypeInfo {
  /** `<pipe>-<suffix>` */
  name: string;
  pipe: string;
  definition: MachinetypeDefinition;
  /** The template's path in `entries` (without a prefix). */
  templatePath: string;
}

export interface Content {
  /** Request path -> entry, at `/<path>` and under base_url's path (`/example/<path>`). */
  entries: ReadonlyMap<string, Entry>;
  /** The pipes' and templates' relative paths, for the log. */
  paths: readonly string[];
  definition: Definition | null;
  machinetypes: ReadonlyMap<string, MachinetypeInfo>;
  /** Name -> binary; the app replaces an entry when the file changed (a new hash). */
  agents: Map<string, AgentBinary>;
  /** base_url's path (`/example`) or "". */
  prefix: string;
  /** Files and directories the content was read from (templates, pilot directories): watched for changes. */
  sources: readonly string[];
}

export const EMPTY_CONTENT: Content = { entries: new Map(), paths: [], definition: null, machinetypes: new Map(), agents: new Map(), prefix: "", sources: [] };

interface Source {
  kind: EntryKind;
  path: string;
  bytes: Uint8Array;
  contentType: string;
  lastModified?: Date;
  extra?: Partial<Entry>;
}

/**
 * Content of a definition that validated. `previous` keeps Last-Modified of unchanged bytes, so a
 * reload that changes nothing does not make every site re-fetch its pipe.
 */
export function buildContent(loaded: LoadedDefinition, now: Date, previous: Content = EMPTY_CONTENT): Content {
  const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");
  const files: Source[] = [
    ...loaded.pipes.map((p) => ({ kind: "pipe" as const, path: p.path, bytes: Buffer.from(p.text, "ascii"), contentType: "application/json" })),
    ...loaded.templates.map((t) => ({
      kind: "template" as const,
      path: t.path,
      bytes: t.bytes,
      contentType: "application/octet-stream",
      extra: { machinetype: t.machinetype, placeholders: hasPlaceholders(latin1(t.bytes)) },
    })),
  ];
  for (const p of loaded.pilots) {
    for (const f of p.files) files.push({ kind: "file", path: `pilots/${p.name}/${f.name}`, bytes: f.bytes, contentType: "application/octet-stream", lastModified: f.lastModified });
    files.push({ kind: "file", path: `pilots/${p.name}/${CHECKSUMS_FILE}`, bytes: p.checksums, contentType: "text/plain; charset=utf-8" });
    files.push({ kind: "file", path: `pilots/${p.name}/`, bytes: Buffer.from(autoindexPage(`/pilots/${p.name}/`, pilotIndexEntries(p)), "utf8"), contentType: "text/html" });
  }
  for (const a of loaded.agents) {
    files.push({ kind: "agent", path: `agents/${a.name}`, bytes: new Uint8Array(0), contentType: "application/octet-stream", lastModified: a.lastModified, extra: { agent: a.name } });
    files.push({ kind: "file", path: `agents/${a.name}.sha256`, bytes: Buffer.from(sha256Line(a), "utf8"), contentType: "text/plain; charset=utf-8" });
    // The compressed copies (agent-compressed.ts), unless another agent has that very name.
    for (const encoding of AGENT_ENCODINGS) {
      if (loaded.agents.some((b) => b.name === `${a.name}.${encoding}`)) continue;
      files.push({ kind: "agent", path: `agents/${a.name}.${encoding}`, bytes: new Uint8Array(0), contentType: CONTENT_TYPES[encoding], lastModified: a.lastModified, extra: { agent: a.name, encoding } });
    }
  }
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
      lastModified: f.lastModified ?? (before && before.sha256 === sha256 ? before.lastModified : stamp),
      contentType: f.contentType,
      ...f.extra,
    };
    entries.set(`/${f.path}`, entry);
    // Served under base_url's path too, so base_url can point straight at this server.
    if (prefix) entries.set(`${prefix}/${f.path}`, entry);
  }
  const machinetypes = new Map<string, MachinetypeInfo>();
  for (const t of loaded.templates) {
    const pipe = loaded.definition!.pipes[t.pipeIndex]!;
    machinetypes.set(t.machinetype, { name: t.machinetype, pipe: pipe.name, definition: pipe.machinetypes[t.machinetypeIndex]!, templatePath: t.path });
  }
  return {
    entries,
    paths: files.filter((f) => f.kind === "pipe" || f.kind === "template").map((f) => f.path),
    definition: loaded.definition,
    machinetypes,
    agents: new Map(loaded.agents.map((a) => [a.name, a])),
    prefix,
    sources: [...loaded.templates.map((t) => t.source), ...loaded.pilots.map((p) => p.dir)],
  };
}

/** `https://h/example/` -> `/example`; `https://h` -> "". */
function basePath(baseUrl: string): string {
  try {
    return new URL(baseUrl).pathname.replace(/\/+$/, "");
  } catch {
    return "";
  }
}
