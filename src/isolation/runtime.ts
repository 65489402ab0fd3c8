// Which container runtime the proof and the payload use, decided from the probe alone (pure).
// An explicitly configured path is never silently replaced by another one. The OSG CVMFS path is
// probed before CVMFS is mounted (gather runs first), so it is also taken, unchecked, when the
// oasis repository is configured: the test command then proves it.

import { OSG_CVMFS_APPTAINER, type IsolationFacts, type RuntimeOrigin } from "./probe.ts";
import type { IsolationSettings } from "./settings.ts";

export const OSG_REPOSITORY = "oasis.opensciencegrid.org";

export type RuntimeChoice =
  | { kind: "found"; path: string; origin: RuntimeOrigin; note?: string }
  /** Nothing usable; `reason` says what was looked at, for the problem's message. */
  | { kind: "none"; reason: string };

const onCvmfs = (path: string): boolean => path.startsWith("/cvmfs/");

export function chooseRuntime(facts: IsolationFacts, settings: IsolationSettings, cvmfsRepositories: readonly string[] = []): RuntimeChoice {
  const configured = settings.runtime_path;
  if (configured !== undefined) {
    if (!configured.startsWith("/")) return { kind: "none", reason: `isolation.runtime_path must be an absolute path, found ${JSON.stringify(configured)}` };
    const c = facts.candidates.find((x) => x.origin === "isolation.runtime_path" && x.path === configured);
    if (c?.executable) return { kind: "found", path: configured, origin: "isolation.runtime_path" };
    if (onCvmfs(configured)) return { kind: "found", path: configured, origin: "isolation.runtime_path", note: "on CVMFS, checked once CVMFS is mounted" };
    return { kind: "none", reason: `isolation.runtime_path ${configured} is not an executable file` };
  }
  const found = facts.candidates.find((x) => x.origin !== "isolation.runtime_path" && x.executable);
  if (found) return { kind: "found", path: found.path, origin: found.origin };
  if (cvmfsRepositories.includes(OSG_REPOSITORY)) return { kind: "found", path: OSG_CVMFS_APPTAINER, origin: "CVMFS", note: "on CVMFS, checked once CVMFS is mounted" };
  const dirs = [...new Set(facts.candidates.filter((x) => x.origin === "PATH").map((x) => x.path.replace(/\/[^/]+$/, "")))];
  return {
    kind: "none",
    reason: `no Apptainer or Singularity found: looked for apptainer and singularity in ${dirs.join(":")} and for ${OSG_CVMFS_APPTAINER} (${OSG_REPOSITORY} is not among cvmfs.repositories)`,
  };
}
