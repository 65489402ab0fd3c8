// Machine/Job Features (HSF-TN-2016-02) for a VM of the manager's, computed from its machinetype
// and the time the manager first saw it, with the values Vac writes for a VM (vacuum-platform.md
// 3.2): one job slot, the processors, the shutdown time = start + max_wallclock_seconds.

import type { MachinetypeDefinition } from "../definition.ts";

export type MjfDir = "machinefeatures" | "jobfeatures";

const MB_PER_PROCESSOR = 2048;

export function mjfValues(dir: MjfDir, mt: MachinetypeDefinition, vmId: string, startedSeconds: number): Record<string, string> {
  const processors = mt.max_processors ?? mt.min_processors ?? 1;
  const wall = mt.max_wallclock_seconds;
  const shutdown = String(startedSeconds + wall);
  if (dir === "machinefeatures") {
    return { total_cpu: String(processors), phys_cores: String(processors), log_cores: String(processors), jobslots: "1", shutdowntime: shutdown };
  }
  return {
    allocated_cpu: String(processors),
    allocated_CPU: String(processors),
    shutdowntime_job: shutdown,
    jobstart_secs: String(startedSeconds),
    job_id: vmId,
    wall_limit_secs: String(wall),
    cpu_limit_secs: String(wall * processors),
    max_rss_bytes: String(MB_PER_PROCESSOR * processors * 1024 * 1024),
    cpufactor_lrms: "1.0",
  };
}

/** Vac's listing of a features directory: `<ul><li><a href=KEY>`. */
export function mjfListing(values: Record<string, string>): string {
  const items = Object.keys(values)
    .sort()
    .map((k) => `<li><a href="${k}">${k}</a></li>`)
    .join("");
  return `<html><body><ul>${items}</ul></body></html>\n`;
}
