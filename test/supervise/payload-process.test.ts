import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunPayloadAction } from "../../src/plan/actions.ts";
import { runPayload } from "../../src/supervise/payload-process.ts";
import { payloadOutcome } from "../../src/supervise/outcome.ts";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "payload-"));
  allowSubprocess(["sh"]);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function action(script: string, over: Partial<RunPayloadAction> = {}): RunPayloadAction {
  return {
    kind: "run-payload",
    name: "command",
    argv: ["sh", "-c", script],
    stdoutPath: "/out/stdout.log",
    stderrPath: "/out/stderr.log",
    stopAt: null,
    killGraceSeconds: 1,
    messageFile: "/msg",
    why: "test",
    ...over,
  };
}
const run = (a: RunPayloadAction, control?: Parameters<typeof runPayload>[1]["control"]) => runPayload(a, { root, privileged: false, pollMs: 50, ...(control ? { control } : {}) });

describe("runPayload", () => {
  it("a payload that succeeds: output in its files, 200", async () => {
    const r = await run(action("echo out; echo err >&2; exit 0"));
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
    expect(readFileSync(join(root, "out/stdout.log"), "utf8")).toBe("out\n");
    expect(readFileSync(join(root, "out/stderr.log"), "utf8")).toBe("err\n");
    expect(payloadOutcome("command", r)).toEqual({ code: 200, text: "Payload completed" });
  });

  it("a payload that fails: 700 with its exit code", async () => {
    const r = await run(action("exit 3"));
    expect(payloadOutcome("command", r)).toEqual({ code: 700, text: "Payload command exited with code 3" });
  });

  it("the payload's own valid message wins", async () => {
    const r = await run(action('echo "300 No work in the task queue" > "$VACUUM_SHUTDOWN_MESSAGE_FILE"; exit 0'));
    expect(r.ownMessage).toBe("300 No work in the task queue");
    expect(payloadOutcome("command", r)).toEqual({ code: 300, text: "No work in the task queue" });
  });

  it("an invalid own message is ignored", async () => {
    const r = await run(action('printf "3OO\\tbad" > "$VACUUM_SHUTDOWN_MESSAGE_FILE"; exit 0'));
    expect(r.ownMessage).toBeUndefined();
    expect(payloadOutcome("command", r).code).toBe(200);
  });

  it("at the deadline: SIGTERM, then SIGKILL for children that ignore it; 100", async () => {
    const stopAt = Math.floor(Date.now() / 1000) + 1;
    const t0 = Date.now();
    // The child ignores TERM and keeps the group alive: only SIGKILL after the grace ends it.
    const r = await run(action("trap '' TERM; (trap '' TERM; sleep 30) & sleep 30", { stopAt, killGraceSeconds: 1 }));
    expect(r.end).toEqual({ kind: "deadline", at: stopAt });
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(payloadOutcome("command", r).code).toBe(100);
  });

  it("a stop request ends it gracefully with 100 and the reason", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort("SIGTERM received (ACPI power button)"), 200);
    const r = await run(action("sleep 30"), { stop: ac.signal, stopAt: () => null });
    expect(r.end).toEqual({ kind: "stopped", reason: "SIGTERM received (ACPI power button)" });
    expect(payloadOutcome("command", r)).toEqual({ code: 100, text: "Payload command stopped: SIGTERM received (ACPI power button)" });
  });

  it("a deadline lowered while running is honoured", async () => {
    let stopAt: number | null = null;
    setTimeout(() => (stopAt = Math.floor(Date.now() / 1000)), 200);
    const r = await run(action("sleep 30"), { stop: new AbortController().signal, stopAt: () => stopAt });
    expect(r.end.kind).toBe("deadline");
  });

  it("a payload whose logs stop growing is ended: a live heartbeat must not hide a hung payload", async () => {
    writeFileSync(join(root, "progress.log"), "");
    const r = await run(action("echo start; sleep 30", { liveness: { paths: ["/out/stdout.log", "/progress.log"], staleSeconds: 1 } }));
    expect(r.end).toEqual({ kind: "stalled", staleSeconds: 1 });
    expect(payloadOutcome("command", r)).toEqual({ code: 700, text: "Payload command made no progress for 1 s" });
  });

  it("a payload that keeps writing is not stalled", async () => {
    const r = await run(action("for i in 1 2 3 4 5 6; do echo $i; sleep 0.4; done", { liveness: { paths: ["/out/stdout.log"], staleSeconds: 1 } }));
    expect(r.end).toEqual({ kind: "exited", exitCode: 0 });
  });

  it("a program that does not exist cannot start: 600", async () => {
    allowSubprocess(["does-not-exist"]);
    const r = await run(action("", { argv: ["/nonexistent/does-not-exist"] }));
    expect(r.end.kind).toBe("failed-to-start");
    expect(payloadOutcome("command", r).code).toBe(600);
  });
});
