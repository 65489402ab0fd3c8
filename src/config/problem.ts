// A problem found in any input, always addressed by where it was found (ignition's report, not a
// boolean). "error" refuses a run (the VM ends with `code`); "warning" lets it go on, degraded;
// "info" is only shown.

import type { ShutdownCode } from "../contract/codes.ts";

export type Severity = "error" | "warning" | "info";

/** Where a value or a problem came from; also printed in the dry run's provenance column. */
export type Source =
  | "command line"
  | "environment"
  | "user_data"
  | "metadata"
  | "config drive"
  | "machinefeatures"
  | "jobfeatures"
  | "config file"
  | "default"
  | "machine";

export interface Problem {
  severity: Severity;
  source: Source;
  /** Dotted path inside that source: `payload.dirac.queue`, `jobstart_secs`, `part 2 (text/x-shellscript) line 14`. */
  path: string;
  /** What was expected or what went wrong, without the path: `expected a non-empty string`. */
  message: string;
  /** The shutdown code a fatal problem ends the VM with (500 site, 600 grid-wide, 700 agent). */
  code?: ShutdownCode;
}

export function problem(
  severity: Severity,
  source: Source,
  path: string,
  message: string,
  code?: ShutdownCode,
): Problem {
  return code === undefined ? { severity, source, path, message } : { severity, source, path, message, code };
}

/** `user_data: payload.dirac.queue: expected a non-empty string` */
export function formatProblem(p: Problem): string {
  const where = p.path ? `${p.source}: ${p.path}` : p.source;
  return `${p.severity}: ${where}: ${p.message}`;
}

export const hasErrors = (problems: readonly Problem[]): boolean => problems.some((p) => p.severity === "error");
