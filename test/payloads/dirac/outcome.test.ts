import { describe, expect, it } from "vitest";
import { diracOutcome, readPilotLog } from "../../../src/payloads/dirac/outcome.ts";
import type { PayloadEnd } from "../../../src/supervise/payload-process.ts";

// JobAgent lines as DIRAC's gLogger prints them (DIRAC JobAgent.py messages).
const ja = (level: string, msg: string, t = "09:12:01") => `2024-10-17 ${t} UTC WorkloadManagement/JobAgent ${level}: ${msg}`;
const PILOT_START = [
  "2024-10-17T09:10:00.123456Z INFO [Pilot] Executing commands: ['CheckWorkerNode', 'InstallDIRAC', 'ConfigureBasics', 'LaunchAgent']",
  ja("INFO", "CGroup2 support unavailable: not a cgroup2 system", "09:11:58"),
  ja("INFO", "Requirements: {'OwnerGroup': 'lhcb_user'}", "09:11:59"),
];
const RECEIVED = ja("INFO", "Received JobID=123456789, JobType=User, Owner=auser, JobGroup=00012345");
const SUBMITTED = ja("INFO", "Job being submitted (DIRAC JobID: 123456789; Task ID: 0)");
const CYCLE_OK = ja("NOTICE", "Cycle was successful", "09:40:00");
const stop = (msg: string) => ja("INFO", `JobAgent will stop with message "${msg}", execution complete.`, "09:40:01");
const log = (...lines: string[]) => [...PILOT_START, ...lines].join("\n");
const exited = (exitCode = 0): PayloadEnd => ({ kind: "exited", exitCode });

describe("one JobAgent log line -> code (exit 0)", () => {
  it.each([
    ["a job received and done", [RECEIVED, SUBMITTED, CYCLE_OK], 200, "Job 123456789 received and done"],
    ["a job, then drained", [RECEIVED, SUBMITTED, stop("Node is being drained by an operator")], 200, "Job 123456789 received and done, then drained"],
    ["a job, then no more time (filling mode)", [RECEIVED, ja("INFO", "normalized CPU units remaining in slot 4000"), stop("No more time left")], 200, "then no time left"],
    ["a job, then nothing to do", [RECEIVED, ja("NOTICE", "Job request OK, but no match found No match found", "09:41:00"), stop("Nothing to do for more than 0 cycles")], 200, "Job 123456789 received"],
    ["no match, then Cycle was successful (not a success)", [ja("NOTICE", "Job request OK, but no match found No match found"), stop("Nothing to do for more than 0 cycles"), CYCLE_OK], 300, "Nothing to do: no job matched"],
    ["old no-match wording", [ja("INFO", "Job request OK: No match found")], 300, "Nothing to do: no job matched"],
    ["only Nothing to do", [stop("Nothing to do for more than 10 cycles")], 300, "Nothing to do"],
    ["drained, no job", [stop("Node is being drained by an operator")], 100, "Drained before a job was matched"],
    ["no more time, no job", [stop("No more time left")], 100, "No time left for a job"],
    ["old no-time wording", [ja("INFO", 'JobAgent will stop with message "No time left for slot", execution complete.')], 100, "No time left for a job"],
    ["version mismatch (today)", [ja("ERROR", "Pilot version mismatch Pilot version does not match the production version v8r0 vs v9r0"), stop("Pilot version does not match the production version")], 600, "Cannot match jobs with this pilot version"],
    ["version mismatch (old wording)", [ja("ERROR", "Pilot version does not match the production version v7 vs v8")], 600, "Cannot match jobs with this pilot version"],
    ["matcher failed", [RECEIVED.replace("Received", "Matcher returned"), stop("Matcher Failed")], 600, "Matcher Failed"],
    ["JDL problem", [ja("WARN", "Could Not Extract JDL Parameters Exception while extracting JDL parameters for job"), stop("JDL Problem")], 600, "JDL Problem"],
    ["payload proxy not found", [RECEIVED, ja("ERROR", "Invalid proxy Payload Proxy Not Found"), stop("Payload Proxy Not Found")], 600, "Payload Proxy Not Found"],
    ["proxy setup failed", [RECEIVED, ja("ERROR", "Failed to setup proxy Error retrieving proxy"), ja("WARN", "Failure ==> rescheduling (during Failed to setup proxy: Error retrieving proxy)")], 600, "Payload Proxy Not Found"],
    ["rescheduling failed", [RECEIVED, ja("WARN", "Failure ==> rescheduling (during x)"), ja("ERROR", "Failed to reschedule job Server unreachable"), stop("Problem Rescheduling Job")], 600, "Problem Rescheduling Job"],
    ["job rescheduled", [RECEIVED, ja("WARN", "Failure ==> rescheduling (during Job submission failed: x)"), ja("INFO", "Job Rescheduled 123456789"), stop("Job Rescheduled")], 600, "Problem so job rescheduled"],
    ["payload failed (today)", [RECEIVED, SUBMITTED, ja("INFO", "Payload execution failed with error code 2"), stop("Error during a payload execution")], 700, "Payload execution failed: error code 2"],
    ["inner CE submission failed", [RECEIVED, ja("ERROR", "Error in DIRAC JobWrapper or inner CE execution: Singularity not found"), stop("Error during the submission process")], 700, "Job submission to the inner CE failed"],
    ["TLS handshake refused", [ja("ERROR", `Error while handshaking [("Remote certificate hasn't been accepted")]`)], 500, "Certificate/proxy not acceptable"],
    ["CA verification failed", [ja("ERROR", "Failed to get jobs [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate")], 500, "Certificate/proxy not acceptable"],
    ["matcher unreachable, no match line", [ja("NOTICE", "Failed to get jobs Cannot connect to dips://wms.example.org:9170/WorkloadManagement/Matcher"), stop("Nothing to do for more than 0 cycles")], 600, "Cannot get jobs from the matcher"],
    ["matcher timeout", [ja("ERROR", "Timeout while requesting job 120 seconds timeout")], 600, "Cannot get jobs from the matcher"],
    ["a failure before a later job does not count", [ja("ERROR", "Pilot version mismatch transient"), RECEIVED, CYCLE_OK], 200, "Job 123456789 received and done"],
    ["several jobs (Pool)", [RECEIVED, RECEIVED.replace("123456789", "123456790"), stop("Node is being drained by an operator")], 200, "Jobs 123456789, 123456790 received and done, then drained"],
  ])("%s -> %i", (_n, lines, code, text) => {
    const o = diracOutcome(log(...lines), exited(0));
    expect(o.code).toBe(code);
    expect(o.text).toContain(text);
  });
});

