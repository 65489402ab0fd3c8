// Downloads a DIRAC pilot directory (issue 6 item 1, pilots.md sections 4 and 8), replacing the
// production VMs' `wget --recursive` (no integrity, failures unnoticed) and the pilot wrapper's
// unverified-TLS fetch. Mirrors are tried in order; on each:
//
// - checksums.sha512 published: exactly the files it lists, each verified against it, the whole
//   set refused on any mismatch or missing file. The publisher replaces files one at a time, so
//   such a failure is fetched once more as a whole set before the next mirror is tried.
// - no checksums.sha512 (404) and none required: the files the directory listing links to inside
//   the directory (src/pilot/listing.ts), recorded as unverified.
//
// Speed: one keep-alive pool of `concurrency` connections per mirror with pipelined GETs, and a
// first round that asks for checksums.sha512 together with pilot.tar and pilot.json (and the
// listing when it may be needed). DIRAC's publisher writes exactly those plus the .py files that
// pilot.tar holds, so when the manifest lists pilot.tar, the first round already carries every
// byte: one round trip after the TLS handshake, however many files there are. That is why the
// tar wins over per-file GETs: those can only start once the manifest has arrived (a second
// round, more with more files than connections × pipelining) and need more handshakes; the tar
// costs ~512 bytes per file, nothing next to a round trip. Measured through a 20 ms round trip,
// 40 files (scripts/bench-pilot-download.sh): ~60 ms with the tar, ~115 ms per file. The tar is
// used only after its own SHA-512 matched, is read in memory (src/pilot/tar.ts: regular flat
// files only, size caps), and each member the manifest also lists must match its line, else that
// file is fetched by itself.
// A speculative answer that does not verify is simply fetched again in the normal way.
//
// Nothing is written until the whole set is verified (src/pilot/directory-writer.ts).

import { createHash } from "node:crypto";
import type { TlsOptions } from "../net/http-client.ts";
import { safeUrl } from "../net/http-error.ts";
import { openConnectionPool, type ConnectionPool } from "../net/connection-pool.ts";
import { commitFiles, prepareDirectory, type Owner } from "./directory-writer.ts";
import { fetchWithRetries, type FailureSide, type FetchContext, type Fetched } from "./file-fetch.ts";
import { parseListing } from "./listing.ts";
import { MANIFEST_NAME, parseManifest, type ManifestEntry } from "./manifest.ts";
import type { PilotSource } from "./record.ts";
import { readTar } from "./tar.ts";

export { verifiedPilotFiles } from "./record.ts";

export interface PilotDownloadOptions {
  /** Directory URLs ending in "/", tried in order (mirrors). */
  urls: string[];
  /** Real filesystem path of the destination directory (already rooted). */
  dir: string;
  tls: TlsOptions;
  /** Pin: checksums.sha512 itself must have this SHA-512 (hex). */
  manifestSha512?: string;
  /** When false and no checksums.sha512 is published, use the directory listing. */
  requireManifest: boolean;
  /** Connections to a mirror at once; each carries up to 4 pipelined GETs. */
  concurrency: number;
  retries: number;
  /** Time allowed for one GET, connection and body included. */
  timeoutMs: number;
  /** Owner of the files written. */
  uid?: number;
  gid?: number;
  /** One progress line per file. */
  log: (line: string) => void;
}

export interface PilotFile {
  name: string;
  bytes: number;
  sha512: string;
  verified: boolean;
}

export type PilotDownloadResult =
  | { ok: true; url: string; source: PilotSource; files: PilotFile[]; durationMs: number }
  | { ok: false; code: 500 | 600; error: string };

export const TAR_NAME = "pilot.tar";

/**
 * GETs sent ahead on each connection (HTTP/1.1 pipelining, which Apache and nginx serve in order).
 * Measured through a 20 ms round trip with 38 files and 8 connections: one GET at a time per
 * connection took 5 rounds (~210 ms), 4 ahead 2 rounds (~115 ms); 8 ahead gained nothing more,
 * and 40 connections without pipelining (curl's way) spent the gain on 40 TLS handshakes.
 * A failed connection fails its pipelined GETs, which are then retried like any other.
 */
