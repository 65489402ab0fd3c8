import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { problem } from "../../src/config/problem.ts";
import { createStatusWriter, healthOf, readStatus, type Status, type StageStatus } from "../../src/status/status-file.ts";
import { AGENT_PATHS } from "../../src/status/paths.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "status-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function clock(startIso: string, stepMs: number): () => Date {
  let t = Date.parse(startIso);
  return () => {
    const d = new Date(t);
    t += stepMs;
    return d;
  };
}

const onDisk = (path: string): Status => {
  const r = readStatus(path);
  expect(r.problems).toEqual([]);
  return r.status!;
};

describe("createStatusWriter", () => {
  it("writes status.json at creation and before and after every stage", () => {
    const path = join(dir, "status.json");
    const w = createStatusWriter(path, { agentVersion: "1.2.3", stages: ["layout", "hostname"], dryRun: false }, { now: clock("2031-01-01T00:00:00Z", 1000) });
    expect(onDisk(path)).toEqual({
      version: 1,
      agentVersion: "1.2.3",
      startedAt: "2031-01-01T00:00:00.000Z",
      state: "running",
      dryRun: false,
      stages: [
        { id: "layout", state: "pending" },
        { id: "hostname", state: "pending" },
      ],
      problems: [],
    });
    w.stageStarted("layout");
    expect(onDisk(path).stages[0]).toEqual({ id: "layout", state: "running", startedAt: "2031-01-01T00:00:01.000Z" });
    w.stageFinished("layout", "ok", { durationMs: 7 });
    expect(onDisk(path).stages[0]).toMatchObject({ state: "ok", finishedAt: "2031-01-01T00:00:02.000Z", durationMs: 7 });
    w.stageStarted("hostname");
    w.stageFinished("hostname", "skipped", { reason: "identity.hostname not set" });
    expect(onDisk(path).stages[1]).toMatchObject({ state: "skipped", reason: "identity.hostname not set", durationMs: 1000 });
    w.stageStarted("finish");
    w.stageFinished("finish", "ok", {});
    w.problems([problem("warning", "metadata", "hostname", "expected a DNS name")]);
    w.finish({ shutdownMessage: "200 Intended work completed ok" });
    const end = onDisk(path);
    expect(end).toMatchObject({ state: "done", shutdownMessage: "200 Intended work completed ok", finishedAt: expect.any(String) });
    expect(end.stages.map((s) => `${s.id}:${s.state}`)).toEqual(["layout:ok", "hostname:skipped", "finish:ok"]);
    expect(end.problems).toHaveLength(1);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(["status.json"]);
  });

  it("a failed stage makes the run failed, its error redacted", () => {
    const path = join(dir, "status.json");
    const w = createStatusWriter(path, { agentVersion: "1", stages: ["x509"], dryRun: false });
    w.stageStarted("x509");
    w.stageFinished("x509", "failed", { error: "bad proxy -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----" });
    w.finish();
    const s = onDisk(path);
    expect(s.state).toBe("failed");
    expect(s.stages[0]!.error).toBe("bad proxy <redacted>");
    expect(healthOf(s)).toBe(1);
  });

  it("keeps the status in memory when the path is null (dry run)", () => {
    const w = createStatusWriter(null, { agentVersion: "1", stages: ["a"], dryRun: true });
    w.stageStarted("a");
    w.stageFinished("a", "ok");
    w.finish();
    expect(w.current()).toMatchObject({ dryRun: true, state: "done", stages: [{ id: "a", state: "ok" }] });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("never throws when status.json cannot be written; reports it instead", () => {
    const errors: Error[] = [];
    // A regular file where the state directory should be: neither mkdir nor the write can succeed.
    writeFileSync(join(dir, "blocker"), "not a directory");
    const w = createStatusWriter(join(dir, "blocker/status.json"), { agentVersion: "1", stages: [], dryRun: false }, { onWriteError: (e) => errors.push(e) });
    expect(() => w.stageStarted("a")).not.toThrow();
    expect(errors.length).toBe(2);
  });

  it("creates the missing state directory on its first write", () => {
    const path = join(dir, "var/lib/vacuum-agent/status.json");
    createStatusWriter(path, { agentVersion: "1", stages: ["a"], dryRun: false });
    expect(JSON.parse(readFileSync(path, "utf8")).stages).toEqual([{ id: "a", state: "pending" }]);
  });
});

describe("readStatus", () => {
  it.each([
    ["a missing file", null, /no status file/, ""],
    ["not JSON", "{", /expected JSON/, ""],
    ["an array", "[]", /expected a JSON object/, ""],
    ["another version", '{"version":2}', /expected version 1, found 2/, ": version"],
    ["a bad state", '{"version":1,"state":"sleeping","startedAt":"x","stages":[]}', /expected running, done or failed/, ": state"],
    ["a stage without id", '{"version":1,"state":"done","startedAt":"x","stages":[{"state":"ok"}]}', /expected a stage id/, ": stages.0.id"],
    ["a bad stage state", '{"version":1,"state":"done","startedAt":"x","stages":[{"id":"a","state":"meh"}]}', /expected a stage state/, ": stages.0.state"],
  ])("%s is a problem, not a throw", (_name, text, message, where) => {
    const path = join(dir, "status.json");
    if (text !== null) writeFileSync(path, text);
    const r = readStatus(path);
    expect(r.status).toBeNull();
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ severity: "error", source: "machine", path: `${path}${where}` });
    expect(r.problems[0]!.message).toMatch(message);
  });

  it("reads what the writer wrote", () => {
    const path = join(dir, "status.json");
    createStatusWriter(path, { agentVersion: "9", stages: ["a"], dryRun: false }).finish();
    expect(readFileSync(path, "utf8").endsWith("}\n")).toBe(true);
    expect(onDisk(path)).toMatchObject({ agentVersion: "9", state: "done" });
  });
});

