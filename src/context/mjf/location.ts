// Reading keys from one MJF location: a local directory (one file per key) or an HTTP(S)
// directory (GET <location>/<key>, all keys at once). Each key is a value, absent (no file, any
// 404 whatever its body), or failed (unreachable, 403, 500…), so callers can keep a last good
// value on failure but drop it when the provider removed the key.

import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { httpRequest, HttpError, type TlsOptions } from "../../net/http-client.ts";
import { createHttpPool, type HttpPool } from "../../net/http-pool.ts";

/** Connections per MJF location: ~30 keys in about 8 requests per connection. */
const MJF_CONNECTIONS = 4;
import { safeUrl } from "../../net/http-error.ts";
import type { MjfSourceKind } from "../types.ts";

export type KeyRead = { state: "value"; text: string } | { state: "absent" } | { state: "failed"; reason: string };

export interface FetchSettings {
  tls?: TlsOptions;
  connectTimeoutMs: number;
  timeoutMs: number;
}

const MAX_VALUE_BYTES = 64 * 1024;

export function locationKind(location: string): MjfSourceKind | null {
  if (location.startsWith("/")) return "directory";
  if (/^https?:\/\//i.test(location)) return "url";
  return null;
}

/** Reads `keys` at `location`; values are trimmed. */
export async function readKeys(location: string, keys: readonly string[], settings: FetchSettings): Promise<Record<string, KeyRead>> {
  const kind = locationKind(location);
  const base = location.replace(/\/+$/, "");
  const reads = kind === "directory" ? await readDirectory(base, keys) : await readUrls(base, keys, settings);
  return Object.fromEntries(keys.map((k, i) => [k, reads[i]!]));
}

async function readDirectory(dir: string, keys: readonly string[]): Promise<KeyRead[]> {
  try {
    if (!(await stat(dir)).isDirectory()) return keys.map(() => ({ state: "failed", reason: `${dir} is not a directory` }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === "ENOENT" ? `${dir} does not exist` : `cannot read ${dir} (${code ?? "unreadable"})`;
    return keys.map(() => ({ state: "failed", reason }));
  }
  return Promise.all(
    keys.map(async (key): Promise<KeyRead> => {
      try {
        return { state: "value", text: (await readFile(join(dir, key), "utf8")).trim() };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ENOENT" || code === "EISDIR") return { state: "absent" };
        return { state: "failed", reason: `cannot read ${join(dir, key)} (${code ?? "unreadable"})` };
      }
    }),
  );
}

/** Every key at once over a few kept-alive connections, closed when the burst is over. */
async function readUrls(base: string, keys: readonly string[], settings: FetchSettings): Promise<KeyRead[]> {
  const pool = createHttpPool(MJF_CONNECTIONS);
  try {
    return await Promise.all(keys.map((k) => readUrl(`${base}/${k}`, settings, pool)));
  } finally {
    pool.close();
  }
}

async function readUrl(url: string, settings: FetchSettings, pool: HttpPool): Promise<KeyRead> {
  try {
    const res = await httpRequest({
      url,
      pool,
      connectTimeoutMs: settings.connectTimeoutMs,
      timeoutMs: settings.timeoutMs,
      maxBytes: MAX_VALUE_BYTES,
      ...(settings.tls ? { tls: settings.tls } : {}),
    });
    if (res.status >= 200 && res.status < 300) return { state: "value", text: res.text().trim() };
    // Vac answers 404 with an HTML page, Vcycle with an empty body: both mean "no such key".
    if (res.status === 404 || res.status === 410) return { state: "absent" };
    return { state: "failed", reason: `${safeUrl(url)} answered HTTP ${res.status}` };
  } catch (err) {
    return { state: "failed", reason: err instanceof HttpError ? err.message : `${safeUrl(url)}: request failed` };
  }
}
