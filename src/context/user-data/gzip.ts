// cloud-init accepts gzip-compressed user_data (and parts); a few kilobytes can inflate to
// gigabytes, so every inflation draws on one budget shared by the whole user_data.

import { gunzipSync } from "node:zlib";

/** Bytes that may still be produced by inflation, shared by all gzip data in one user_data. */
export interface InflateBudget {
  remaining: number;
}

export const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

export type Inflated = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

export function gunzip(bytes: Uint8Array, budget: InflateBudget, limit: number): Inflated {
  try {
    // maxOutputLength makes zlib stop at the cap instead of allocating the whole result first.
    const out = gunzipSync(bytes, { maxOutputLength: Math.max(1, budget.remaining) });
    budget.remaining -= out.length;
    return { ok: true, bytes: new Uint8Array(out.buffer, out.byteOffset, out.length) };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE" || code === "ERR_OUT_OF_RANGE") {
      return { ok: false, reason: `gzip data that inflates to more than the ${limit}-byte limit` };
    }
    return { ok: false, reason: `gzip data that cannot be inflated (${err instanceof Error ? err.message : String(err)})` };
  }
}