describe("healthOf", () => {
  const base = (over: Partial<Status> = {}, stages: StageStatus[] = [{ id: "a", state: "ok" }]): Status => ({
    version: 1,
    agentVersion: "1",
    startedAt: "2031-01-01T00:00:00Z",
    state: "done",
    dryRun: false,
    stages,
    problems: [],
    ...over,
  });
  it.each<[string, Status, 0 | 1 | 2]>([
    ["all ok", base(), 0],
    ["running, so far ok", base({ state: "running" }, [{ id: "a", state: "ok" }, { id: "b", state: "running" }, { id: "c", state: "pending" }]), 0],
    ["skipped because not configured", base({}, [{ id: "a", state: "skipped", reason: "cvmfs not configured" }]), 0],
    ["an info problem", base({ problems: [problem("info", "user_data", "x", "note")] }), 0],
    ["run state failed", base({ state: "failed" }), 1],
    ["a failed stage", base({}, [{ id: "a", state: "ok" }, { id: "b", state: "failed", error: "boom" }]), 1],
    ["an error problem", base({ problems: [problem("error", "user_data", "x", "bad")] }), 1],
    ["an error beats a warning", base({ problems: [problem("warning", "user_data", "x", "w"), problem("error", "user_data", "y", "e")] }), 1],
    ["a warning problem", base({ problems: [problem("warning", "metadata", "x", "slow")] }), 2],
    ["a degraded stage", base({}, [{ id: "a", state: "degraded", error: "no swap" }]), 2],
    ["a stage skipped with an error", base({}, [{ id: "a", state: "skipped", reason: "no disk", error: "probe failed" }]), 2],
  ])("%s -> %i", (_name, status, expected) => {
    expect(healthOf(status)).toBe(expected);
  });
});

describe("AGENT_PATHS", () => {
  it("keeps state under the state directory and the log under the log directory", () => {
    for (const key of ["status", "context", "machineActions", "services"] as const) expect(AGENT_PATHS[key].startsWith(`${AGENT_PATHS.stateDir}/`)).toBe(true);
    expect(AGENT_PATHS.log.startsWith(`${AGENT_PATHS.logDir}/`)).toBe(true);
    expect(AGENT_PATHS.joboutputs).toBe("/var/spool/joboutputs");
  });
});
