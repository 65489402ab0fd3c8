import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { probeIpv6 } from "../../src/machine/ipv6.ts";

describe("probeIpv6", () => {
  it.each([
    ["a kernel with IPv6 (even with no address yet)", true],
    ["a kernel booted with ipv6.disable=1", false],
  ])("%s", (_n, present) => {
    const root = mkdtempSync(join(tmpdir(), "vacuum-ipv6-"));
    try {
      mkdirSync(join(root, "proc/net"), { recursive: true });
      if (present) writeFileSync(join(root, "proc/net/if_inet6"), "");
      expect(probeIpv6(root)).toBe(present);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
