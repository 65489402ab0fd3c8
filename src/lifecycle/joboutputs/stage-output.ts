// Staging: a copy of a log (or a text the agent produced) lands in the job outputs spool under a
// flat, unique name, cut to a size limit and with secrets redacted, written atomically so an
// upload never sends half a file. Staging never throws: a missing log is reported, not fatal.

import { mkdir } from "node:fs/promises";
import { posix } from "node:path";
import { atomicWrite } from "../../exec/atomic-write.ts";
import { assemble, boundBytes, readBounded, type BoundedContent } from "./bounded-content.ts";
import { flatName, uniqueName } from "./output-name.ts";

export type StageSource = { path: string } | { text: string };

export interface StageOptions {
  /** Largest staged file; bigger content keeps its head and tail around a marker line. */
  maxBytes: number;
  /** Applied to text content (decoded as UTF-8) before it is written, e.g. redactSecrets. */
  redact?: (text: string) => string;
  /** Overwrite an existing file of the same name instead of picking `name-2`; e.g. the agent's
   * own log staged again at the end. */
  replace?: boolean;
  /** Default 0o644. */
  mode?: number;
}

export type StageResult =
  | { ok: true; name: string; path: string; bytes: number; cutBytes: number }
  | { ok: false; name: string; reason: string };

const PARTIAL_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?![\s\S]*-----END [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*$/;
const KEY_END = /-----END [A-Z0-9 ]*PRIVATE KEY-----/;
const CUT_KEY = "[vacuum-agent: partial private key removed]";

/**
 * A private key cut in two by the marker: a redactor that looks for whole PEM blocks sees
 * neither half, so drop the dangling parts before redacting.
 */
function withoutKeyHalves(head: string, tail: string): [string, string] {
  const h = head.replace(PARTIAL_KEY, `${CUT_KEY}\n`);
  const end = KEY_END.exec(tail);
  const begin = tail.search(/-----BEGIN /);
  const orphanEnd = end !== null && (begin < 0 || begin > end.index);
  return [h, orphanEnd ? CUT_KEY + tail.slice(end.index + end[0].length) : tail];
}

function redacted(content: BoundedContent, redact: (text: string) => string): Uint8Array {
  const decode = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
  if (!content.head || !content.tail) return Buffer.from(redact(decode(content.bytes)));
  const [head, tail] = withoutKeyHalves(decode(content.head), decode(content.tail));
  return assemble(Buffer.from(redact(head)), Buffer.from(redact(tail)), content.cutBytes);
}

export async function stageJobOutput(spoolDir: string, name: string, source: StageSource, opts: StageOptions): Promise<StageResult> {
  const wanted = flatName(name);
  let content: BoundedContent;
  try {
    content = "path" in source ? await readBounded(source.path, opts.maxBytes) : boundBytes(Buffer.from(source.text, "utf8"), opts.maxBytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { ok: false, name: wanted, reason: `cannot read ${"path" in source ? source.path : "the text"} (${code})` };
  }
  const bytes = opts.redact ? redacted(content, opts.redact) : content.bytes;
  try {
    await mkdir(spoolDir, { recursive: true, mode: 0o755 });
    const final = opts.replace ? wanted : await uniqueName(spoolDir, wanted);
    const path = posix.join(spoolDir, final);
    await atomicWrite(path, bytes, { mode: opts.mode ?? 0o644 });
    return { ok: true, name: final, path, bytes: bytes.length, cutBytes: content.cutBytes };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { ok: false, name: wanted, reason: `cannot write to ${spoolDir} (${code})` };
  }
}
