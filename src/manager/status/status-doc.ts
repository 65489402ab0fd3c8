// The status document behind /status.json and the HTML page: the VMs matching the filters, newest
// activity first, at most `limit` of them, and the counts of all VMs by machinetype and state (so
// the page can offer every filter with its count). One walk over the registry; only the VMs listed
// have their job outputs read.

import type { Content } from "../serve/content.ts";
import type { VmRegistry, VmRecord } from "../vm/vm-registry.ts";
import type { StatusQuery } from "./status-query.ts";
import type { VmDetails } from "./vm-details.ts";
import { lastActivity, VM_STATES, vmState, vmStatus, type VmState, type VmStatus } from "./vm-status.ts";

export type StateCounts = Record<VmState, number>;

export interface StatusDoc {
  generatedAt: string;
  filter: { machinetype: string | null; state: string | null };
  /** VMs matching the filter. */
  total: number;
  /** VMs listed: `total` or `limit`, whichever is smaller. */
  shown: number;
  /** All VMs, whatever the filter: by state, and by machinetype then state. */
  counts: { all: number; states: StateCounts; machinetypes: Record<string, StateCounts> };
  vms: VmStatus[];
}

export interface StatusDocInput {
  registry: VmRegistry | null;
  content: Content;
  details: ((r: VmRecord) => Promise<VmDetails>) | null;
  now: number;
  query: StatusQuery;
}

const zero = (): StateCounts => Object.fromEntries(VM_STATES.map((s) => [s, 0])) as StateCounts;
const NO_DETAILS: VmDetails = { space: null, hostname: null, timeline: [] };

export async function statusDoc(i: StatusDocInput): Promise<StatusDoc> {
  const { machinetype, state, limit } = i.query;
  const states = zero();
  const byType = new Map<string, StateCounts>();
  // Machinetypes of the definition first, in its order, even with no VM yet.
  for (const name of i.content.machinetypes.keys()) byType.set(name, zero());
  const picked: VmRecord[] = [];
  let all = 0;
  for (const r of i.registry?.all() ?? []) {
    const s = vmState(r, i.content, i.now);
    all++;
    states[s]++;
    let c = byType.get(r.machinetype);
    if (!c) byType.set(r.machinetype, (c = zero()));
    c[s]++;
    if (machinetype !== null && r.machinetype !== machinetype) continue;
    if (state !== null && s !== state) continue;
    picked.push(r);
  }
  picked.sort((a, b) => lastActivity(b) - lastActivity(a));
  const shown = picked.slice(0, limit);
  const vms = await Promise.all(shown.map(async (r) => vmStatus(r, i.details ? await i.details(r) : NO_DETAILS, i.content, i.now)));
  return {
    generatedAt: new Date(i.now).toISOString(),
    filter: { machinetype, state },
    total: picked.length,
    shown: vms.length,
    counts: { all, states, machinetypes: Object.fromEntries(byType) },
    vms,
  };
}
