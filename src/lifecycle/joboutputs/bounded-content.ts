// Huge logs are cut in the middle: the head says how the payload started, the tail how it ended,
// and a marker line in between says how much is missing. Files are read by position, never whole,
// so a 20 GB log costs at most `maxBytes` of memory (the agent's footprint target is 64 MB).

import { constants } from "node:fs";
import { open } from "node:fs/promises";

export const cutMarker = (cutBytes: number): string => `[... vacuum-agent: ${cutBytes} bytes cut here ...]\n`;

/** Room kept for the marker (and its leading newline) so the result stays within maxBytes. */
const MARKER_ROOM = 64;
/** Below this a head and tail would say nothing; smaller limits are raised to it. */
const MIN_BYTES = 256;

export interface BoundedContent {
  /** The whole content, or head + marker + tail. */
  bytes: Uint8Array;
  /** Size of the original. */
  size: number;
  /** Bytes left out (0 when nothing was cut). */
  cutBytes: number;
  /** Set when cut: the parts, for callers that transform them separately (redaction). */
  head?: Uint8Array;
  tail?: Uint8Array;
}

const NL = 0x0a;

/** Split points on line ends when one is near, so the marker sits on a line of its own. */
function alignToLines(head: Uint8Array, tail: Uint8Array): [Uint8Array, Uint8Array] {
  const lastNl = head.lastIndexOf(NL);
  const h = lastNl >= head.length / 2 ? head.subarray(0, lastNl + 1) : head;
  const firstNl = tail.indexOf(NL);
  const t = firstNl >= 0 && firstNl < tail.length / 2 ? tail.subarray(firstNl + 1) : tail;
  return [h, t];
}

function sizes(size: number, maxBytes: number): [number, number] {
  const budget = Math.max(MIN_BYTES, maxBytes) - MARKER_ROOM;
  const head = Math.floor(budget / 2);
  return [head, budget - head];
}

/** Joins head, marker and tail; the marker starts on a new line. */
export function assemble(head: Uint8Array, tail: Uint8Array, cutBytes: number): Uint8Array {
  const lead = head.length > 0 && head[head.length - 1] !== NL ? "\n" : "";
  const marker = Buffer.from(lead + cutMarker(cutBytes));
  return new Uint8Array(Buffer.concat([head, marker, tail]));
}

export function boundBytes(all: Uint8Array, maxBytes: number): BoundedContent {
  if (all.length <= Math.max(MIN_BYTES, maxBytes)) return { bytes: all, size: all.length, cutBytes: 0 };
  const [hn, tn] = sizes(all.length, maxBytes);
  const [head, tail] = alignToLines(all.subarray(0, hn), all.subarray(all.length - tn));
  const cutBytes = all.length - head.length - tail.length;
  return { bytes: assemble(head, tail, cutBytes), size: all.length, cutBytes, head, tail };
}

/**
 * The file at `path`, cut to `maxBytes` if larger. Symlinks are refused (O_NOFOLLOW): the spool
 * is shared with the payload's output and a link to /etc/shadow must not be uploaded.
 */
export async function readBounded(path: string, maxBytes: number): Promise<BoundedContent> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
    const size = stat.size;
    if (size <= Math.max(MIN_BYTES, maxBytes)) {
      // Read to the end rather than `size` bytes: a log still growing is taken as it is now.
      const bytes = await handle.readFile();
      return bytes.length <= Math.max(MIN_BYTES, maxBytes) ? { bytes: new Uint8Array(bytes), size: bytes.length, cutBytes: 0 } : boundBytes(new Uint8Array(bytes), maxBytes);
    }
    const [hn, tn] = sizes(size, maxBytes);
    const headBuf = Buffer.alloc(hn);
    const tailBuf = Buffer.alloc(tn);
    const h = await readFully(handle, headBuf, 0);
    const t = await readFully(handle, tailBuf, size - tn);
    const [head, tail] = alignToLines(headBuf.subarray(0, h), tailBuf.subarray(0, t));
    const cutBytes = size - head.length - tail.length;
    return { bytes: assemble(head, tail, cutBytes), size, cutBytes, head, tail };
  } finally {
    await handle.close();
  }
}

async function readFully(handle: Awaited<ReturnType<typeof open>>, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break; // the file shrank meanwhile
    done += bytesRead;
  }
  return done;
}
