// Read-only probe of what isolation can use on this machine: which container runtimes exist where,
// whether the image is there, and the kernel's user namespace knobs. Nothing is run: `apptainer
// --version` would already start a program (and under --root, a program of the image), so a
// runtime is judged by its path alone; running the test command later is the real proof.

import { readFileSync, statSync, type Stats } from "node:fs";
import { posix } from "node:path";
import { CHILD_PATH } from "../exec/commands.ts";
import { rootedPath } from "../exec/rooted.ts";

/** OSG's Apptainer on CVMFS, for images without a packaged runtime. */
export const OSG_CVMFS_APPTAINER = "/cvmfs/oasis.opensciencegrid.org/mis/apptainer/current/bin/apptainer";
export const RUNTIME_NAMES = ["apptainer", "singularity"] as const;

export type RuntimeOrigin = "isolation.runtime_path" | "PATH" | "CVMFS";

export interface RuntimeCandidate {
  /** Machine path. */
  path: string;
  origin: RuntimeOrigin;
  /** A regular file (after symlinks) with an execute bit. */
  executable: boolean;
}

/** A kernel knob under /proc/sys: null when the kernel has no such file (or it cannot be read). */
export interface UsernsKnobs {
  /** user.max_user_namespaces: 0 disables user namespaces for everyone. */
  maxUserNamespaces: number | null;
  /** kernel.unprivileged_userns_clone (Debian/Ubuntu kernels only): 0 forbids them to non-root users. */
  unprivilegedUsernsClone: number | null;
  /** kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10+): 1 lets only AppArmor-profiled programs use them. */
  apparmorRestrictUnprivilegedUserns: number | null;
}

export type ImageKind = "sandbox" | "sif" | "missing" | "other";

export interface IsolationFacts {
  /** Every path looked at, in the order of preference. */
  candidates: RuntimeCandidate[];
  userns: UsernsKnobs;
  /** The configured image, or null when none is configured. */
  image: { path: string; kind: ImageKind } | null;
}

export interface ProbeOptions {
  /** --root DIR: runtime and image paths are looked up under it. */
  root: string | null;
  /** Where /proc is: the real machine's ("/") unless a test says otherwise. */
  procRoot?: string;
  /** The agent's PATH; the standard directories (CHILD_PATH) are searched after it. */
  path?: string;
  runtimePath?: string;
  image?: string;
}

export const KNOB_FILES: Readonly<Record<keyof UsernsKnobs, string>> = {
  maxUserNamespaces: "/proc/sys/user/max_user_namespaces",
  unprivilegedUsernsClone: "/proc/sys/kernel/unprivileged_userns_clone",
  apparmorRestrictUnprivilegedUserns: "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
};

function statOf(root: string | null, machinePath: string): Stats | null {
  try {
    return statSync(rootedPath(root, machinePath));
  } catch {
    return null;
  }
}

function readKnob(procRoot: string, file: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(posix.join(procRoot, file), "utf8").trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** Directories of PATH then of CHILD_PATH, absolute only, each once. */
export function searchDirs(path: string | undefined): string[] {
  const dirs = [...(path ?? "").split(":"), ...CHILD_PATH.split(":")].filter((d) => d.startsWith("/")).map((d) => posix.normalize(d).replace(/(.)\/$/, "$1"));
  return [...new Set(dirs)];
}

/** Apptainer before Singularity (apptainer anywhere on PATH beats a singularity earlier on it). */
export function candidatePaths(o: Pick<ProbeOptions, "path" | "runtimePath">): { path: string; origin: RuntimeOrigin }[] {
  const out: { path: string; origin: RuntimeOrigin }[] = [];
  if (o.runtimePath !== undefined) out.push({ path: o.runtimePath, origin: "isolation.runtime_path" });
  const dirs = searchDirs(o.path);
  for (const name of RUNTIME_NAMES) for (const d of dirs) out.push({ path: posix.join(d, name), origin: "PATH" });
  out.push({ path: OSG_CVMFS_APPTAINER, origin: "CVMFS" });
  return out;
}

function imageKind(root: string | null, image: string): ImageKind {
  const st = statOf(root, image);
  if (st === null) return "missing";
  if (st.isDirectory()) return "sandbox";
  return st.isFile() && image.endsWith(".sif") ? "sif" : "other";
}

export function probeIsolation(o: ProbeOptions): IsolationFacts {
  const procRoot = o.procRoot ?? "/";
  const candidates = candidatePaths(o).map(({ path, origin }) => {
    // A relative runtime_path is a configuration error reported by the planner; rootedPath refuses it here.
    const st = path.startsWith("/") ? statOf(o.root, path) : null;
    return { path, origin, executable: st !== null && st.isFile() && (st.mode & 0o111) !== 0 };
  });
  const userns: UsernsKnobs = {
    maxUserNamespaces: readKnob(procRoot, KNOB_FILES.maxUserNamespaces),
    unprivilegedUsernsClone: readKnob(procRoot, KNOB_FILES.unprivilegedUsernsClone),
    apparmorRestrictUnprivilegedUserns: readKnob(procRoot, KNOB_FILES.apparmorRestrictUnprivilegedUserns),
  };
  const image = o.image === undefined ? null : { path: o.image, kind: o.image.startsWith("/") ? imageKind(o.root, o.image) : ("missing" as const) };
  return { candidates, userns, image };
}