const PIPELINING = 4;
const PILOT_JSON = "pilot.json";

/** Caps that no real pilot directory comes near (213 kB for all of DIRACGrid/Pilot). */
const CAPS = {
  manifestBytes: 1024 * 1024,
  listingBytes: 4 * 1024 * 1024,
  fileBytes: 64 * 1024 * 1024,
  totalBytes: 256 * 1024 * 1024,
  files: 1000,
};

interface Mirror {
  /** Credential-free, ending in "/". */
  url: string;
  headers?: Record<string, string>;
}

interface Got {
  name: string;
  data: Uint8Array;
  sha512: string;
  verified: boolean;
}

type SetResult =
  | { ok: true; source: PilotSource; files: Got[] }
  | { ok: false; side: FailureSide; error: string; /** worth fetching the whole set again */ refetch: boolean };

const sha512 = (data: Uint8Array): string => createHash("sha512").update(data).digest("hex");
const short = (hex: string) => `${hex.slice(0, 16)}…`;

/** The URL without credentials (sent as Authorization: Basic instead, never logged), ending in "/". */
function mirrorOf(raw: string): Mirror | string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `${safeUrl(raw)}: not a valid URL`;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return `${safeUrl(raw)}: expected an https URL`;
  let headers: Record<string, string> | undefined;
  if (u.username || u.password) {
    const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    headers = { authorization: `Basic ${Buffer.from(pair, "utf8").toString("base64")}` };
    u.username = "";
    u.password = "";
  }
  u.search = "";
  u.hash = "";
  if (!u.pathname.endsWith("/")) u.pathname += "/";
  return { url: u.toString(), ...(headers ? { headers } : {}) };
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Whole numbers within sane bounds, whatever the caller passed (NaN included). */
function saneOptions(o: PilotDownloadOptions): PilotDownloadOptions {
  const int = (x: number, min: number, max: number, fallback: number) => (Number.isFinite(x) ? Math.min(max, Math.max(min, Math.floor(x))) : fallback);
  return { ...o, concurrency: int(o.concurrency, 1, 64, 8), retries: int(o.retries, 0, 10, 3), timeoutMs: int(o.timeoutMs, 100, 3_600_000, 30_000) };
}

export async function downloadPilotDirectory(options: PilotDownloadOptions): Promise<PilotDownloadResult> {
  const started = performance.now();
  const o = saneOptions(options);
  const owner: Owner = { ...(o.uid !== undefined ? { uid: o.uid } : {}), ...(o.gid !== undefined ? { gid: o.gid } : {}) };
  if (o.urls.length === 0) return { ok: false, code: 500, error: "no pilot directory URL configured" };
  try {
    await prepareDirectory(o.dir, owner);
  } catch (err) {
    return { ok: false, code: 500, error: `cannot prepare the pilot directory ${o.dir}: ${errorText(err)}` };
  }
  const failures: { url: string; side: FailureSide; error: string }[] = [];
  for (const raw of o.urls) {
    const mirror = mirrorOf(raw);
    if (typeof mirror === "string") {
      failures.push({ url: safeUrl(raw), side: "local", error: mirror });
      continue;
    }
    const r = await fromMirror(mirror, o);
    if (!r.ok) {
      o.log(`pilot: ${mirror.url} failed: ${r.error}`);
      failures.push({ url: mirror.url, side: r.side, error: r.error });
      continue;
    }
    const files = r.files.map((f) => ({ name: f.name, bytes: f.data.length, sha512: f.sha512, verified: f.verified }));
    try {
      await commitFiles(o.dir, r.files, { version: 1, url: mirror.url, source: r.source, files }, owner);
    } catch (err) {
      return { ok: false, code: 500, error: `cannot write the pilot directory ${o.dir}: ${errorText(err)}` };
    }
    const durationMs = Math.round(performance.now() - started);
    const total = files.reduce((n, f) => n + f.bytes, 0);
    o.log(`pilot: ${files.length} files, ${total} bytes from ${mirror.url} (${r.source}) in ${durationMs} ms`);
    return { ok: true, url: mirror.url, source: r.source, files, durationMs };
  }
  // 600 when some server answered (the network and CA directory work, the grid's files do not);
  // 500 when no mirror could even be reached or trusted: the VM's network, CA directory or
  // credentials are at fault.
  const code = failures.some((f) => f.side === "server") ? 600 : 500;
  const detail = failures.map((f) => (f.error.startsWith(f.url) ? f.error : `${f.url}: ${f.error}`)).join("; ");
  // The error ends up in a shutdown_message of at most 200 characters behind the agent's own
  // prefix: no preamble before the URL and the file at fault when only one URL was tried.
  return { ok: false, code, error: failures.length === 1 ? detail : `every URL failed: ${detail}` };
}

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

