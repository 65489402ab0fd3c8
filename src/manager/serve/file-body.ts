// A response whose body is a file on disk (the agent binaries, their compressed copies): a stream
// for node:http, and remembered here so the Bun server can answer with `Bun.file` instead, which
// sends it with sendfile(2) and a Content-Length (Bun.serve drops Content-Length from a streamed
// body and sends it chunked: no size for curl's progress or a resumed download).

import { createReadStream } from "node:fs";
import { Readable } from "node:stream";

const files = new WeakMap<Response, { path: string; size: number }>();

/**
 * A 200 with the first `size` bytes of `path`. The file is opened when the body is sent, not now:
 * one replaced (renamed over) in between is sent in its new version under these headers, and a
 * bootstrap then finds the sha256 wrong and fetches again.
 */
export function fileResponse(path: string, size: number, headers: Record<string, string>): Response {
  const stream = Readable.toWeb(createReadStream(path, { start: 0, end: Math.max(0, size - 1) })) as ReadableStream<Uint8Array>;
  const res = new Response(size === 0 ? null : stream, { status: 200, headers: { ...headers, "content-length": String(size) } });
  files.set(res, { path, size });
  return res;
}

/** The file behind a response made by fileResponse, if it was. */
export const fileBodyOf = (res: Response): { path: string; size: number } | undefined => files.get(res);
