// The agent's log: a human line on stderr and a JSON object per line in agent.jsonl. Lines are
// appended synchronously because a VM can be powered off at any moment and the last line is
// usually the interesting one. Every string passes redactSecrets. Stage start/finish events are
// the timeline (cloud-init's reporting events); readTimeline rebuilds it from the file.

import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { redactSecrets } from "../plan/describe.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A timeline record: `stage-start {stage}`, `stage-finish {stage, state, durationMs, error?}`. */
  event(type: string, fields: Fields): void;
}

/** The part of a Logger the executor and the engine need. */
export type LogSink = Pick<Logger, "info" | "warn" | "error">;

export interface LoggerOptions {
  jsonlPath: string | null;
  stderr: NodeJS.WritableStream | null;
  /** What reaches stderr; the file always keeps info and up. */
  level: LogLevel;
  now?: () => Date;
}

function clean(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (value instanceof Error) return redactSecrets(value.message);
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return "<nested too deep>";
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v, depth + 1)]));
}

function human(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

export function createLogger(o: LoggerOptions): Logger {
  const now = o.now ?? (() => new Date());
  let fileBroken = false;
  let dirMade = false;

  const toFile = (record: Fields): void => {
    if (o.jsonlPath === null || fileBroken) return;
    try {
      if (!dirMade) {
        mkdirSync(posix.dirname(o.jsonlPath), { recursive: true, mode: 0o755 });
        dirMade = true;
      }
      appendFileSync(o.jsonlPath, JSON.stringify(record) + "\n", { mode: 0o640 });
    } catch (err) {
      // Logging must never end the run; say so once where a person may see it.
      fileBroken = true;
      o.stderr?.write(`${now().toISOString().slice(11, 19)} warn  cannot write the log ${o.jsonlPath}: ${(err as Error).message}\n`);
    }
  };

  // The file keeps info and up whatever the console shows (it is what support reads later);
  // `level` decides what reaches stderr, and debug lines reach the file only at level debug.
  const fileRank = Math.min(RANK[o.level], RANK.info);
  const write = (level: LogLevel, msg: string, fields: Fields | undefined, event?: string): void => {
    const toFileToo = RANK[level] >= fileRank;
    const toStderr = RANK[level] >= RANK[o.level];
    if (!toFileToo && !toStderr) return;
    const time = now();
    const cleanMsg = redactSecrets(msg);
    const cleanFields = (fields ? clean(fields) : {}) as Fields;
    // Fields never overwrite the record's own keys.
    if (toFileToo) toFile({ ...cleanFields, time: time.toISOString(), level, msg: cleanMsg, ...(event ? { event } : {}) });
    if (o.stderr && toStderr) {
      const extra = Object.entries(cleanFields).map(([k, v]) => ` ${k}=${human(v)}`).join("");
      o.stderr.write(`${time.toISOString().slice(11, 19)} ${level.padEnd(5)} ${cleanMsg}${extra}\n`);
    }
  };

  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    event: (type, fields) => write(fields.state === "failed" ? "error" : "info", type, fields, type),
  };
}

export interface TimelineRecord {
  time: string;
  event: "stage-start" | "stage-finish";
  stage: string;
  state?: string;
  durationMs?: number;
  error?: string;
}

/** The stage records of a log, in order; unreadable or foreign lines are skipped. */
export function readTimeline(jsonlPath: string): TimelineRecord[] {
  let text: string;
  try {
    text = readFileSync(jsonlPath, "utf8");
  } catch {
    return [];
  }
  const out: TimelineRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      continue; // a line cut short by a power-off
    }
    if (!rec || typeof rec !== "object") continue;
    const r = rec as Record<string, unknown>;
    if ((r.event !== "stage-start" && r.event !== "stage-finish") || typeof r.stage !== "string" || typeof r.time !== "string") continue;
    out.push({
      time: r.time,
      event: r.event,
      stage: r.stage,
      ...(typeof r.state === "string" ? { state: r.state } : {}),
      ...(typeof r.durationMs === "number" ? { durationMs: r.durationMs } : {}),
      ...(typeof r.error === "string" ? { error: r.error } : {}),
    });
  }
  return out;
}
