// Once the agent has read the metadata, which holds the user_data and its secrets (proxies, host
// keys, tokens), only root may reach the metadata service: every other user's packets to it are
// rejected. Vac's factory at 169.254.169.253 (Machine/Job Features, job outputs, heartbeats) must
// stay reachable for the payload, so the rule names the one host address and nothing touches .253.
//
// REJECT (not DROP) so that a payload probing the address fails at once instead of hanging; the
// rule is inserted first in OUTPUT so an earlier ACCEPT in the image cannot bypass it. Root is
// exempt: the agent itself still polls spot and preemption notices.

import type { Context } from "../context/context.ts";
import type { Action } from "../plan/actions.ts";
import type { Stage } from "./stage.ts";

export const METADATA_IPV4 = "169.254.169.254";
/** EC2's IPv6 metadata endpoint (Nitro) and GCE's (IPv6-only VMs). */
export const METADATA_IPV6 = ["fd00:ec2::254", "fd20:ce::254"] as const;

/** iptables/ip6tables arguments: no user but root may send to `address`. */
export const lockdownRule = (address: string): string[] => ["-I", "OUTPUT", "-d", address, "-m", "owner", "!", "--uid-owner", "0", "-j", "REJECT"];

function planLockdown(ctx: Context): Action[] {
  const actions: Action[] = [
    { kind: "firewall", rule: lockdownRule(METADATA_IPV4), why: "the metadata holds the user_data's secrets: root only (169.254.169.253 stays open)" },
  ];
  // A kernel without IPv6 has no IPv6 path to the metadata, and ip6tables would fail there.
  if (ctx.machine.ipv6 === false) return actions;
  // One ip6tables for both addresses (-d a,b inserts a rule for each).
  actions.push({
    kind: "run-command",
    argv: ["ip6tables", "-w", ...lockdownRule(METADATA_IPV6.join(","))],
    timeoutMs: 30_000,
    machineWide: true,
    // ip6tables and iptables change different tables: no need to wait for each other (each first
    // call loads kernel modules: ~0.35 s in a slow VM).
    alongside: true,
    why: `the IPv6 metadata addresses ${METADATA_IPV6.join(" and ")}: root only`,
  });
  return actions;
}

export const metadataLockdown: Stage = {
  id: "metadata-lockdown",
  title: "metadata service for root only",
  skip: (ctx) => (ctx.config.host.metadata_lockdown ? null : "host.metadata_lockdown is false"),
  plan: planLockdown,
  failure: { code: 500, fatal: true, text: "Cannot restrict the metadata service to root" },
};
