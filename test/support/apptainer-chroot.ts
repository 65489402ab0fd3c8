// The real Apptainer 1.4.5 for tests: Debian sid's package in a chroot that
// scripts/chroot-apptainer.sh builds once and caches (services.md "Apptainer"). Apptainer only
// runs there after pivot_root (the script's `prun`: a private mount+pid namespace, nothing left
// mounted afterwards). Planned run-command actions are run in it as the executor would: in order,
// stopping at the first failure, each as its `user` (setpriv with the chroot's own passwd entry).
// The chroot holds /srv/sbx (sandbox directory), /srv/x.sif and the users ci (2000), vacpilot (2001).

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../src/exec/shell-quote.ts";
import type { RunCommandAction } from "../../src/plan/actions.ts";

export const CHROOT_SCRIPT = join(process.cwd(), "scripts", "chroot-apptainer.sh");
const BUILD_TIMEOUT_MS = 300_000;

export interface ApptainerChroot {
  dir: string;
}

/** Builds (or reuses) the chroot; a reason to skip when it cannot be had (not root, no network). */
export function prepareApptainerChroot(): { chroot: ApptainerChroot; skip: null } | { chroot: null; skip: string } {
  if (process.getuid?.() !== 0) return { chroot: null, skip: "the Apptainer chroot needs root (mount namespaces, pivot_root)" };
  const build = spawnSync("sh", [CHROOT_SCRIPT, "build"], { encoding: "utf8", timeout: BUILD_TIMEOUT_MS });
  if (build.status !== 0) {
    const tail = `${build.stderr ?? ""}${build.stdout ?? ""}`.trim().split("\n").slice(-3).join(" | ");
    return { chroot: null, skip: `cannot build the sid chroot with Apptainer (sh scripts/chroot-apptainer.sh build; no network?): ${tail || build.error?.message}` };
  }
  const dir = spawnSync("sh", [CHROOT_SCRIPT, "path"], { encoding: "utf8" }).stdout.trim();
  return { chroot: { dir }, skip: null };
}

function passwdEntry(c: ApptainerChroot, user: string): { uid: string; gid: string; home: string } {
  const line = readFileSync(join(c.dir, "etc/passwd"), "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user} in the chroot's /etc/passwd`);
  const [, , uid = "", gid = "", , home = "/"] = line.split(":");
  return { uid, gid, home };
}

export interface ChrootRun {
  exitCode: number | null;
  stderr: string;
  stdout: string;
  /** Index of the action that failed, or null when all succeeded. */
  failedAt: number | null;
  durationMs: number;
}

export interface ChrootRunOptions {
  /**
   * Run everything in a new user namespace (root mapped to root, 65536 ids) whose
   * user.max_user_namespaces is set to 0 first: user namespaces are disabled there exactly as on
   * a kernel with the knob at 0, and the host's own setting is not touched.
   */
  usernsDisabled?: boolean;
  timeoutMs?: number;
}

export function runActionsInChroot(c: ApptainerChroot, actions: readonly RunCommandAction[], o: ChrootRunOptions = {}): ChrootRun {
  const lines = actions.map((a, i) => {
    const argv = a.user === undefined || a.user === "root" ? a.argv : (() => {
      const u = passwdEntry(c, a.user!);
      return ["setpriv", `--reuid=${u.uid}`, `--regid=${u.gid}`, "--clear-groups", "env", `HOME=${u.home}`, ...a.argv];
    })();
    return `${shellQuote(argv)} || { rc=$?; echo "action-failed ${i} exit $rc" >&2; exit $rc; }`;
  });
  const script = (o.usernsDisabled ? ["echo 0 > /proc/sys/user/max_user_namespaces"] : []).concat(lines).join("\n");
  const inner = o.usernsDisabled
    ? ["unshare", "--user", "--map-users=0:0:65536", "--map-groups=0:0:65536", "--", "sh", "-c", script]
    : ["sh", "-c", script];
  const t0 = Date.now();
  const r = spawnSync("sh", [CHROOT_SCRIPT, "prun", ...inner], { encoding: "utf8", timeout: o.timeoutMs ?? 60_000 });
  const m = /action-failed (\d+) exit/.exec(r.stderr ?? "");
  return { exitCode: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", failedAt: m ? Number(m[1]) : null, durationMs: Date.now() - t0 };
}