async function fromMirror(mirror: Mirror, o: PilotDownloadOptions): Promise<SetResult> {
  let pool: ConnectionPool;
  try {
    pool = await openConnectionPool({ tls: o.tls, connections: o.concurrency, pipelining: PIPELINING, connectTimeoutMs: Math.min(o.timeoutMs, 10_000) });
  } catch (err) {
    return { ok: false, side: "local", error: (err as Error).message, refetch: false };
  }
  try {
    const first = await fetchSet(pool, mirror, o, true);
    if (first.ok || !first.refetch) return first;
    o.log(`pilot: ${mirror.url}: ${first.error}; fetching the whole set again (the publisher replaces files one at a time)`);
    const second = await fetchSet(pool, mirror, o, false);
    return second.ok ? second : { ...second, error: `${second.error} (also on a second fetch of the whole set)` };
  } finally {
    await pool.close();
  }
}

/** One attempt at the whole set from one mirror. */
async function fetchSet(pool: ConnectionPool, mirror: Mirror, o: PilotDownloadOptions, speculate: boolean): Promise<SetResult> {
  let stopped = false;
  const ctx: FetchContext = {
    pool,
    retries: o.retries,
    timeoutMs: o.timeoutMs,
    log: o.log,
    stopped: () => stopped,
    ...(mirror.headers ? { headers: mirror.headers } : {}),
  };
  const get = (name: string, cap = CAPS.fileBytes) => fetchWithRetries(ctx, mirror.url + encodeURIComponent(name), name, cap);
  const manifestP = get(MANIFEST_NAME, CAPS.manifestBytes);
  const early = new Map<string, Promise<Fetched>>();
  let listingP: Promise<Fetched> | null = null;
  if (speculate) {
    for (const name of [TAR_NAME, PILOT_JSON]) early.set(name, get(name));
    if (!o.requireManifest) listingP = fetchWithRetries(ctx, mirror.url, "directory listing", CAPS.listingBytes);
  }
  try {
    const manifest = await manifestP;
    if (!manifest.ok) {
      if (manifest.status === 404 || manifest.status === 410) {
        if (o.requireManifest) {
          return { ok: false, side: "server", error: `${MANIFEST_NAME} is not published (HTTP ${manifest.status}) and the configuration requires it`, refetch: false };
        }
        o.log(`pilot: ${mirror.url}: no ${MANIFEST_NAME} (HTTP ${manifest.status}), using the directory listing; the files cannot be verified`);
        return await fromListing(mirror, o, ctx, listingP, early, () => (stopped = true));
      }
      return { ok: false, side: manifest.side, error: `${MANIFEST_NAME}: ${manifest.error}`, refetch: false };
    }
    const manifestHash = sha512(manifest.body);
    if (o.manifestSha512 !== undefined && manifestHash !== o.manifestSha512.trim().toLowerCase()) {
      return {
        ok: false,
        side: "server",
        error: `${MANIFEST_NAME} has SHA-512 ${short(manifestHash)}, not the pinned ${short(o.manifestSha512.trim().toLowerCase())}`,
        refetch: false,
      };
    }
    const parsed = parseManifest(new TextDecoder().decode(manifest.body));
    if (!parsed.ok) {
      const more = parsed.errors.length > 3 ? ` (and ${parsed.errors.length - 3} more)` : "";
      return { ok: false, side: "server", error: `${parsed.errors.slice(0, 3).join("; ")}${more}`, refetch: true };
    }
    if (parsed.entries.length > CAPS.files) {
      return { ok: false, side: "server", error: `${MANIFEST_NAME} lists ${parsed.entries.length} files, more than ${CAPS.files}`, refetch: false };
    }
    const pinned = o.manifestSha512 !== undefined ? ", its SHA-512 matches the pin" : "";
    o.log(`pilot: ${MANIFEST_NAME} lists ${parsed.entries.length} files (${manifest.ms} ms${pinned})`);
    return await fromManifest(parsed.entries, o, get, early, () => (stopped = true));
  } finally {
    stopped = true; // speculative requests still running stop retrying
  }
}

