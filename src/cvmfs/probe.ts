// Probes each configured CVMFS proxy the way the client uses it: an HTTP proxy request (absolute
// URL in the request line, sent to the proxy's host:port) for a repository's `.cvmfspublished`
// on a stratum-1, all proxies in parallel; DIRECT fetches straight from the server. A proxy is
// usable when some server answers through it with something that looks like a manifest: a
// captive portal's or a firewall's "200 OK" page is not.
//
// node:http directly (not undici): an absolute-form request line to a plain HTTP proxy is all it
// takes, and undici would have to be loaded for this alone.

import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { entryText, probeTargets, usesAuto, type ProxyEntry, type ProxySpec } from "./proxy-spec.ts";

export interface ProxyProbe {
  /** `http://host:port` or `DIRECT`. */
  proxy: string;
  ok: boolean;
  /** Until the manifest arrived (ok), or until this proxy was given up. */
  ms: number;
  /** Why the proxy is unusable; null when ok. */
  reason: string | null;
  /** The manifest that answered; null when none did. */
  url: string | null;
}

export interface ProbeOptions {
  /** Per request, until the TCP connection is up; 2 s. */
  connectTimeoutMs?: number;
  /** Per request, until the whole answer is read; 5 s. */
  totalTimeoutMs?: number;
}

export const PROBE_CONNECT_TIMEOUT_MS = 2_000;
export const PROBE_TOTAL_TIMEOUT_MS = 5_000;
/** A manifest is a few hundred bytes; anything this big is something else. */
const MAX_MANIFEST_BYTES = 1024 * 1024;
const USER_AGENT = "vacuum-agent cvmfs-probe";
/** Reasons listed per proxy at most; the rest is counted. */
const MAX_REASONS = 3;

/** Every `.cvmfspublished` URL to try, server by server (the failover order), repository by repository. */
export function manifestUrls(repositories: readonly string[], serverUrls: readonly string[]): string[] {
  const urls = serverUrls.flatMap((s) => repositories.map((r) => `${s.replaceAll("@fqrn@", r).replace(/\/+$/, "")}/.cvmfspublished`));
  return [...new Set(urls)];
}

/**
 * Null when the body looks like a CVMFS manifest: a first line `C<catalog hash>`, key lines, a
 * `--` line, then the manifest's hash and the binary signature. Otherwise what is wrong with it.
 */
export function manifestProblem(body: Buffer): string | null {
  // latin1 maps each byte to one character: the signature is binary, the rest ASCII.
  const text = body.toString("latin1");
  if (/^\s*<(!doctype|html|\?xml)/i.test(text)) return "an HTML page, not a CVMFS manifest";
  const lines = text.split("\n");
  if (!/^C[0-9a-f]{40}/.test(lines[0] ?? "")) return "not a CVMFS manifest: no C line (catalog hash) first";
  const sep = lines.indexOf("--");
  if (sep < 0) return 'not a CVMFS manifest: no "--" line before the signature';
  if (!/^[0-9a-f]{40}/.test(lines[sep + 1] ?? "")) return 'not a CVMFS manifest: no hash and signature after the "--" line';
  return null;
}

interface Attempt {
  ok: boolean;
  reason: string | null;
  /** The proxy itself could not be reached or did not answer: other servers through it are not tried. */
  proxyDown: boolean;
}

const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

function networkReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host name not found";
    case "ECONNRESET":
      return "connection closed without an answer";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}

