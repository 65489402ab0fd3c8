// The agent's execute node against a real HTCondor 23.9.6 pool on loopback (trixie chroot,
// test/support/htcondor-pool.ts): the configuration planned by src/payloads/htcondor, applied as
// the executor would, condor_master run by the agent's own supervisor with the planned readiness
// probe, and the shutdown code computed from the real startd history and logs.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentConfig } from "../../../src/config/agent-config.ts";
import type { RunPayloadAction } from "../../../src/plan/actions.ts";
import { htcondorOutcomeFromEvidence } from "../../../src/payloads/htcondor/outcome.ts";
import { planHtcondorConfig, planHtcondorRun } from "../../../src/payloads/htcondor/plan.ts";
import { makeContext } from "../../support/context.ts";
import { applyConfigPlan, LOOPBACK_NODE_LINES, poolForSuite, prepareHtcondorChroot, runNode, type Pool } from "../../support/htcondor-pool.ts";

const prepared = prepareHtcondorChroot();
if (prepared.skip !== null) console.warn(`test/payloads/htcondor/real-pool.test.ts skipped: ${prepared.skip}`);

type Htc = NonNullable<AgentConfig["payload"]["htcondor"]>;

describe.skipIf(prepared.skip !== null)("an execute node planned by the agent joins a real HTCondor pool (trixie chroot)", () => {
  let pool: Pool;
  poolForSuite(() => prepared.chroot!, (p) => (pool = p));

  /** Plans a node named `name`, applies its configuration and starts condor_master under the supervisor. */
  async function startNode(name: string, htc: Partial<Htc>) {
    const vm = pool.vm(name);
    const uuid = `${pool.id}-${name}`;
    const ctx = makeContext({
      root: vm.inner,
      config: {
        identity: { uuid, space: "vac.test", machinetype: "condor-test" },
        payload: {
          type: "htcondor",
          htcondor: { collector: pool.collector, uid_domain: "vacuum.test", idle_shutdown_seconds: 20, update_interval_seconds: 10, ready_timeout_seconds: 60, extra_config: LOOPBACK_NODE_LINES, ...htc },
        },
      },
    });
    await applyConfigPlan(pool.chroot, vm.host, planHtcondorConfig(ctx));
    const [startFile, run] = planHtcondorRun(ctx) as [never, RunPayloadAction];
    await applyConfigPlan(pool.chroot, vm.host, [startFile]);
    const t0 = Date.now();
    const result = runNode(run, vm.host);
    return { vm, uuid, run, result, t0 };
  }

  async function slotAd(uuid: string, attrs: string[], timeoutMs = 60_000): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = pool.tool(["condor_status", "-constraint", `VacuumVmId == "${uuid}"`, "-af", ...attrs]);
      if (r.status === 0 && r.stdout.trim()) return r.stdout.trim().split(/\s+/);
      if (Date.now() > until) throw new Error(`slot of ${uuid} not in the collector after ${timeoutMs} ms: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  it("token authentication: the slot appears, a vanilla job runs on it as nobody, the idle shutdown ends the master, 200", async () => {
    const node = await startNode("token", { idtoken: pool.token() });
    const [method, identity, start, partitionable, space] = await slotAd(node.uuid, ["AuthenticationMethod", "AuthenticatedIdentity", "Start", "PartitionableSlot", "VacuumSpace"]);
    expect([method, identity, start, partitionable, space]).toEqual(["IDTOKENS", "condor@vacuum.test", "true", "true", "vac.test"]);
    pool.submit([
      "executable = /bin/sh",
      `arguments = "-c 'id -un; echo job-ok'"`,
      `requirements = VacuumVmId == "${node.uuid}"`,
      "output = token.out",
      "error = token.err",
      "log = token.log",
    ]);
    const r = await node.result;
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
    const out = readFileSync(join(pool.chroot.dir, "srv/pools", pool.id, "jobs/token.out"), "utf8");
    expect(out).toBe("nobody\njob-ok\n");
    const o = htcondorOutcomeFromEvidence(node.run.outcome as never, r.evidence ?? {}, r.end);
    expect(o).toEqual({ code: 200, text: "HTCondor ran 1 job to completion" });
    // The history the outcome read is the real one: the job's ad with JobStatus 4.
    expect(r.evidence?.[(node.run.outcome as { historyPath: string }).historyPath]).toMatch(/^JobStatus = 4$/m);
  }, 180_000);

  it("pool password authentication: the slot appears (signed by the pool's key), no job comes, the idle shutdown gives 300", async () => {
    const node = await startNode("password", { pool_password_base64: pool.poolPasswordBase64() });
    const [method] = await slotAd(node.uuid, ["AuthenticationMethod"]);
    expect(["IDTOKENS", "PASSWORD"]).toContain(method);
    const r = await node.result;
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
    const o = htcondorOutcomeFromEvidence(node.run.outcome as never, r.evidence ?? {}, r.end);
    expect(o).toEqual({ code: 300, text: "No HTCondor job to run: the startd was never claimed in 20 s" });
  }, 180_000);

  it("a START expression that rejects every job: the queued job never runs, 300 naming the expression", async () => {
    const node = await startNode("reject", { idtoken: pool.token(), start: 'Owner == "no-such-owner"' });
    await slotAd(node.uuid, ["Name"]);
    const cluster = pool.submit(["executable = /bin/true", `requirements = VacuumVmId == "${node.uuid}"`, "log = reject.log"]);
    const r = await node.result;
    pool.tool(["condor_rm", String(cluster)], "ci");
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
    const o = htcondorOutcomeFromEvidence(node.run.outcome as never, r.evidence ?? {}, r.end);
    expect(o).toEqual({ code: 300, text: 'No HTCondor job to run: the startd was never claimed in 20 s; START = Owner == "no-such-owner"' });
  }, 180_000);
});