async function fromManifest(
  entries: ManifestEntry[],
  o: PilotDownloadOptions,
  get: (name: string) => Promise<Fetched>,
  early: Map<string, Promise<Fetched>>,
  stop: () => void,
): Promise<SetResult> {
  const want = new Map(entries.map((e) => [e.name, e.sha512]));
  const got = new Map<string, Got>();
  let local: string | null = null;
  const problems: string[] = [];
  let refetch = false;
  let total = 0;

  /** Verifies an answer against the manifest; records the failure that ends the set when `final`. */
  const accept = (name: string, r: Fetched, final: boolean): Uint8Array | null => {
    const expected = want.get(name)!;
    if (r.ok) {
      const actual = sha512(r.body);
      if (actual === expected) {
        total += r.body.length;
        return r.body;
      }
      if (final) {
        problems.push(`${name}: SHA-512 ${short(actual)} does not match ${MANIFEST_NAME} (${short(expected)})`);
        refetch = true;
      }
    } else if (final) {
      if (r.side === "local") local ??= `${name}: ${r.error}`;
      else if (r.status === 404 || r.status === 410) {
        problems.push(`${name} is listed in ${MANIFEST_NAME} but not published (HTTP ${r.status})`);
        refetch = true;
      } else problems.push(`${name}: ${r.error}`);
    }
    if (final) stop();
    return null;
  };
  const keep = (name: string, data: Uint8Array, how: string) => {
    got.set(name, { name, data, sha512: want.get(name)!, verified: true });
    o.log(`pilot: ${name} ${data.length} bytes sha512 ok ${how}`);
  };

  let usedTar = false;
  if (want.has(TAR_NAME)) {
    const early_ = early.get(TAR_NAME);
    const r = early_ ? await early_ : null;
    let tar = r ? accept(TAR_NAME, r, false) : null;
    let ms = r?.ms ?? 0;
    if (!tar) {
      const again = await get(TAR_NAME);
      tar = accept(TAR_NAME, again, true);
      ms = again.ms;
    }
    if (tar) {
      keep(TAR_NAME, tar, `${ms} ms`);
      const members = readTar(tar, { maxFiles: CAPS.files, maxFileBytes: CAPS.fileBytes, maxTotalBytes: CAPS.totalBytes });
      if (!members.ok) return { ok: false, side: "server", error: `${TAR_NAME}: ${members.error}`, refetch: false };
      usedTar = true;
      for (const m of members.files) {
        const expected = want.get(m.name);
        if (expected === undefined || m.name === TAR_NAME) {
          o.log(`pilot: ${TAR_NAME} member ${m.name} ignored: not listed in ${MANIFEST_NAME}`);
        } else if (sha512(m.data) === expected) {
          total += m.data.length;
          keep(m.name, m.data, `(from ${TAR_NAME})`);
        } else {
          o.log(`pilot: ${TAR_NAME} member ${m.name} does not match ${MANIFEST_NAME}; fetching the file itself`);
        }
      }
    }
  }
  for (const [name, p] of early) {
    if (name === TAR_NAME || !want.has(name) || got.has(name)) continue;
    const r = await p;
    const data = accept(name, r, false);
    if (data) keep(name, data, `${r.ms} ms`);
  }
  const rest = entries.filter((e) => !got.has(e.name));
  if (local === null && problems.length === 0) {
    await eachLimited(rest, o.concurrency * PIPELINING, async (e) => {
      if (local !== null || problems.length > 0) return;
      const r = await get(e.name);
      const data = accept(e.name, r, true);
      if (data) keep(e.name, data, `${r.ms} ms`);
    });
  }
  if (local !== null) return { ok: false, side: "local", error: local, refetch: false };
  if (problems.length > 0) return { ok: false, side: "server", error: problems.join("; "), refetch };
  if (total > CAPS.totalBytes) return { ok: false, side: "server", error: `more than ${CAPS.totalBytes} bytes in all`, refetch: false };
  return { ok: true, source: usedTar ? "pilot.tar" : "manifest", files: entries.map((e) => got.get(e.name)!) };
}