function fetchManifest(target: ProxyEntry, url: string, o: Required<ProbeOptions>): Promise<Attempt> {
  const viaProxy = target.kind === "http";
  const https = url.startsWith("https:");
  if (viaProxy && https) {
    return Promise.resolve({ ok: false, reason: "https server URLs are not probed through a proxy", proxyDown: false });
  }
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | null = null;
    const timers: NodeJS.Timeout[] = [];
    const finish = (a: Attempt) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      req?.destroy();
      resolve(a);
    };
    // A network failure says something about the proxy; for DIRECT it is about this server only.
    const down = (reason: string) => finish({ ok: false, reason, proxyDown: viaProxy });
    const headers = { "user-agent": USER_AGENT, accept: "*/*" };
    try {
      req = viaProxy
        ? httpRequest({ host: target.host, port: target.port, method: "GET", path: url, headers: { ...headers, host: new URL(url).host }, agent: false })
        : (https ? httpsRequest : httpRequest)(url, { method: "GET", headers, agent: false });
    } catch (err) {
      return finish({ ok: false, reason: `cannot request ${url}: ${(err as Error).message}`, proxyDown: false });
    }
    timers.push(setTimeout(() => down(`no answer within ${seconds(o.totalTimeoutMs)}`), o.totalTimeoutMs));
    const connectTimer = setTimeout(() => down(`connect timed out after ${seconds(o.connectTimeoutMs)}`), o.connectTimeoutMs);
    timers.push(connectTimer);
    req.on("socket", (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once("connect", () => clearTimeout(connectTimer));
    });
    req.on("error", (err: NodeJS.ErrnoException) => down(networkReason(err)));
    req.on("response", (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        // squid names its own failures (ERR_CONNECT_FAIL 111: the server refused it).
        const squid = res.headers["x-squid-error"];
        res.resume();
        return finish({ ok: false, reason: `HTTP ${res.statusCode}${squid ? ` (${String(squid)})` : ""} for ${url}`, proxyDown: false });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_MANIFEST_BYTES) finish({ ok: false, reason: `answer for ${url} is larger than 1 MiB: not a CVMFS manifest`, proxyDown: false });
        else chunks.push(c);
      });
      res.on("error", (err: NodeJS.ErrnoException) => down(networkReason(err)));
      res.on("end", () => {
        const bad = manifestProblem(Buffer.concat(chunks));
        finish(bad ? { ok: false, reason: `${url}: ${bad}`, proxyDown: false } : { ok: true, reason: null, proxyDown: false });
      });
    });
    req.end();
  });
}

async function probeOne(target: ProxyEntry, urls: readonly string[], o: Required<ProbeOptions>): Promise<ProxyProbe> {
  const start = performance.now();
  const proxy = entryText(target);
  const reasons: string[] = [];
  for (const url of urls) {
    const a = await fetchManifest(target, url, o);
    if (a.ok) return { proxy, ok: true, ms: Math.round(performance.now() - start), reason: null, url };
    if (!reasons.includes(a.reason!)) reasons.push(a.reason!);
    if (a.proxyDown) break;
  }
  const shown = reasons.slice(0, MAX_REASONS).join("; ") + (reasons.length > MAX_REASONS ? `; and ${reasons.length - MAX_REASONS} more` : "");
  return { proxy, ok: false, ms: Math.round(performance.now() - start), reason: shown || "no server URL to probe", url: null };
}

/**
 * One result per probe-able entry of the spec (each http proxy and DIRECT, once, in failover
 * order; `auto` is resolved by the client from the PAC URLs and is not probed). Through each
 * proxy the manifest URLs are tried in order until one answers; a proxy that cannot be reached
 * is not asked again for the next URL. Never rejects.
 */
export async function probeProxies(
  spec: ProxySpec,
  repositories: readonly string[],
  serverUrls: readonly string[],
  opts: ProbeOptions = {},
): Promise<ProxyProbe[]> {
  const o = { connectTimeoutMs: opts.connectTimeoutMs ?? PROBE_CONNECT_TIMEOUT_MS, totalTimeoutMs: opts.totalTimeoutMs ?? PROBE_TOTAL_TIMEOUT_MS };
  const urls = manifestUrls(repositories, serverUrls);
  return Promise.all(probeTargets(spec).map((t) => probeOne(t, urls, o)));
}

export interface ProxyVerdict {
  /** false: no way to the repositories was found; the VM cannot serve. */
  ok: boolean;
  /** One line for the log, or for the shutdown_message when not ok. */
  message: string;
  unusable: ProxyProbe[];
}

const listed = (probes: readonly ProxyProbe[]): string => probes.map((p) => `${p.proxy} (${p.reason})`).join(", ");

/** Usable when at least one probed entry answered, or when `auto` may still find a proxy. */
export function judgeProbes(spec: ProxySpec, probes: readonly ProxyProbe[]): ProxyVerdict {
  const usable = probes.filter((p) => p.ok);
  const unusable = probes.filter((p) => !p.ok);
  if (probes.length === 0) return { ok: true, message: "no CVMFS proxy to probe (only auto: the client reads the PAC URLs)", unusable };
  if (usable.length === 0) {
    if (usesAuto(spec)) return { ok: true, message: `no configured CVMFS proxy answered, left to auto (PAC URLs): ${listed(unusable)}`, unusable };
    return { ok: false, message: `No usable CVMFS proxy: ${listed(unusable)}`, unusable };
  }
  const good = usable.map((p) => `${p.proxy} (${p.ms} ms)`).join(", ");
  if (unusable.length === 0) return { ok: true, message: `CVMFS proxies usable: ${good}`, unusable };
  return { ok: true, message: `CVMFS proxies usable: ${good}; unusable: ${listed(unusable)}`, unusable };
}
