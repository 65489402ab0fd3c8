import { describe, expect, it } from "vitest";
import { usernsChanges, usernsUnavailable } from "../../src/isolation/userns.ts";

const K = (m: number | null, c: number | null = null, a: number | null = null) => ({ maxUserNamespaces: m, unprivilegedUsernsClone: c, apparmorRestrictUnprivilegedUserns: a });

describe("usernsChanges", () => {
  it.each([
    ["an upstream kernel with user namespaces", K(96343), []],
    ["Debian's clone switch already on", K(96343, 1), []],
    ["max_user_namespaces = 0", K(0), ["user.max_user_namespaces=15000"]],
    ["Debian's clone switch off", K(1000, 0), ["kernel.unprivileged_userns_clone=1"]],
    ["Ubuntu's AppArmor restriction", K(1000, 1, 1), ["kernel.apparmor_restrict_unprivileged_userns=0"]],
    ["all three", K(0, 0, 1), ["user.max_user_namespaces=15000", "kernel.unprivileged_userns_clone=1", "kernel.apparmor_restrict_unprivileged_userns=0"]],
    ["no knobs at all (nothing to switch)", K(null), []],
  ])("%s", (_n, knobs, expected) => {
    expect(usernsChanges(knobs).map((c) => `${c.knob}=${c.to}`)).toEqual(expected);
  });

  it("explains a kernel without user namespaces", () => {
    expect(usernsUnavailable(K(null))).toBe("the kernel has no user namespaces (/proc/sys/user/max_user_namespaces does not exist)");
    expect(usernsUnavailable(K(0))).toBeNull();
  });
});
