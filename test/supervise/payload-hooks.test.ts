// Readiness probe and drain steps on a real child process (sh): the probe ends a payload that never
// becomes ready with the probe's own outcome; drain steps run once, lead seconds before the stop.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunPayloadAction } from "../../src/plan/actions.ts";
import { runPayload } from "../../src/supervise/payload-process.ts";
import { payloadOutcome } from "../../src/supervise/outcome.ts";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "payload-hooks-"));
  allowSubprocess(["sh"]);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function action(script: string, over: Partial<RunPayloadAction> = {}): RunPayloadAction {
  return { kind: "run-payload", name: "htcondor", argv: ["sh", "-c", script], stdoutPath: "/out/stdout.log", stderrPath: "/out/stderr.log", stopAt: null, killGraceSeconds: 1, why: "test", ...over };
}
const lines: string[] = [];
const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
const run = (a: RunPayloadAction) => runPayload(a, { root, privileged: false, pollMs: 50, log });

describe("readiness probe", () => {
  it("a probe that succeeds lets the payload run to its end", async () => {
    const r = await run(
      action(`touch "${root}/ready"; sleep 0.5; exit 0`, {
        ready: { argv: ["sh", "-c", `test -e "${root}/ready" && echo slot1@vm1`], expect: "^slot1@", timeoutSeconds: 5, intervalMs: 100, failure: { code: 600, text: "never" }, why: "startd in the collector" },
      }),
    );
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
    expect(lines.some((l) => l === "info payload ready: startd in the collector")).toBe(true);
  });

  it("a probe that never matches stops the payload with the probe's outcome", async () => {
    const t0 = Date.now();
    const r = await run(
      action("sleep 30", {
        ready: { argv: ["sh", "-c", "echo nothing"], expect: "^slot1@", timeoutSeconds: 1, intervalMs: 200, failure: { code: 600, text: "Collector 127.0.0.1:1 unreachable: startd not visible after 1 s" }, why: "startd in the collector" },
      }),
    );
    expect(r.end).toEqual({ kind: "not-ready", code: 600, text: "Collector 127.0.0.1:1 unreachable: startd not visible after 1 s" });
    expect(payloadOutcome("htcondor", r)).toEqual({ code: 600, text: "Collector 127.0.0.1:1 unreachable: startd not visible after 1 s" });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("a payload that ends before the probe matched is judged by how it ended", async () => {
    const r = await run(action("exit 4", { ready: { argv: ["sh", "-c", "exit 1"], expect: "x", timeoutSeconds: 30, intervalMs: 100, failure: { code: 500, text: "never" }, why: "w" } }));
    expect(r.end).toEqual({ kind: "exited", exitCode: 4 });
  });

  it("a payload that ends while a probe command hangs (a collector that does not answer) ends at once", async () => {
    // condor_master exiting 4 at once (its log directory not condor's) while condor_status waits
    // on the collector: the end waited for the probe's 30 s timeout before the agent could finish.
    const t0 = Date.now();
    const r = await run(action("sleep 0.3; exit 4", { ready: { argv: ["sh", "-c", "sleep 6"], expect: "x", timeoutSeconds: 30, intervalMs: 100, failure: { code: 600, text: "never" }, why: "w" } }));
    expect(r.end).toEqual({ kind: "exited", exitCode: 4 });
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe("drain steps", () => {
  it("run once, lead seconds before the stop: the payload sees the drain file and ends by itself", async () => {
    const stopAt = Math.floor(Date.now() / 1000) + 60;
    const r = await run(
      action(`while [ ! -e "${root}/var/lib/dirac_drain" ]; do sleep 0.05; done; echo drained; exit 0`, {
        stopAt,
        drain: [
          { leadSeconds: 3600, do: { kind: "create-file", path: "/var/lib/dirac_drain", contents: "" }, why: "DIRAC drain" },
          { leadSeconds: 3600, do: { kind: "run", argv: ["sh", "-c", `echo ran >> "${root}/steps"`], timeoutSeconds: 5 }, why: "command step" },
        ],
      }),
    );
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
    expect(readFileSync(join(root, "out/stdout.log"), "utf8")).toBe("drained\n");
    expect(readFileSync(join(root, "steps"), "utf8")).toBe("ran\n");
  });

  it("a step whose moment has not come is not done", async () => {
    const stopAt = Math.floor(Date.now() / 1000) + 3600;
    await run(action("sleep 0.3", { stopAt, drain: [{ leadSeconds: 60, do: { kind: "create-file", path: "/drain", contents: "" }, why: "later" }] }));
    expect(existsSync(join(root, "drain"))).toBe(false);
  });

  it("a failing step is logged, not fatal", async () => {
    const stopAt = Math.floor(Date.now() / 1000) + 10;
    const r = await run(action("sleep 0.3", { stopAt, drain: [{ leadSeconds: 60, do: { kind: "run", argv: ["sh", "-c", "exit 9"], timeoutSeconds: 5 }, why: "condor_off" }] }));
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
    expect(lines.some((l) => l.startsWith("warn drain step failed (condor_off)"))).toBe(true);
  });
});

describe("outcome evidence", () => {
  it("the tails of the rule's files are read after the payload ended, by machine path", async () => {
    const r = await run(
      action('echo "2026-11-22 05:00:00 UTC WorkloadManagement/JobAgent INFO: Received JobID=42"', { outcome: { kind: "dirac-pilot-log", logPaths: ["/out/stdout.log", "/missing.log"] } }),
    );
    expect(r.evidence).toEqual({ "/out/stdout.log": "2026-11-22 05:00:00 UTC WorkloadManagement/JobAgent INFO: Received JobID=42\n", "/missing.log": "" });
  });

  it("no rule, no evidence", async () => {
    expect((await run(action("true"))).evidence).toBeUndefined();
  });
});
