import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger, readTimeline, type LogLevel } from "../../src/status/log.ts";

const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n-----END PRIVATE KEY-----";
const AT = new Date("2031-05-06T12:03:04.567Z");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "log-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join("") };
}

const records = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("createLogger", () => {
  it("writes a human line to stderr and a JSON line to the file", () => {
    const err = collector();
    const path = join(dir, "sub/agent.jsonl");
    const log = createLogger({ jsonlPath: path, stderr: err.stream, level: "info", now: () => AT });
    log.info("stage hostname: set hostname f1-03.example.org");
    log.warn("slow metadata", { provider: "ec2", durationMs: 812, note: "two words" });
    expect(err.text()).toBe(
      "12:03:04 info  stage hostname: set hostname f1-03.example.org\n" +
        '12:03:04 warn  slow metadata provider=ec2 durationMs=812 note="two words"\n',
    );
    expect(records(path)).toEqual([
      { time: "2031-05-06T12:03:04.567Z", level: "info", msg: "stage hostname: set hostname f1-03.example.org" },
      { time: "2031-05-06T12:03:04.567Z", level: "warn", msg: "slow metadata", provider: "ec2", durationMs: 812, note: "two words" },
    ]);
  });

  it("redacts a PEM key and a token in the message and in nested fields, on both streams", () => {
    const err = collector();
    const path = join(dir, "agent.jsonl");
    const log = createLogger({ jsonlPath: path, stderr: err.stream, level: "info" });
    log.error(`bad key ${KEY}`, { nested: { list: [KEY, "Bearer abcdef123456"] }, cause: new Error(`parse ${KEY}`) });
    const file = readFileSync(path, "utf8");
    for (const out of [err.text(), file]) {
      expect(out).not.toContain("MIIEvQ");
      expect(out).not.toContain("abcdef123456");
      expect(out).toContain("<redacted>");
    }
    expect(records(path)[0]).toMatchObject({ msg: "bad key <redacted>", nested: { list: ["<redacted>", "Bearer <redacted>"] }, cause: "parse <redacted>" });
  });

  it("fields cannot overwrite time, level or msg", () => {
    const path = join(dir, "agent.jsonl");
    createLogger({ jsonlPath: path, stderr: null, level: "info", now: () => AT }).info("real", { msg: "fake", level: "error", time: "then" });
    expect(records(path)[0]).toMatchObject({ msg: "real", level: "info", time: AT.toISOString() });
  });

  it.each<[LogLevel, string[], string[]]>([
    ["debug", ["debug", "info", "warn", "error"], ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"], ["info", "warn", "error"]],
    ["warn", ["warn", "error"], ["info", "warn", "error"]],
    ["error", ["error"], ["info", "warn", "error"]],
  ])("level %s: stderr gets %j, the file %j", (level, onStderr, inFile) => {
    const err = collector();
    const path = join(dir, "agent.jsonl");
    const log = createLogger({ jsonlPath: path, stderr: err.stream, level });
    for (const l of ["debug", "info", "warn", "error"] as const) log[l](`m-${l}`);
    expect(err.text().trim().split("\n").map((line) => line.split(/\s+/)[1])).toEqual(onStderr);
    expect(records(path).map((r) => r.level)).toEqual(inFile);
  });

  it("never throws when the file cannot be written, and says so once", () => {
    const err = collector();
    writeFileSync(join(dir, "file"), "");
    const log = createLogger({ jsonlPath: join(dir, "file/agent.jsonl"), stderr: err.stream, level: "info" });
    expect(() => {
      log.info("one");
      log.info("two");
    }).not.toThrow();
    expect(err.text().match(/cannot write the log/g)).toHaveLength(1);
    expect(err.text()).toContain("info  two");
  });
});

describe("timeline", () => {
  it("stage events are written and read back in order; other lines are skipped", () => {
    const path = join(dir, "agent.jsonl");
    const log = createLogger({ jsonlPath: path, stderr: null, level: "warn", now: () => AT });
    log.event("stage-start", { stage: "hostname" });
    log.info("stage hostname: set hostname x");
    log.event("stage-finish", { stage: "hostname", state: "ok", durationMs: 12 });
    log.event("stage-start", { stage: "payload" });
    log.event("stage-finish", { stage: "payload", state: "failed", durationMs: 5, error: `exit 1 ${KEY}` });
    writeFileSync(path, readFileSync(path, "utf8") + '{"event":"stage-start","stage":"cut sh', { flag: "w" });
    expect(readTimeline(path)).toEqual([
      { time: AT.toISOString(), event: "stage-start", stage: "hostname" },
      { time: AT.toISOString(), event: "stage-finish", stage: "hostname", state: "ok", durationMs: 12 },
      { time: AT.toISOString(), event: "stage-start", stage: "payload" },
      { time: AT.toISOString(), event: "stage-finish", stage: "payload", state: "failed", durationMs: 5, error: "exit 1 <redacted>" },
    ]);
  });

  it("a failed stage is logged at error level", () => {
    const path = join(dir, "agent.jsonl");
    createLogger({ jsonlPath: path, stderr: null, level: "info" }).event("stage-finish", { stage: "x", state: "failed", durationMs: 1 });
    expect(readFileSync(path, "utf8")).toContain('"level":"error"');
  });

  it("a missing log is an empty timeline", () => {
    expect(readTimeline(join(dir, "none.jsonl"))).toEqual([]);
  });
});
