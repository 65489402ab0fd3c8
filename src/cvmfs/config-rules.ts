// Rules over the cvmfs section that the schema cannot express, for src/config/rules.ts
// (checkRules): the proxy list's syntax, and values that would break the files CVMFS reads.

import type { AgentConfig } from "../config/agent-config.ts";
import type { SchemaProblem } from "../config/validate.ts";
import { parseProxySpec, PROXY_SPEC_PATH } from "./proxy-spec.ts";

/** The repository a /cvmfs/ path lives in: `/cvmfs/grid.cern.ch/etc` -> `grid.cern.ch`. */
export const repositoryOf = (path: string): string | null => /^\/cvmfs\/([^/]+)/.exec(path)?.[1] ?? null;

export function checkCvmfs(cvmfs: AgentConfig["cvmfs"]): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  if (cvmfs.http_proxy !== undefined) {
    for (const p of parseProxySpec(cvmfs.http_proxy).problems) {
      if (p.severity !== "info") out.push({ path: PROXY_SPEC_PATH, message: p.message, severity: p.severity });
    }
  }
  (cvmfs.pac_urls ?? []).forEach((url, i) => {
    if (url.includes(";")) out.push({ path: `cvmfs.pac_urls.${i}`, message: 'contains ";", which separates CVMFS_PAC_URLS entries: expected one URL per entry', severity: "error" });
  });
  (cvmfs.server_urls ?? []).forEach((url, i) => {
    if (!url.includes("@fqrn@")) {
      out.push({ path: `cvmfs.server_urls.${i}`, message: "has no @fqrn@: every repository would be read from the same URL; expected e.g. http://cvmfs-stratum-one.cern.ch/cvmfs/@fqrn@", severity: "warning" });
    }
  });
  const repos = new Set(cvmfs.repositories ?? []);
  cvmfs.wait_for.forEach((path, i) => {
    const repo = repositoryOf(path);
    if (repo !== null && !repos.has(repo)) {
      out.push({ path: `cvmfs.wait_for.${i}`, message: `is in repository ${repo}, which is not in cvmfs.repositories: expected every repository the payload needs to be listed there`, severity: "warning" });
    }
  });
  return out;
}
