// A problem in a vacuum pipe, addressed by its path (`machinetypes[2].fizzle_seconds`) and naming
// what Vac and Vcycle do with it. "error": Vac or Vcycle would reject or mishandle the pipe (a
// skipped type, an aborted cycle, a poisoned cache); "warning": both accept it, but it is risky.

export type Implementation = "vac" | "vcycle";

export interface PipeProblem {
  path: string;
  severity: "error" | "warning";
  /** What is wrong, then what each implementation does: `…: Vac: …; Vcycle: …`. */
  message: string;
  /** The implementations that break or behave as described (empty: a general rule, e.g. a schema problem). */
  affects: Implementation[];
  /** What each named implementation does with it (the same text as at the end of `message`). */
  effects: Partial<Record<Implementation, string>>;
}

export const TOP_LEVEL = "(top level)";

/** Effects every rule reuses, so that the same consequence always reads the same. */
export const EFFECT = {
  vacCycleDies: "factory cycle dies every cycle (uncaught exception in readConf)",
  vacCycleAborted: "readConf returns an error: the whole factory cycle is aborted, nothing is managed",
  vacTypeSkipped: "that machinetype is skipped",
  vcycleCycleSkipped: "readConf fails: the whole cycle is skipped for every space (no creation, no deletion, no heartbeat checks)",
  vcycleTypeSkipped: "that machinetype is silently skipped",
  bothIgnoreOption: "logged and ignored",
} as const;

export function pipeProblem(
  severity: PipeProblem["severity"],
  path: string,
  what: string,
  effects: Partial<Record<Implementation, string>> = {},
  /** Only these break, although `effects` also says what the others do (e.g. use a default). */
  breaks?: Implementation[],
): PipeProblem {
  const described = (["vac", "vcycle"] as const).filter((i) => effects[i] !== undefined);
  const affects = breaks ?? described;
  const parts = described.map((i) => `${i === "vac" ? "Vac" : "Vcycle"}: ${effects[i]}`);
  const message = parts.length ? `${what}. ${parts.join("; ")}` : what;
  return { path, severity, message, affects, effects };
}

/** `error: machinetypes[0].fizzle_seconds: expected a JSON integer, … ` */
export function formatPipeProblem(p: PipeProblem): string {
  return `${p.severity}: ${p.path || TOP_LEVEL}: ${p.message}`;
}

export const pipeHasErrors = (problems: readonly PipeProblem[]): boolean => problems.some((p) => p.severity === "error");

/** `machinetypes[0]` + `fizzle_seconds`; keys that are not plain names are quoted. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  const name = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (!base) return name;
  return name.startsWith("[") ? `${base}${name}` : `${base}.${name}`;
}
