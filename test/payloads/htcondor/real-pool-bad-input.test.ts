// Bad input against the real HTCondor (trixie chroot): a collector that is down, a token the pool
// did not sign, and a machine without HTCondor. Each ends within its bound with the documented text.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentConfig } from "../../../src/config/agent-config.ts";
import type { RunPayloadAction } from "../../../src/plan/actions.ts";
import { htcondorOutcomeFromEvidence } from "../../../src/payloads/htcondor/outcome.ts";
import { planHtcondorConfig, planHtcondorRun } from "../../../src/payloads/htcondor/plan.ts";
import { runPayload } from "../../../src/supervise/payload-process.ts";
import { allowSubprocess } from "../../setup/forbid-subprocess.ts";
import { closedPort } from "../../support/closed-port.ts";
import { makeContext } from "../../support/context.ts";
import { applyConfigPlan, LOOPBACK_NODE_LINES, poolForSuite, prepareHtcondorChroot, runNode, type Pool } from "../../support/htcondor-pool.ts";

const prepared = prepareHtcondorChroot();
if (prepared.skip !== null) console.warn(`test/payloads/htcondor/real-pool-bad-input.test.ts skipped: ${prepared.skip}`);

type Htc = NonNullable<AgentConfig["payload"]["htcondor"]>;

const ctxFor = (root: string | null, name: string, htc: Partial<Htc>) =>
  makeContext({
    root,
    config: {
      // A master that cannot reach its collector takes long to shut down gracefully: no need to wait.
      lifecycle: { kill_grace_seconds: 5 },
      identity: { uuid: `bad-${name}-${process.pid}` },
      payload: { type: "htcondor", htcondor: { uid_domain: "vacuum.test", update_interval_seconds: 5, extra_config: LOOPBACK_NODE_LINES, ...htc } },
    },
  });

describe("HTCondor not installed", () => {
  it("condor_master missing on the machine: 600 'condor_master not found: HTCondor is not installed'", async () => {
    allowSubprocess(["condor_master"]);
    const root = mkdtempSync(join(tmpdir(), "htc-none-"));
    try {
      const ctx = ctxFor(root, "none", { collector: "127.0.0.1:9", idtoken: "a.b.c" });
      const run = planHtcondorRun(ctx)[1] as RunPayloadAction;
      // This machine has no HTCondor: the planned argv itself, through the agent's supervisor.
      const r = await runPayload(run, { root, pollMs: 100 });
      expect(r.end.kind).toBe("failed-to-start");
      expect(htcondorOutcomeFromEvidence(run.outcome as never, r.evidence ?? {}, r.end)).toEqual({ code: 600, text: "condor_master not found: HTCondor is not installed" });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe.skipIf(prepared.skip !== null)("bad input against the real HTCondor (trixie chroot)", () => {
  let pool: Pool;
  poolForSuite(() => prepared.chroot!, (p) => (pool = p));

  async function run(name: string, htc: Partial<Htc>) {
    const vm = pool.vm(name);
    const ctx = ctxFor(vm.inner, name, htc);
    await applyConfigPlan(pool.chroot, vm.host, planHtcondorConfig(ctx));
    const [startFile, action] = planHtcondorRun(ctx) as [never, RunPayloadAction];
    await applyConfigPlan(pool.chroot, vm.host, [startFile]);
    const t0 = Date.now();
    const r = await runNode(action, vm.host);
    return { r, seconds: (Date.now() - t0) / 1000, outcome: htcondorOutcomeFromEvidence(action.outcome as never, r.evidence ?? {}, r.end) };
  }

  it("collector unreachable: the readiness probe gives up after its bound, 600 naming the collector and the refusal", async () => {
    const port = await closedPort();
    const { r, seconds, outcome } = await run("down", { collector: `127.0.0.1:${port}`, idtoken: pool.token(), ready_timeout_seconds: 6 });
    expect(r.end.kind).toBe("not-ready");
    expect(seconds).toBeLessThan(6 + 15);
    expect(outcome.code).toBe(600);
    expect(outcome.text).toBe(`Collector 127.0.0.1 unreachable: startd not visible after 6 s (Connection refused at 127.0.0.1:${port})`);
  }, 90_000);

  it("a token the pool did not sign: the slot never appears, 600 saying the collector refused the IDTOKENS authentication", async () => {
    const [h, p, s] = pool.token().split(".") as [string, string, string];
    const forged = `${h}.${p}.${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
    const { r, outcome } = await run("forged", { collector: pool.collector, idtoken: forged, ready_timeout_seconds: 8 });
    expect(r.end.kind).toBe("not-ready");
    expect(outcome).toEqual({
      code: 600,
      text: `Collector 127.0.0.1 unreachable: startd not visible after 8 s: the collector refused its authentication (Failed to authenticate using IDTOKENS)`,
    });
  }, 90_000);
});
