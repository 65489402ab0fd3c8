// The Machine/Job Features keys (HSF-TN-2016-02) and how each value is parsed. Providers deviate
// (vacuum-platform.md 3.3): trailing newlines, floats for hs06*, Vcycle's UUID in jobstart_secs.
// A value that does not parse is dropped with a warning, never fatal.

import { problem, type Problem } from "../../config/problem.ts";

export type KeyKind =
  | { type: "int"; unit: string }
  | { type: "float"; unit: string }
  | { type: "id" }
  /** Legacy keys (Vac's *_lrms, mem_limit_MB, allocated_CPU): kept as text only. */
  | { type: "raw" };

export type MjfDirectory = "machinefeatures" | "jobfeatures";

const int = (unit: string): KeyKind => ({ type: "int", unit });
const float = (unit: string): KeyKind => ({ type: "float", unit });
const raw: KeyKind = { type: "raw" };

export const MACHINEFEATURES_KEYS: Readonly<Record<string, KeyKind>> = {
  total_cpu: int("processors"),
  hs06: float("HS06"),
  shutdowntime: int("Unix seconds"),
  grace_secs: int("seconds"),
  phys_cores: int("cores"),
  log_cores: int("logical processors"),
  jobslots: int("job slots"),
};

export const JOBFEATURES_KEYS: Readonly<Record<string, KeyKind>> = {
  allocated_cpu: int("processors"),
  hs06_job: float("HS06"),
  shutdowntime_job: int("Unix seconds"),
  grace_secs_job: int("seconds"),
  jobstart_secs: int("Unix seconds"),
  job_id: { type: "id" },
  wall_limit_secs: int("seconds"),
  cpu_limit_secs: int("seconds"),
  max_rss_bytes: int("bytes"),
  max_swap_bytes: int("bytes"),
  scratch_limit_bytes: int("bytes"),
  cpufactor_lrms: raw,
  cpu_limit_secs_lrms: raw,
  wall_limit_secs_lrms: raw,
  mem_limit_MB: raw,
  allocated_CPU: raw,
};

export const KEYS: Readonly<Record<MjfDirectory, Readonly<Record<string, KeyKind>>>> = {
  machinefeatures: MACHINEFEATURES_KEYS,
  jobfeatures: JOBFEATURES_KEYS,
};

const INTEGER = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?$/;
const PRINTABLE_NO_SPACE = /^[!-~]+$/;

export type Parsed = { value: number | string } | { problem: Problem } | { skip: true };

/** Parses one trimmed value; `skip` for raw keys, which have no typed value. */
export function parseValue(dir: MjfDirectory, key: string, kind: KeyKind, text: string): Parsed {
  if (kind.type === "raw") return { skip: true };
  const warn = (expected: string) =>
    ({ problem: problem("warning", dir, key, text === "" ? `${expected}, got an empty value; ignored` : `${expected}, got ${quote(text)}; ignored`) });
  switch (kind.type) {
    case "int": {
      const n = Number(text);
      return INTEGER.test(text) && Number.isSafeInteger(n) ? { value: n } : warn(`expected an integer (${kind.unit})`);
    }
    case "float": {
      const n = Number(text);
      return DECIMAL.test(text) && Number.isFinite(n) ? { value: n } : warn(`expected a number (${kind.unit})`);
    }
    case "id":
      return PRINTABLE_NO_SPACE.test(text) ? { value: text } : warn("expected printable ASCII without spaces");
  }
}

/** The value as it appears in a message: quoted, escaped, cut at 40 characters. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