async function fromListing(
  mirror: Mirror,
  o: PilotDownloadOptions,
  ctx: FetchContext,
  listingP: Promise<Fetched> | null,
  early: Map<string, Promise<Fetched>>,
  stop: () => void,
): Promise<SetResult> {
  const listing = await (listingP ?? fetchWithRetries(ctx, mirror.url, "directory listing", CAPS.listingBytes));
  if (!listing.ok) return { ok: false, side: listing.side, error: `directory listing: ${listing.error}`, refetch: false };
  const names = parseListing(new TextDecoder().decode(listing.body), mirror.url);
  if (names.length === 0) {
    return { ok: false, side: "server", error: "the directory listing links to no file inside the directory", refetch: false };
  }
  if (names.length > CAPS.files) {
    return { ok: false, side: "server", error: `the directory listing links to ${names.length} files, more than ${CAPS.files}`, refetch: false };
  }
  const got = new Map<string, Got>();
  let local: string | null = null;
  const problems: string[] = [];
  let refetch = false;
  let total = 0;
  const keep = (name: string, r: Fetched & { ok: true }) => {
    total += r.body.length;
    got.set(name, { name, data: r.body, sha512: sha512(r.body), verified: false });
    o.log(`pilot: ${name} ${r.body.length} bytes not verified (no ${MANIFEST_NAME}) ${r.ms} ms`);
  };
  for (const [name, p] of early) {
    if (!names.includes(name)) continue;
    const r = await p;
    if (r.ok) keep(name, r);
  }
  await eachLimited(
    names.filter((n) => !got.has(n)),
    o.concurrency * PIPELINING,
    async (name) => {
      if (local !== null || problems.length > 0) return;
      const r = await fetchWithRetries(ctx, mirror.url + encodeURIComponent(name), name, CAPS.fileBytes);
      if (r.ok) return keep(name, r);
      stop();
      if (r.side === "local") local ??= `${name}: ${r.error}`;
      else if (r.status === 404 || r.status === 410) {
        problems.push(`${name} is in the directory listing but not published (HTTP ${r.status})`);
        refetch = true;
      } else problems.push(`${name}: ${r.error}`);
    },
  );
  if (local !== null) return { ok: false, side: "local", error: local, refetch: false };
  if (problems.length > 0) return { ok: false, side: "server", error: problems.join("; "), refetch };
  if (total > CAPS.totalBytes) return { ok: false, side: "server", error: `more than ${CAPS.totalBytes} bytes in all`, refetch: false };
  return { ok: true, source: "listing", files: names.map((n) => got.get(n)!) };
}
