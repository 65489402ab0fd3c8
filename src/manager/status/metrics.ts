// Prometheus text exposition (version 0.0.4) of the manager: VMs by machinetype and state,
// finished VMs by shutdown code, requests by kind and status, reloads, and the process itself.
// Counting the VMs walks the registry once per scrape (about 50 ms per million VMs).

import { VERSION } from "../../version.ts";
import type { Content } from "../serve/content.ts";
import type { VmRegistry } from "../vm/vm-registry.ts";
import { shutdownCode, VM_STATES, vmState } from "./vm-status.ts";

export class RequestCounters {
  private readonly counts = new Map<string, number>();
  add(kind: string, status: number): void {
    const key = `${kind}\u0000${status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  entries(): [kind: string, status: string, count: number][] {
    return [...this.counts].map(([k, n]) => {
      const [kind, status] = k.split("\u0000") as [string, string];
      return [kind, status, n];
    });
  }
}

/** The kind of a request, from its path: a label with few values. */
export function requestKind(path: string): string {
  const vm = /\/vms\/[^/]+\/[^/]+\/(joboutputs|machinefeatures|jobfeatures|metadata)(\/|$)/.exec(path);
  if (vm) return vm[1] === "jobfeatures" ? "machinefeatures" : vm[1]!;
  const m = /\/(pipes|user_data|agents|pilots)\//.exec(path);
  if (m) return { pipes: "pipe", user_data: "template", agents: "agent", pilots: "pilot" }[m[1] as "pipes"]!;
  if (path === "/status.json" || path === "/status" || path === "/status/") return "status";
  if (path === "/metrics") return "metrics";
  return "other";
}

const label = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export interface MetricsInput {
  registry: VmRegistry | null;
  content: Content;
  requests: RequestCounters;
  reloads: { ok: number; refused: number };
  now: number;
}

export function metricsText(m: MetricsInput): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(",");
      lines.push(`${name}${l ? `{${l}}` : ""} ${value}`);
    }
  };
  metric("vacuum_manager_build_info", "gauge", "The manager's version.", [[{ version: VERSION }, 1]]);
  const byState = new Map<string, number>();
  const byCode = new Map<string, number>();
  for (const name of m.content.machinetypes.keys()) for (const s of VM_STATES) byState.set(`${name}\u0000${s}`, 0);
  for (const r of m.registry?.all() ?? []) {
    const k = `${r.machinetype}\u0000${vmState(r, m.content, m.now)}`;
    byState.set(k, (byState.get(k) ?? 0) + 1);
    if (r.shutdownMessage !== null) {
      const c = `${r.machinetype}\u0000${shutdownCode(r.shutdownMessage) ?? "unparsable"}`;
      byCode.set(c, (byCode.get(c) ?? 0) + 1);
    }
  }
  const split = (k: string) => k.split("\u0000") as [string, string];
  metric("vacuum_manager_vms", "gauge", "VMs known, by machinetype and state (starting, running, stale, finished).", [...byState].map(([k, n]) => [{ machinetype: split(k)[0], state: split(k)[1] }, n]));
  metric("vacuum_manager_vms_finished", "gauge", "Finished VMs by the code of their shutdown_message.", [...byCode].map(([k, n]) => [{ machinetype: split(k)[0], code: split(k)[1] }, n]));
  metric("vacuum_manager_requests_total", "counter", "HTTP requests answered, by kind and status.", m.requests.entries().map(([kind, status, n]) => [{ kind, status }, n]));
  metric("vacuum_manager_reloads_total", "counter", "Definition reloads, by result.", [[{ result: "ok" }, m.reloads.ok], [{ result: "refused" }, m.reloads.refused]]);
  const mem = process.memoryUsage();
  metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [[{}, mem.rss]]);
  metric("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.", [[{}, (process.cpuUsage().user + process.cpuUsage().system) / 1e6]]);
  return lines.join("\n") + "\n";
}
