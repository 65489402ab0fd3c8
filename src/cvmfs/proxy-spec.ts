// CVMFS_HTTP_PROXY, as Vac and Vcycle insert it raw from the site's configuration
// (`##user_data_option_cvmfs_proxy##`): load-balance groups separated by ";" (tried in order, the
// next group only when the whole group failed), proxies inside a group by "|", each proxy
// `http://host:port`, `DIRECT` (no proxy) or `auto` (resolved from CVMFS_PAC_URLS by the client).
// Vcycle's cvmfs_proxy_machinetype gives `http://IP:280|http://IP:280;<static value>`.
//
// Parsed here so a typo is reported at cvmfs.http_proxy before anything is written, instead of a
// client that silently falls back to DIRECT or to curl's default proxy port 1080.

import { problem, type Problem, type Source } from "../config/problem.ts";

export type ProxyEntry =
  | { kind: "direct" }
  | { kind: "auto" }
  | { kind: "http"; host: string; port: number; url: string };

export interface ProxySpec {
  /** Failover order; inside a group CVMFS balances the load. Never empty, no empty group. */
  groups: ProxyEntry[][];
}

export interface ProxySpecResult {
  /** null when the text has an error. */
  spec: ProxySpec | null;
  problems: Problem[];
}

export const PROXY_SPEC_PATH = "cvmfs.http_proxy";

/** What the agent writes when the site gives no proxy: the PAC URLs first, then no proxy. */
export const DEFAULT_PROXY_SPEC = "auto;DIRECT";

const EXPECTED =
  'expected CVMFS_HTTP_PROXY syntax: groups separated by ";", proxies in a group by "|", each http://host:port, DIRECT or auto (e.g. http://squid01:3128|http://squid02:3128;DIRECT)';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
// A DNS name or IPv4 address, or a bracketed IPv6 address, then the port; an optional final "/".
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d*))?\/?$/;

export const entryText = (e: ProxyEntry): string => (e.kind === "direct" ? "DIRECT" : e.kind === "auto" ? "auto" : e.url);

export const formatProxySpec = (spec: ProxySpec): string => spec.groups.map((g) => g.map(entryText).join("|")).join(";");

/** The entries that can be probed, each once, in failover order: every http proxy and DIRECT (`auto` is the client's business). */
export function probeTargets(spec: ProxySpec): ProxyEntry[] {
  const seen = new Set<string>();
  const out: ProxyEntry[] = [];
  for (const e of spec.groups.flat()) {
    if (e.kind === "auto" || seen.has(entryText(e))) continue;
    seen.add(entryText(e));
    out.push(e);
  }
  return out;
}

export const usesAuto = (spec: ProxySpec): boolean => spec.groups.some((g) => g.some((e) => e.kind === "auto"));

/**
 * Reads a CVMFS_HTTP_PROXY value. Errors carry code 500: the value is the site's. A proxy written
 * without a scheme is accepted as http:// (as the CVMFS client does), with a warning.
 */
export function parseProxySpec(text: string, source: Source = "user_data"): ProxySpecResult {
  const problems: Problem[] = [];
  const error = (message: string) => problems.push(problem("error", source, PROXY_SPEC_PATH, `${message}; ${EXPECTED}`, 500));
  const value = text.trim();
  if (value === "") {
    error("found an empty value");
    return { spec: null, problems };
  }
  if (/\s/.test(value)) {
    error("found white space inside the value");
    return { spec: null, problems };
  }
  const groups: ProxyEntry[][] = [];
  value.split(";").forEach((groupText, g) => {
    if (groupText === "") return error(`group ${g + 1} is empty (";" at an end or twice in a row)`);
    const group: ProxyEntry[] = [];
    groupText.split("|").forEach((token, i) => {
      const where = `group ${g + 1} entry ${i + 1}`;
      const entry = parseEntry(token, where, error, (m) => problems.push(problem("warning", source, PROXY_SPEC_PATH, m)));
      if (entry) group.push(entry);
    });
    groups.push(group);
  });
  if (problems.some((p) => p.severity === "error")) return { spec: null, problems };
  return { spec: { groups }, problems };
}

function parseEntry(token: string, where: string, error: (m: string) => void, warn: (m: string) => void): ProxyEntry | null {
  if (token === "") return error(`${where} is empty ("|" at an end or twice in a row)`), null;
  if (token === "DIRECT") return { kind: "direct" };
  if (token === "auto") return { kind: "auto" };
  if (token.toUpperCase() === "DIRECT") return error(`${where} is "${token}": the CVMFS client only knows DIRECT in capitals`), null;
  if (token.toLowerCase() === "auto") return error(`${where} is "${token}": the CVMFS client only knows auto in lower case`), null;
  // Credentials never appear in a message: say where, not what.
  if (token.includes("@")) return error(`${where} has user information ("@"); CVMFS proxies take no credentials`), null;
  const scheme = SCHEME.exec(token);
  if (scheme && scheme[1]!.toLowerCase() !== "http") {
    return error(`${where} "${token}" uses ${scheme[1]}://; CVMFS talks to its proxies in plain http://`), null;
  }
  const rest = scheme ? token.slice(scheme[0].length) : token;
  const m = HOST_PORT.exec(rest);
  if (!m) return error(`${where} "${token}" is not http://host:port`), null;
  const [, host, portText] = m as unknown as [string, string, string | undefined];
  if (portText === undefined || portText === "") {
    return error(`${where} "${token}" has no port (curl would use 1080)`), null;
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return error(`${where} "${token}" has port ${portText}, outside 1-65535`), null;
  const url = `http://${host}:${port}`;
  if (!scheme) warn(`${where} "${token}" has no scheme: taken as ${url}, as the CVMFS client does`);
  return { kind: "http", host: host.startsWith("[") ? host.slice(1, -1) : host, port, url };
}
