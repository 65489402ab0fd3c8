// Test helper: a LogSink that keeps every line, to assert on warnings and on what never appears.

import type { LogSink } from "../../../src/status/log.ts";

export interface RecordedLog extends LogSink {
  lines: string[];
  text(): string;
}

export function recordLog(): RecordedLog {
  const lines: string[] = [];
  const add = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg}${fields ? " " + JSON.stringify(fields) : ""}`);
  return { lines, text: () => lines.join("\n"), info: add("info"), warn: add("warn"), error: add("error") };
}