describe("start-up failures on stderr (tracebacks) with exit 1", () => {
  const tb = (...last: string[]) => ["Traceback (most recent call last):", '  File "/scratch/dirac/pilot/dirac-pilot.py", line 42, in <module>', "    pilotParams = PilotParams()", ...last].join("\n");
  it.each([
    ["unknown option", tb('    raise GetoptError(_("option --%s not recognized") % opt, opt)', "getopt.GetoptError: option --pythonVersion not recognized"), 600, "dirac-pilot.py rejected its options: option --pythonVersion not recognized"],
    ["pilot.json missing", tb("FileNotFoundError: [Errno 2] No such file or directory: 'pilot.json'"), 600, "dirac-pilot.py could not start: pilot.json missing"],
    ["no ConfigurationServers", tb("KeyError: 'ConfigurationServers'"), 600, "pilot.json has no ConfigurationServers"],
    ["VO from a host certificate", tb("NotImplementedError: Something went very wrong"), 600, "no VO (--wnVO)"],
    ["no CA directory", "2024-10-17T09:10:01.000Z ERROR [Pilot] Could not find/set X509_CERT_DIR", 500, "No CA certificates or VOMS directory for the pilot: X509_CERT_DIR"],
    ["command not instantiated", "2024-10-17T09:10:01.000Z ERROR [Pilot] Command LHCbInstallDIRAC could not be instantiated", 600, "Pilot command cannot be instantiated: LHCbInstallDIRAC"],
    ["an unknown crash", tb("ZeroDivisionError: division by zero"), 700, "dirac-pilot.py exited with code 1: ZeroDivisionError: division by zero"],
  ])("%s", (_n, text, code, message) => {
    const o = diracOutcome(text, exited(1));
    expect(o.code).toBe(code);
    expect(o.text).toContain(message);
  });
});

describe("combined with how the process ended", () => {
  const DEADLINE: PayloadEnd = { kind: "deadline", at: 1_790_003_600 };
  it.each<[string, string, PayloadEnd, number, string]>([
    ["exit 0, no verdict", log(), exited(0), 700, "exited 0 without a JobAgent verdict"],
    ["exit 3, no verdict", log(), exited(3), 700, "dirac-pilot.py exited with code 3"],
    ["exit 255: a command could not run", log(), exited(255), 700, "exited with code 255: a pilot command could not be run"],
    ["job done but non-zero exit", log(RECEIVED, CYCLE_OK), exited(1), 200, "received and done (dirac-pilot.py exited with code 1)"],
    ["deadline while a job ran", log(RECEIVED, SUBMITTED), DEADLINE, 100, "stopped at the VM's deadline (2026-09-21T15:13:20Z) after job 123456789"],
    ["deadline, nothing received", log(), DEADLINE, 100, "no job received"],
    ["deadline after a version mismatch (a hung pilot)", log(ja("ERROR", "Pilot version mismatch x")), DEADLINE, 600, "Cannot match jobs with this pilot version"],
    ["deadline after a payload failure stays 100", log(RECEIVED, stop("Error during a payload execution")), DEADLINE, 100, "after job 123456789"],
    ["stop request (ACPI) is always 100", log(ja("ERROR", "Pilot version mismatch x")), { kind: "stopped", reason: "SIGTERM received" }, 100, "stopped: SIGTERM received, no job received"],
    ["killed by a foreign signal, log failure wins", log(RECEIVED, stop("Error during a payload execution")), { kind: "signaled", signal: "SIGKILL" }, 700, "Payload execution failed"],
    ["killed by a foreign signal, nothing in the log", log(), { kind: "signaled", signal: "SIGSEGV" }, 700, "killed by SIGSEGV"],
    ["could not start", "", { kind: "failed-to-start", error: "spawn python3 ENOENT" }, 600, "could not start: spawn python3 ENOENT"],
    ["not ready", "", { kind: "not-ready", code: 500, text: "probe failed" }, 500, "probe failed"],
  ])("%s", (_n, text, end, code, message) => {
    const o = diracOutcome(text, end);
    expect(o.code).toBe(code);
    expect(o.text).toContain(message);
  });
});

describe("readPilotLog", () => {
  it("collects every received job id and the last exception line", () => {
    const e = readPilotLog([RECEIVED, RECEIVED.replace("123456789", "42"), "ValueError: bad"].join("\n"));
    expect(e.jobs).toEqual(["123456789", "42"]);
    expect(e.lastException).toBe("ValueError: bad");
  });
  it("handles CRLF and an empty log", () => {
    expect(readPilotLog(`${RECEIVED}\r\n${stop("No more time left")}\r\n`)).toMatchObject({ jobs: ["123456789"], noTime: true });
    expect(readPilotLog("")).toMatchObject({ jobs: [], failure: null });
  });
});
