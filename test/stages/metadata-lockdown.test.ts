import { describe, expect, it } from "vitest";
import type { Context } from "../../src/context/context.ts";
import { iptablesCheckForm } from "../../src/exec/executor.ts";
import { lockdownRule, metadataLockdown } from "../../src/stages/metadata-lockdown.ts";
import { makeContext } from "../support/context.ts";

const withIpv6 = (ipv6: boolean | undefined): Context => {
  const ctx = makeContext();
  return ipv6 === undefined ? ctx : { ...ctx, machine: { ...ctx.machine, ipv6 } };
};

const V4_RULE = ["-I", "OUTPUT", "-d", "169.254.169.254", "-m", "owner", "!", "--uid-owner", "0", "-j", "REJECT"];
// One ip6tables for both IPv6 addresses (-d a,b), run alongside the IPv4 rule.
const V6 = {
  kind: "run-command",
  argv: ["ip6tables", "-w", "-I", "OUTPUT", "-d", "fd00:ec2::254,fd20:ce::254", "-m", "owner", "!", "--uid-owner", "0", "-j", "REJECT"],
  timeoutMs: 30_000,
  machineWide: true,
  alongside: true,
  why: "the IPv6 metadata addresses fd00:ec2::254 and fd20:ce::254: root only",
};

describe("metadata-lockdown", () => {
  it.each([
    [true, null],
    [false, "host.metadata_lockdown is false"],
  ])("host.metadata_lockdown %s", (on, reason) => {
    expect(metadataLockdown.skip(makeContext({ config: { host: { metadata_lockdown: on } } }))).toBe(reason);
  });

  it.each([
    ["IPv6 present", true],
    ["IPv6 not probed", undefined],
  ])("rejects non-root traffic to every metadata address: %s", (_n, ipv6) => {
    expect(metadataLockdown.plan(withIpv6(ipv6))).toEqual([
      { kind: "firewall", rule: V4_RULE, why: "the metadata holds the user_data's secrets: root only (169.254.169.253 stays open)" },
      V6,
    ]);
  });

  it("adds no ip6tables rule on a kernel without IPv6", () => {
    expect(metadataLockdown.plan(withIpv6(false))).toEqual([expect.objectContaining({ kind: "firewall", rule: V4_RULE })]);
  });

  it("leaves Vac's MJF address 169.254.169.253 alone: rules name single host addresses only", () => {
    const actions = metadataLockdown.plan(makeContext());
    const argvs = actions.map((a) => (a.kind === "firewall" ? a.rule : a.kind === "run-command" ? a.argv : []));
    expect(JSON.stringify(argvs)).not.toContain("169.254.169.253");
    const destinations = argvs.flatMap((argv) => argv[argv.indexOf("-d") + 1]!.split(","));
    expect(destinations).toEqual(["169.254.169.254", "fd00:ec2::254", "fd20:ce::254"]);
    for (const d of destinations) expect(d).not.toContain("/");
  });

  it("exempts root only, and has a check form so the executor does not add it twice", () => {
    const rule = lockdownRule("169.254.169.254");
    expect(rule.slice(rule.indexOf("-m"), rule.indexOf("-j"))).toEqual(["-m", "owner", "!", "--uid-owner", "0"]);
    expect(iptablesCheckForm(rule)).toEqual(["-C", "OUTPUT", "-d", "169.254.169.254", "-m", "owner", "!", "--uid-owner", "0", "-j", "REJECT"]);
  });
});
