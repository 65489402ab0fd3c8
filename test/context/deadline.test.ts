import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeDeadline } from "../../src/context/deadline.ts";
import { readMjf } from "../../src/context/mjf.ts";
import type { JobFeatures, MachineFeatures } from "../../src/context/types.ts";

const NOW = 1_700_000_000;

describe("computeDeadline", () => {
  it.each<[string, MachineFeatures, JobFeatures, number | undefined, number | null]>([
    ["nothing known", {}, {}, undefined, null],
    ["shutdowntime only", { shutdowntime: NOW + 3600 }, {}, undefined, NOW + 3600],
    ["shutdowntime_job earlier than shutdowntime", { shutdowntime: NOW + 3600 }, { shutdowntime_job: NOW + 300 }, undefined, NOW + 300],
    ["jobstart_secs + wall_limit_secs", {}, { jobstart_secs: NOW - 100, wall_limit_secs: 1000 }, undefined, NOW + 900],
    ["wall_limit_secs without jobstart_secs is not a deadline", {}, { wall_limit_secs: 1000 }, undefined, null],
    ["max_wallclock_seconds from the agent's start", { shutdowntime: NOW + 86400 }, {}, 7200, NOW + 7200],
    ["max_wallclock_seconds 0 means no limit", {}, {}, 0, null],
  ])("%s", (_name, mf, jf, maxWallclockSeconds, deadline) => {
    const d = computeDeadline(mf, jf, { startedAt: NOW, marginSeconds: 120, ...(maxWallclockSeconds === undefined ? {} : { maxWallclockSeconds }) });
    expect(d.deadline).toBe(deadline);
    expect(d.effective).toBe(deadline === null ? null : deadline - 120);
    expect(d.marginSeconds).toBe(120);
    if (deadline !== null) expect(Math.min(...d.candidates.map((c) => c.at))).toBe(deadline);
  });

  it("lists every known limit as a candidate", () => {
    const d = computeDeadline({ shutdowntime: NOW + 50 }, { shutdowntime_job: NOW + 40, jobstart_secs: NOW, wall_limit_secs: 30 }, { startedAt: NOW, maxWallclockSeconds: 20, marginSeconds: 5 });
    expect(d).toEqual({
      deadline: NOW + 20,
      effective: NOW + 15,
      marginSeconds: 5,
      candidates: [
        { source: "jobfeatures shutdowntime_job", at: NOW + 40 },
        { source: "machinefeatures shutdowntime", at: NOW + 50 },
        { source: "jobfeatures jobstart_secs + wall_limit_secs", at: NOW + 30 },
        { source: "agent start + lifecycle.max_wallclock_seconds", at: NOW + 20 },
      ],
    });
  });

  it("takes shutdowntime when jobstart_secs is a UUID (case 7), with a warning and no crash", async () => {
    const root = await mkdtemp(join(tmpdir(), "deadline-"));
    try {
      await mkdir(join(root, "mf"));
      await mkdir(join(root, "jf"));
      await writeFile(join(root, "mf", "shutdowntime"), String(NOW + 3600));
      await writeFile(join(root, "jf", "jobstart_secs"), "6f1c3b2a-9d4e-4f7a-8b1c-2d3e4f5a6b7c");
      await writeFile(join(root, "jf", "wall_limit_secs"), "86400");
      const mjf = await readMjf({ machinefeatures: join(root, "mf"), jobfeatures: join(root, "jf") });
      const d = computeDeadline(mjf.machinefeatures.values, mjf.jobfeatures.values, { startedAt: NOW, marginSeconds: 120 });
      expect(d.deadline).toBe(NOW + 3600);
      expect(d.candidates).toEqual([{ source: "machinefeatures shutdowntime", at: NOW + 3600 }]);
      expect(mjf.problems.map((p) => `${p.severity} ${p.source} ${p.path}`)).toEqual(["warning jobfeatures jobstart_secs"]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
