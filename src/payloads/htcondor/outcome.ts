// How an HTCondor execute node's end becomes the VM's shutdown code. The evidence is the startd
// history (STARTD_HISTORY, read with a real ClassAd parser: history.ts) and the tails of MasterLog,
// StartLog and the START file; VMCondor's "history non-empty => 200" (pilots.md 6.3) is not enough.
//
// | how condor_master ended                          | evidence                               | code |
// |--------------------------------------------------|----------------------------------------|------|
// | exited 0 (idle shutdown, or drained)             | >= 1 job with JobStatus 4 (completed)  | 200  |
// | exited 0                                         | no job at all                          | 300  |
// |                                                  |   (text: idle time, a START other than True) |
// | exited 0                                         | jobs, none completed, one held         | 500  |
// |                                                  |   (held here: the VM fails its jobs)   |      |
// | exited 0                                         | jobs, none completed, none held        | 300  |
// | any end without a completed job                  | authentication/authorization failures  | 600  |
// |                                                  |   with the collector in the logs       |      |
// | never visible in the collector (readiness probe) | auth failure in the logs               | 600  |
// |                                                  | connection failures: "Collector <host> unreachable: startd not visible after N s (Connection refused)" | 600 |
// | deadline (the agent's SIGTERM at stopAt)         | job count in the text                  | 100  |
// | stop request (ACPI, preemption, SIGTERM)         |                                        | 100  |
// | condor_master exited non-zero                    | its last ERROR line                    | 700  |
// | condor_master killed by a signal                 |                                        | 700  |
// | could not start: condor_master not on PATH       | "condor_master not found: HTCondor is not installed" | 600 |
// |   (spawn ENOENT, or the start wrapper's exit 127) |                                        |      |
//
// 600 for the collector, credentials and a missing HTCondor: they come from the experiment's
// template and image (a grid-wide problem), so Vac and Vcycle back off everywhere. 500 for jobs held
// on this VM: the host fails them (black-hole protection).

import type { ShutdownCode } from "../../contract/codes.ts";
import type { OutcomeRule } from "../../plan/actions.ts";
import type { Outcome } from "../../stages/finish.ts";
import type { PayloadEnd } from "../../supervise/payload-process.ts";
import { JOB_STATUS, parseHistory, type ClassAd } from "./history.ts";

/** What the wrapper that starts the master (plan.ts masterArgv) prints when there is none, exiting 127. */
export const MASTER_NOT_FOUND = "condor_master not found on PATH";

export interface HistorySummary {
  jobs: number;
  completed: number;
  nonZeroExits: number;
  held: ClassAd[];
}

export function summarizeHistory(historyText: string): HistorySummary {
  const byId = new Map<string, ClassAd>();
  for (const [i, ad] of parseHistory(historyText).ads.entries()) {
    // A job may appear more than once (restarts): its last record wins.
    const id = ad.string("GlobalJobId") ?? `${ad.number("ClusterId") ?? "?"}.${ad.number("ProcId") ?? "?"}#${i}`;
    byId.set(id, ad);
  }
  const ads = [...byId.values()];
  const completed = ads.filter((a) => a.number("JobStatus") === JOB_STATUS.completed);
  return {
    jobs: ads.length,
    completed: completed.length,
    nonZeroExits: completed.filter((a) => (a.number("ExitCode") ?? 0) !== 0 || a.get("ExitBySignal") === true).length,
    held: ads.filter((a) => a.number("JobStatus") === JOB_STATUS.held),
  };
}

/** What the logs say, newest evidence first where it matters. */
export interface LogFindings {
  authFailure?: string;
  unreachable?: string;
  idleSeconds?: number;
  start?: string;
  masterError?: string;
}

