// How dirac-pilot.py's end becomes the shutdown code. The pilot exits 0 whether or not a job ran
// (LaunchAgent ends with sys.exit(0)), and several of the old VMs' patterns no longer match
// today's JobAgent (pilots.md 1.5 "Drift"); `Cycle was successful` follows a failed match too, so
// it means nothing. The code comes from today's JobAgent lines (DIRAC JobAgent.py, gLogger format
// `2024-10-17 09:12:01 UTC WorkloadManagement/JobAgent INFO: <message>`), matched as substrings,
// combined with how the process ended.
//
// | log line (substring)                                                   | code | text                                        |
// |------------------------------------------------------------------------|------|---------------------------------------------|
// | failures, in priority order; only those after the last `Received JobID=` count:                                     |
// | `Error while handshaking`, `certificate verify failed`, `Remote certificate hasn` | 500 | Certificate/proxy not acceptable     |
// | `Could not find/set X509_CERT_DIR` (or X509_VOMS_DIR, X509_VOMSES)      | 500  | No CA certificates or VOMS directory for the pilot |
// | `Pilot version mismatch`, `Pilot version does not match`               | 600  | Cannot match jobs with this pilot version   |
// | `will stop with message "Matcher Failed`                               | 600  | Matcher Failed                              |
// | `will stop with message "JDL Problem`                                  | 600  | JDL Problem                                 |
// | `Payload Proxy Not Found`, `Failed to setup proxy`, `Could not retrieve payload proxy` | 600 | Payload Proxy Not Found           |
// | `Problem Rescheduling Job`, `Failed to reschedule job`                 | 600  | Problem Rescheduling Job                    |
// | `Job Rescheduled`, `Failure ==> rescheduling`                          | 600  | Problem so job rescheduled                  |
// | `getopt.GetoptError` (traceback)                                       | 600  | dirac-pilot.py rejected its options         |
// | `No such file or directory: 'pilot.json'`, `KeyError: 'ConfigurationServers'`, `NotImplementedError` (traceback) | 600 | dirac-pilot.py could not start: pilot.json |
// | `Command <X> could not be instantiated`                                | 600  | Pilot command cannot be instantiated        |
// | `Error during a payload execution`, `Payload execution failed with error code` | 700 | Payload execution failed             |
// | `Error during the submission process`, `Error in DIRAC JobWrapper or inner CE execution` | 700 | Job submission to the inner CE failed |
// | verdicts when no failure counts:                                                                                     |
// | `Received JobID=<n>` (at least one)                                    | 200  | Job(s) <n> received and done                |
// | `Node is being drained by an operator` and no job                      | 100  | Drained before a job was matched            |
// | `No more time left` (old: `No time left for slot`) and no job          | 100  | No time left for a job                      |
// | `Job request OK, but no match found` (old: `Job request OK: No match found`) and no job | 300 | Nothing to do: no job matched |
// | `Failed to get jobs`, `Timeout while requesting job` and no job, no "no match" line | 600 | Cannot get jobs from the matcher |
// | `Nothing to do for more than <n> cycles` and no job                    | 300  | Nothing to do                               |
// | none of these                                                          | 700  | (see below)                                 |
//
// With the way the process ended (src/supervise/outcome.ts gives each end its meaning):
// - exited: the log's verdict; without one, 700 naming the exit code and the last exception line;
// - deadline: 100 (the host's limit), unless a 500/600 failure in the log explains the VM's end
//   better (a pilot that failed and then hung); stop request: always 100; the text says which jobs
//   had been received;
// - killed by a signal the agent did not send: the log's failure, else 700;
// - no progress, could not start, never ready: as src/supervise/outcome.ts says.

import type { ShutdownCode } from "../../contract/codes.ts";
import type { Outcome } from "../../stages/finish.ts";
import { payloadOutcome } from "../../supervise/outcome.ts";
import type { PayloadEnd } from "../../supervise/payload-process.ts";

interface FailureRule {
  match: RegExp;
  code: ShutdownCode;
  text: string;
  /** Adds the matched detail (an exit code, an option) to the text. */
  detail?: (m: RegExpMatchArray, line: string) => string;
}

/** Failures in priority order: the first rule with a line after the last received job wins. */
export const FAILURE_RULES: readonly FailureRule[] = [
  { match: /Error while handshaking|certificate verify failed|Remote certificate hasn/, code: 500, text: "Certificate/proxy not acceptable" },
  { match: /Could not find\/set (X509_CERT_DIR|X509_VOMS_DIR|X509_VOMSES)/, code: 500, text: "No CA certificates or VOMS directory for the pilot", detail: (m) => m[1]! },
  { match: /Pilot version mismatch|Pilot version does not match/, code: 600, text: "Cannot match jobs with this pilot version" },
  { match: /will stop with message "Matcher Failed/, code: 600, text: "Matcher Failed" },
  { match: /will stop with message "JDL Problem/, code: 600, text: "JDL Problem" },
  { match: /Payload Proxy Not Found|Failed to setup proxy|Could not retrieve payload proxy/, code: 600, text: "Payload Proxy Not Found" },
  { match: /Problem Rescheduling Job|Failed to reschedule job/, code: 600, text: "Problem Rescheduling Job" },
  { match: /Job Rescheduled|Failure ==> rescheduling/, code: 600, text: "Problem so job rescheduled" },
  { match: /getopt\.GetoptError: (.*)$/, code: 600, text: "dirac-pilot.py rejected its options", detail: (m) => m[1]!.trim() },
  {
    match: /FileNotFoundError: .*'(pilot\.json|[^']*\.json)'|KeyError: '(ConfigurationServers)'|^(NotImplementedError)\b/,
    code: 600,
    text: "dirac-pilot.py could not start",
    detail: (m) => (m[1] ? `${m[1]} missing` : m[2] ? "pilot.json has no ConfigurationServers" : "no VO (--wnVO) and none in the proxy"),
  },
  { match: /Command (\S+) could not be instantiated/, code: 600, text: "Pilot command cannot be instantiated", detail: (m) => m[1]! },
  { match: /Error during a payload execution|Payload execution failed with error code ?(\d+)?/, code: 700, text: "Payload execution failed", detail: (m) => (m[1] ? `error code ${m[1]}` : "") },
  { match: /Error during the submission process|Error in DIRAC JobWrapper or inner CE execution/, code: 700, text: "Job submission to the inner CE failed" },
];

