import { describe, expect, it } from "vitest";
import type { Action } from "../../src/plan/actions.ts";
import { buildPlan } from "../../src/plan/plan.ts";
import { executePlan, type ActionResultLike, type EngineDeps } from "../../src/engine/execute-plan.ts";
import { makeContext } from "../support/context.ts";

/** An engine whose apply fails the actions a predicate picks; records the order of everything. */
function harness(fails: (a: Action, stage: string) => string | null) {
  const events: string[] = [];
  const deps: EngineDeps = {
    apply: async (actions, stage) => {
      const out: ActionResultLike[] = [];
      for (const a of actions) {
        events.push(`apply ${stage} ${a.kind}`);
        const error = fails(a, stage);
        out.push(error ? { ok: false, error } : { ok: true });
        if (error) break;
      }
      return out;
    },
    stageStarted: (id) => events.push(`start ${id}`),
    stageFinished: (id, state) => events.push(`finish ${id} ${state}`),
    beforePowerOff: (r) => void events.push(`before-power-off ${r.shutdownMessage}`),
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: () => 0,
  };
  return { deps, events };
}

describe("executePlan", () => {
  it("runs the stages in order, then the shutdown_message, then saves state, then powers off", async () => {
    const ctx = makeContext();
    const { deps, events } = harness(() => null);
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.shutdownMessage).toBe("200 Payload completed");
    expect(events.filter((e) => !e.startsWith("apply ") || e.includes("finish"))).toEqual([
      "start layout", "finish layout ok",
      "start watchdog", "finish watchdog skipped",
      "start context-record", "finish context-record ok",
      "start payload-config", "finish payload-config skipped",
      "start hostname", "finish hostname skipped",
      "start metadata-lockdown", "finish metadata-lockdown ok",
      "start scratch-disk", "finish scratch-disk ok",
      "start accounts", "finish accounts skipped",
      "start mjf-environment", "finish mjf-environment skipped",
      "start credentials", "finish credentials skipped",
      "start cvmfs", "finish cvmfs skipped",
      "start cvmfs-ready", "finish cvmfs-ready skipped",
      "start isolation", "finish isolation skipped",
      "start payload", "finish payload ok",
      "start finish", "apply finish mkdir", "apply finish stage-joboutputs", "apply finish write-file", "finish finish ok",
      "before-power-off 200 Payload completed",
      "apply finish power-off",
    ]);
  });

  it("a fatal stage failure skips the rest and ends with that stage's code", async () => {
    const ctx = makeContext();
    const { deps, events } = harness((a) => (a.kind === "run-payload" ? "cannot open stdout" : null));
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.outcome).toEqual({ code: 700, text: "Payload failed: cannot open stdout" });
    expect(r.failedStages).toEqual(["payload"]);
    expect(events).toContain("apply finish power-off");
  });

  it.each([
    [{ kind: "exited" as const, exitCode: 0 }, "200 Payload completed", "ok"],
    [{ kind: "exited" as const, exitCode: 2 }, "700 Payload command exited with code 2", "failed"],
    [{ kind: "stopped" as const, reason: "preempted" }, "100 Payload command stopped: preempted", "degraded"],
  ])("the payload's end decides the message: %j", async (end, message, state) => {
    const ctx = makeContext();
    const { deps, events } = harness(() => null);
    const apply = deps.apply;
    deps.apply = async (actions, stage) => {
      const out = await apply(actions, stage);
      return out.map((r, i) => (actions[i]?.kind === "run-payload" ? { ...r, action: actions[i], payload: { end, exitCode: null, signal: null, durationMs: 1, ranAs: "me" } } : r));
    };
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.shutdownMessage).toBe(message);
    expect(events).toContain(`finish payload ${state}`);
  });

  it("a failure that carries its own code wins over the stage's code", async () => {
    const ctx = makeContext();
    const { deps } = harness(() => null);
    deps.apply = async (actions) => actions.map((a) => (a.kind === "run-payload" ? { ok: false, error: "pilot directory unreachable", code: 600 as const } : { ok: true }));
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.outcome).toEqual({ code: 600, text: "Payload failed: pilot directory unreachable" });
  });

  it("a non-fatal stage failure degrades and goes on", async () => {
    const ctx = makeContext({ config: { identity: { hostname: "vm1" } } });
    const { deps, events } = harness((a) => (a.kind === "set-hostname" ? "hostnamectl failed" : null));
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.outcome.code).toBe(200);
    expect(r.degradedStages).toEqual(["hostname"]);
    expect(events).toContain("finish payload ok");
  });

  it("an apply that throws is a failure of that stage, and the VM still powers off", async () => {
    const ctx = makeContext();
    const { deps, events } = harness(() => null);
    const apply = deps.apply;
    deps.apply = async (actions, stage) => {
      if (stage === "layout") throw new Error("disk on fire");
      return apply(actions, stage);
    };
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.outcome).toEqual({ code: 500, text: "Cannot create the agent's directories: disk on fire" });
    expect(events.at(-1)).toBe("apply finish power-off");
  });

  it("a refused plan runs no stage but still writes the message and powers off", async () => {
    const ctx = makeContext({ problems: [{ severity: "error", source: "user_data", path: "", message: "no document", code: 600 }] });
    const { deps, events } = harness(() => null);
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.shutdownMessage).toBe("600 user_data: no document");
    expect(events.filter((e) => e.startsWith("apply")).map((e) => e.split(" ")[1])).toEqual(["finish", "finish", "finish", "finish"]);
  });

  it("a failed power-off is reported", async () => {
    const ctx = makeContext();
    const { deps } = harness((a) => (a.kind === "power-off" ? "systemctl: not found" : null));
    const r = await executePlan(ctx, buildPlan(ctx), deps);
    expect(r.finishOk).toBe(false);
  });
});