const lastMatch = (text: string, re: RegExp): RegExpExecArray | undefined => {
  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`))) last = m as RegExpExecArray;
  return last;
};

export function readLogs(logsText: string): LogFindings {
  const f: LogFindings = {};
  const auth =
    lastMatch(logsText, /AUTHENTICATE:\d+:(Failed to authenticate using [A-Z]+)/) ??
    lastMatch(logsText, /(Failed to authenticate with any method)/) ??
    lastMatch(logsText, /SECMAN:\d+:(Received "DENIED" from server[^.\n]*)/) ??
    lastMatch(logsText, /(PERMISSION DENIED[^\n]*)/);
  if (auth) f.authFailure = auth[1]!.trim();
  const refused = lastMatch(logsText, /attempt to connect to <([^>]+)> failed: ([^(\n]+?)\s*(?:\(|$)/m);
  const tcp = lastMatch(logsText, /TCP connection to collector (\S+) failed/);
  if (refused) f.unreachable = `${refused[2]!.trim()} at ${refused[1]}`;
  else if (tcp) f.unreachable = `no TCP connection to ${tcp[1]}`;
  const idle = lastMatch(logsText, /No resources have been claimed for (\d+) seconds/);
  if (idle) f.idleSeconds = Number(idle[1]);
  const start = lastMatch(logsText, /^START\s*=\s*(.+)$/m);
  if (start) f.start = start[1]!.trim();
  // EXCEPT's form, in MasterLog or (before the log is open) on the master's stderr.
  const err = lastMatch(logsText, /^(?:\S+ \S+ )?ERROR "([^"\n]+)"/m);
  if (err) f.masterError = err[1]!.trim();
  return f;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
const out = (code: ShutdownCode, text: string): Outcome => ({ code, text });

function jobsNote(h: HistorySummary): string {
  if (h.jobs === 0) return "no job ran";
  return `${plural(h.completed, "job")} completed${h.jobs > h.completed ? ` of ${h.jobs}` : ""}`;
}

/** START as configured (without the agent's retirement clause), when it is not plainly True. */
function startNote(f: LogFindings): string {
  if (!f.start) return "";
  const own = /^\((.*)\) && \(time\(\) < \d+\)$/.exec(f.start);
  const expr = own ? own[1]! : f.start;
  return /^true$/i.test(expr.trim()) ? "" : `; START = ${expr}`;
}

export function htcondorOutcome(historyText: string, logsText: string, end: PayloadEnd): Outcome {
  const h = summarizeHistory(historyText);
  const f = readLogs(logsText);
  switch (end.kind) {
    case "failed-to-start":
      return /ENOENT|not found|no such file/i.test(end.error)
        ? out(600, "condor_master not found: HTCondor is not installed")
        : out(600, `condor_master could not start: ${end.error}`);
    case "not-ready":
      if (f.authFailure) return out(600, `${end.text}: the collector refused its authentication (${f.authFailure})`);
      if (f.unreachable) return out(end.code, `${end.text} (${f.unreachable})`);
      return out(end.code, end.text);
    case "deadline":
      return out(100, `HTCondor stopped at the VM's deadline (${jobsNote(h)})`);
    case "stopped":
      return out(100, `HTCondor stopped: ${end.reason} (${jobsNote(h)})`);
    case "stalled":
      return out(700, `HTCondor made no progress for ${end.staleSeconds} s (${jobsNote(h)})`);
    case "signaled":
      return out(700, `condor_master was killed by ${end.signal} (${jobsNote(h)})`);
    case "exited":
      // The wrapper that starts the master on a real machine (plan.ts masterArgv) found none.
      if (end.exitCode === 127 && logsText.includes(MASTER_NOT_FOUND)) return out(600, "condor_master not found: HTCondor is not installed");
      if (end.exitCode !== 0) return out(700, `condor_master exited with code ${end.exitCode}${f.masterError ? `: ${f.masterError}` : ""} (${jobsNote(h)})`);
  }
  if (h.completed > 0) {
    return out(200, `HTCondor ran ${plural(h.completed, "job")} to completion${h.nonZeroExits ? ` (${h.nonZeroExits} with a non-zero exit)` : ""}`);
  }
  if (f.authFailure) return out(600, `HTCondor authentication with the collector failed: ${f.authFailure} (${jobsNote(h)})`);
  if (h.held.length > 0) {
    const reason = h.held[h.held.length - 1]!.string("HoldReason") ?? "no HoldReason";
    return out(500, `No HTCondor job completed on this VM: ${plural(h.held.length, "job")} held (${reason})`);
  }
  if (h.jobs > 0) return out(300, `No HTCondor job completed: ${plural(h.jobs, "job")} started and left unfinished`);
  // A startd that shut down idle was in the pool: a passing connection failure is not the story.
  if (f.unreachable && f.idleSeconds === undefined) return out(600, `No HTCondor job to run: collector unreachable (${f.unreachable})`);
  const idle = f.idleSeconds !== undefined ? `: the startd was never claimed in ${f.idleSeconds} s` : "";
  return out(300, `No HTCondor job to run${idle}${startNote(f)}`);
}

/** The outcome from the supervisor's evidence (file tails by machine path) for this action's rule. */
export function htcondorOutcomeFromEvidence(rule: Extract<OutcomeRule, { kind: "htcondor-history" }>, evidence: Record<string, string>, end: PayloadEnd): Outcome {
  return htcondorOutcome(evidence[rule.historyPath] ?? "", rule.logPaths.map((p) => evidence[p] ?? "").join("\n"), end);
}
