// Unprivileged user namespaces: Debian's Apptainer has no setuid starter, so a non-root pilot
// can only start a container inside one. Each knob that forbids them is switched where it exists;
// a kernel without /proc/sys/user/max_user_namespaces has no user namespaces at all (no switch helps).

import type { UsernsKnobs } from "./probe.ts";

/** Apptainer's administrator guide suggests 15000; any value > 0 lets the pilot start containers. */
export const MAX_USER_NAMESPACES = 15000;

export interface KnobChange {
  /** sysctl name. */
  knob: string;
  from: number;
  to: number;
  why: string;
}

export function usernsChanges(k: UsernsKnobs): KnobChange[] {
  const out: KnobChange[] = [];
  if (k.maxUserNamespaces !== null && k.maxUserNamespaces <= 0)
    out.push({ knob: "user.max_user_namespaces", from: k.maxUserNamespaces, to: MAX_USER_NAMESPACES, why: "user namespaces are disabled (user.max_user_namespaces = 0)" });
  if (k.unprivilegedUsernsClone === 0)
    out.push({ knob: "kernel.unprivileged_userns_clone", from: 0, to: 1, why: "user namespaces are forbidden to non-root users (kernel.unprivileged_userns_clone = 0)" });
  if (k.apparmorRestrictUnprivilegedUserns === 1)
    out.push({ knob: "kernel.apparmor_restrict_unprivileged_userns", from: 1, to: 0, why: "AppArmor restricts user namespaces to profiled programs (kernel.apparmor_restrict_unprivileged_userns = 1)" });
  return out;
}

/** Why user namespaces cannot be had on this kernel at all, or null. */
export function usernsUnavailable(k: UsernsKnobs): string | null {
  return k.maxUserNamespaces === null ? "the kernel has no user namespaces (/proc/sys/user/max_user_namespaces does not exist)" : null;
}