const RECEIVED = /\bReceived JobID=([^,\s]+)/;
const DRAINED = /Node is being drained by an operator/;
const NO_TIME = /No more time left|No time left for slot/;
const NO_MATCH = /Job request OK, but no match found|Job request OK: No match found/;
const GET_FAILED = /Failed to get jobs|Timeout while requesting job/;
const NOTHING_TO_DO = /Nothing to do for more than/;
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(Error|Exception|Exit)): ?(.*)$/;

export interface PilotLogEvidence {
  jobs: string[];
  failure: Outcome | null;
  drained: boolean;
  noTime: boolean;
  noMatch: boolean;
  getFailed: boolean;
  nothingToDo: boolean;
  /** The last Python exception line (`KeyError: 'x'`), for a crash without a known pattern. */
  lastException: string | null;
}

/** What the JobAgent lines say; only lines after the last received job count for failures and verdicts. */
export function readPilotLog(logText: string): PilotLogEvidence {
  const lines = logText.split(/\r?\n/);
  let lastJob = -1;
  const jobs: string[] = [];
  let lastException: string | null = null;
  lines.forEach((line, i) => {
    const m = RECEIVED.exec(line);
    if (m) {
      jobs.push(m[1]!);
      lastJob = i;
    }
    const ex = EXCEPTION_LINE.exec(line.trim());
    if (ex) lastException = line.trim();
  });
  const after = lines.slice(lastJob + 1);
  let failure: Outcome | null = null;
  for (const rule of FAILURE_RULES) {
    for (const line of after) {
      const m = line.trim().match(rule.match);
      if (!m) continue;
      const detail = rule.detail?.(m, line) ?? "";
      failure = { code: rule.code, text: detail ? `${rule.text}: ${detail}` : rule.text };
      break;
    }
    if (failure) break;
  }
  const any = (re: RegExp) => after.some((l) => re.test(l));
  return {
    jobs,
    failure,
    drained: any(DRAINED),
    noTime: any(NO_TIME),
    noMatch: any(NO_MATCH),
    getFailed: any(GET_FAILED),
    nothingToDo: any(NOTHING_TO_DO),
    lastException,
  };
}

const jobList = (jobs: string[]): string => {
  const shown = jobs.slice(-3).join(", ");
  return jobs.length > 3 ? `${jobs.length} jobs (last ${shown})` : `${jobs.length === 1 ? "Job" : "Jobs"} ${shown}`;
};

/** The log's verdict, or null when it has none. */
export function logVerdict(e: PilotLogEvidence): Outcome | null {
  if (e.failure) return e.failure;
  if (e.jobs.length) {
    const how = e.drained ? ", then drained" : e.noTime ? ", then no time left" : "";
    return { code: 200, text: `${jobList(e.jobs)} received and done${how}` };
  }
  if (e.drained) return { code: 100, text: "Drained before a job was matched" };
  if (e.noTime) return { code: 100, text: "No time left for a job" };
  if (e.noMatch) return { code: 300, text: "Nothing to do: no job matched" };
  if (e.getFailed) return { code: 600, text: "Cannot get jobs from the matcher" };
  if (e.nothingToDo) return { code: 300, text: "Nothing to do" };
  return null;
}

export function diracOutcome(logText: string, end: PayloadEnd): Outcome {
  const e = readPilotLog(logText);
  const verdict = logVerdict(e);
  const base = payloadOutcome("dirac-pilot.py", { end, exitCode: null, signal: null, durationMs: 0, ranAs: "" });
  const jobsSoFar = e.jobs.length ? ` after ${e.jobs.length === 1 ? "job" : "jobs"} ${e.jobs.slice(-3).join(", ")}` : ", no job received";
  switch (end.kind) {
    case "exited": {
      if (verdict) {
        return end.exitCode !== 0 && verdict.code === 200 ? { code: 200, text: `${verdict.text} (dirac-pilot.py exited with code ${end.exitCode})` } : verdict;
      }
      if (end.exitCode === 0) return { code: 700, text: "dirac-pilot.py exited 0 without a JobAgent verdict (no job received, no match reported)" };
      const why = end.exitCode === 255 ? ": a pilot command could not be run" : e.lastException ? `: ${e.lastException}` : "";
      return { code: 700, text: `dirac-pilot.py exited with code ${end.exitCode}${why}` };
    }
    case "deadline":
      // A pilot that already failed for a site or grid reason and then sat until the deadline.
      if (e.failure && e.failure.code !== 700) return e.failure;
      return { code: 100, text: `${base.text}${jobsSoFar}` };
    case "stopped":
      return { code: 100, text: `${base.text}${jobsSoFar}` };
    case "signaled":
      return e.failure ?? base;
    default:
      return base;
  }
}
