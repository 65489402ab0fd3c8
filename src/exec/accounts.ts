// User and group names as the machine (or the tree under --root) knows them: /etc/passwd and
// /etc/group read directly, not through NSS, so names resolve against the root being prepared
// rather than the host the agent runs on. Numeric names are taken as ids.

import { readFileSync } from "node:fs";
import type { Owner } from "../plan/actions.ts";
import { rootedPath } from "./rooted.ts";

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function readLines(root: string | null, machinePath: string): string[] {
  try {
    return readFileSync(rootedPath(root, machinePath), "utf8").split("\n");
  } catch {
    return [];
  }
}

export function findUser(root: string | null, name: string): UserEntry | null {
  for (const line of readLines(root, "/etc/passwd")) {
    const f = line.split(":");
    if (f.length < 7 || f[0] !== name) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    return { name, uid, gid, home: f[5]!, shell: f[6]! };
  }
  return null;
}

export function findGroupId(root: string | null, name: string): number | null {
  for (const line of readLines(root, "/etc/group")) {
    const f = line.split(":");
    if (f.length < 3 || f[0] !== name) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid)) return gid;
  }
  return null;
}

const NUMERIC = /^[0-9]+$/;

export interface OwnerIds {
  uid: number;
  gid: number;
}

/** uid and gid for an owner, or a message saying which name is unknown where. */
export function resolveOwner(root: string | null, owner: Owner): OwnerIds | { error: string } {
  const where = root === null ? "/etc" : `${root}/etc`;
  const uid = NUMERIC.test(owner.user) ? Number(owner.user) : findUser(root, owner.user)?.uid;
  if (uid === undefined) return { error: `unknown user ${owner.user} (not in ${where}/passwd)` };
  const gid = NUMERIC.test(owner.group) ? Number(owner.group) : findGroupId(root, owner.group);
  if (gid === null) return { error: `unknown group ${owner.group} (not in ${where}/group)` };
  return { uid, gid };
}
