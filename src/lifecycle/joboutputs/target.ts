// Where job outputs go: $JOBOUTPUTS is an http(s) URL (Vac: plain HTTP, 201; Vcycle: HTTPS with a
// client certificate, 200) or a local directory (Docker and Singularity machine models, tests).
// One put() is one attempt; retries and budgets belong to the callers (uploads, heartbeats).

import { mkdir } from "node:fs/promises";
import { posix } from "node:path";
import { atomicWrite } from "../../exec/atomic-write.ts";
import { HttpError, httpRequest, type TlsOptions } from "../../net/http-client.ts";
import { safeUrl } from "../../net/http-error.ts";

export type PutOutcome = { ok: true; status: number | null } | { ok: false; reason: string; retryable: boolean };

export interface JobOutputsTarget {
  kind: "http" | "directory";
  /** For logs: the URL without credentials, or the directory. */
  where: string;
  /** The local directory, for kind "directory". */
  dir: string | null;
  put(name: string, body: Uint8Array, timeoutMs: number): Promise<PutOutcome>;
}

export interface TargetOptions {
  tls?: TlsOptions;
  /** Connection set-up limit, capped by each put's timeout; default 5 s. */
  connectTimeoutMs?: number;
}

/** Vac and Vcycle answer with short pages; anything longer is not worth reading. */
const MAX_ANSWER_BYTES = 64 * 1024;

const HINTS: Record<number, string> = {
  403: " (Vac: bad path, no Content-Length or unknown VM; Vcycle: client certificate or DN refused)",
  404: " (Vcycle: bad path or the machine's directory is gone)",
};

/**
 * Credentials in the URL (`https://vm:<token>@manager/...`, how the manager hands each VM its token
 * through the user_data) become an Authorization: Basic header and leave the URL: never sent or
 * logged as part of it.
 */
function splitCredentials(base: string): { url: string; authorization: string | null } {
  const u = new URL(base);
  if (!u.username && !u.password) return { url: base, authorization: null };
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = "";
  u.password = "";
  return { url: u.toString(), authorization: `Basic ${Buffer.from(pair, "utf8").toString("base64")}` };
}

function httpTarget(base: string, o: TargetOptions): JobOutputsTarget {
  const { url, authorization } = splitCredentials(base);
  const root = url.replace(/\/+$/, "");
  return {
    kind: "http",
    where: safeUrl(root),
    dir: null,
    async put(name, body, timeoutMs) {
      try {
        const res = await httpRequest({
          method: "PUT",
          url: `${root}/${name}`,
          // Set here, not only by the client: Vac answers 403 to a chunked upload.
          headers: { "content-type": "application/octet-stream", "content-length": String(body.byteLength), ...(authorization ? { authorization } : {}) },
          body,
          connectTimeoutMs: Math.min(o.connectTimeoutMs ?? 5000, timeoutMs),
          timeoutMs,
          maxBytes: MAX_ANSWER_BYTES,
          ...(o.tls ? { tls: o.tls } : {}),
        });
        if (res.status === 200 || res.status === 201) return { ok: true, status: res.status };
        return { ok: false, reason: `HTTP ${res.status}${HINTS[res.status] ?? ""}`, retryable: true };
      } catch (err) {
        const reason = err instanceof HttpError ? `${err.kind}: ${err.reason}` : `request failed: ${(err as Error).message}`;
        return { ok: false, reason, retryable: true };
      }
    },
  };
}

function directoryTarget(dir: string): JobOutputsTarget {
  return {
    kind: "directory",
    where: dir,
    dir,
    async put(name, body) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o755 });
        await atomicWrite(posix.join(dir, name), body, { mode: 0o644 });
        return { ok: true, status: null };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        return { ok: false, reason: `cannot write to ${dir} (${code})`, retryable: true };
      }
    },
  };
}

/** The target for a $JOBOUTPUTS value, or why there is none. */
export function jobOutputsTarget(joboutputs: string, o: TargetOptions = {}): JobOutputsTarget | { problem: string } {
  const value = joboutputs.trim();
  if (value === "") return { problem: "$JOBOUTPUTS is empty" };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === "http" || scheme === "https") {
    try {
      new URL(value);
    } catch {
      return { problem: `$JOBOUTPUTS ${safeUrl(value)} is not a valid URL` };
    }
    return httpTarget(value, o);
  }
  if (scheme === "file") {
    try {
      return directoryTarget(posix.resolve(decodeURIComponent(new URL(value).pathname)));
    } catch {
      return { problem: `$JOBOUTPUTS ${value} is not a valid file URL` };
    }
  }
  if (scheme) return { problem: `$JOBOUTPUTS ${safeUrl(value)}: unsupported scheme ${scheme}, expected http, https or a directory` };
  return directoryTarget(posix.resolve(value));
}
