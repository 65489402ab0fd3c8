// /etc/cvmfs/default.local: the site-local layer of the CVMFS client configuration. The file is
// sourced by bash (cvmfs_config, the mount helper), so every value is single-quoted: a proxy list
// holds ";" and "|", which unquoted would end the assignment and start a pipeline.

import { posix } from "node:path";
import type { AgentConfig } from "../config/agent-config.ts";
import { DEFAULT_PROXY_SPEC, formatProxySpec, parseProxySpec, usesAuto } from "./proxy-spec.ts";

export const DEFAULT_LOCAL_PATH = "/etc/cvmfs/default.local";

/** The cache on the scratch disk: the root disk of a VM is small and the cache grows to the quota. */
export const cacheBase = (scratchMountPoint: string): string => posix.join(scratchMountPoint, "cvmfs-cache");

/** POSIX single quotes; a "'" inside becomes '\'' (bash and CVMFS's own parser both accept it). */
export const shellValue = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The proxy value written: the site's, normalised when it parses, else `auto;DIRECT`. */
export function proxyValue(cvmfs: AgentConfig["cvmfs"]): string {
  if (cvmfs.http_proxy === undefined) return DEFAULT_PROXY_SPEC;
  const { spec } = parseProxySpec(cvmfs.http_proxy);
  // An invalid value refuses the run before any stage plans; written as given if it ever got here.
  return spec ? formatProxySpec(spec) : cvmfs.http_proxy.trim();
}

export function defaultLocalEntries(config: Pick<AgentConfig, "cvmfs" | "scratch">): [string, string][] {
  const c = config.cvmfs;
  const proxy = proxyValue(c);
  const parsed = parseProxySpec(proxy).spec;
  const entries: [string, string][] = [
    ["CVMFS_REPOSITORIES", (c.repositories ?? []).join(",")],
    ["CVMFS_HTTP_PROXY", proxy],
  ];
  // PAC URLs only matter where `auto` is in the proxy list; CVMFS separates them with ";".
  if (c.pac_urls?.length && (parsed === null || usesAuto(parsed))) entries.push(["CVMFS_PAC_URLS", c.pac_urls.join(";")]);
  entries.push(["CVMFS_CACHE_BASE", cacheBase(config.scratch.mount_point)], ["CVMFS_QUOTA_LIMIT", String(c.quota_mb)]);
  if (c.server_urls?.length) entries.push(["CVMFS_SERVER_URL", c.server_urls.join(";")]);
  return entries;
}

export function renderDefaultLocal(config: Pick<AgentConfig, "cvmfs" | "scratch">): string {
  return [
    "# Written by vacuum-agent: CVMFS client settings for this VM (site proxies, cache on scratch).",
    ...defaultLocalEntries(config).map(([k, v]) => `${k}=${shellValue(v)}`),
    "",
  ].join("\n");
}
