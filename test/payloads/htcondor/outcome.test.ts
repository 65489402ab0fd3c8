import { describe, expect, it } from "vitest";
import type { PayloadEnd } from "../../../src/supervise/payload-process.ts";
import { htcondorOutcome, htcondorOutcomeFromEvidence, readLogs, summarizeHistory } from "../../../src/payloads/htcondor/outcome.ts";

const ad = (id: number, status: number, extra = "") => `ClusterId = ${id}\nGlobalJobId = "cm#${id}.0"\nJobStatus = ${status}\n${extra}*** Offset = 0 ClusterId = ${id} ProcId = 0\n`;
const EXIT0: PayloadEnd = { kind: "exited", exitCode: 0 };
const IDLE = "11/22/26 05:50:06 No resources have been claimed for 20 seconds\n11/22/26 05:50:06 Shutting down Condor on this machine.\n";
const AUTH = "11/22/26 05:56:14 ERROR: AUTHENTICATE:1003:Failed to authenticate with any method|AUTHENTICATE:1004:Failed to authenticate using IDTOKENS\n";
const REFUSED = "11/22/26 05:56:31 attempt to connect to <127.0.0.1:19799> failed: Connection refused (connect errno = 111).\n11/22/26 05:56:32 ERROR: SECMAN:2003:TCP connection to collector 127.0.0.1:19799 failed.\n";
const NOT_READY: PayloadEnd = { kind: "not-ready", code: 600, text: "Collector cm unreachable: startd not visible after 300 s" };

describe("htcondorOutcome", () => {
  it.each<[string, string, string, PayloadEnd, number, string]>([
    ["a completed job", ad(1, 4, "ExitCode = 0\n"), IDLE, EXIT0, 200, "HTCondor ran 1 job to completion"],
    ["jobs with non-zero exits still completed", ad(1, 4, "ExitCode = 1\n") + ad(2, 4, "ExitCode = 0\n"), IDLE, EXIT0, 200, "HTCondor ran 2 jobs to completion (1 with a non-zero exit)"],
    ["the same job twice counts once", ad(1, 4) + ad(1, 4), "", EXIT0, 200, "HTCondor ran 1 job to completion"],
    ["no job, idle shutdown", "", IDLE, EXIT0, 300, "No HTCondor job to run: the startd was never claimed in 20 s"],
    ["no job, START not True", "", IDLE + "START = (Owner == \"x\") && (time() < 1790003600)\n", EXIT0, 300, 'No HTCondor job to run: the startd was never claimed in 20 s; START = Owner == "x"'],
    ["no job, START True with the retirement clause", "", IDLE + "START = (True) && (time() < 1790003600)\n", EXIT0, 300, "No HTCondor job to run: the startd was never claimed in 20 s"],
    ["held jobs only: the VM fails them", ad(1, 5, 'HoldReason = "Failed to execute"\n'), IDLE, EXIT0, 500, "No HTCondor job completed on this VM: 1 job held (Failed to execute)"],
    ["jobs evicted, none completed", ad(1, 1), IDLE, EXIT0, 300, "No HTCondor job completed: 1 job started and left unfinished"],
    ["authentication failures and no job", "", AUTH, EXIT0, 600, "HTCondor authentication with the collector failed: Failed to authenticate using IDTOKENS (no job ran)"],
    ["a completed job wins over a passing auth failure", ad(1, 4), AUTH, EXIT0, 200, "HTCondor ran 1 job to completion"],
    ["collector unreachable, never idle", "", REFUSED, EXIT0, 600, "No HTCondor job to run: collector unreachable (Connection refused at 127.0.0.1:19799)"],
    ["not ready, auth failure in the logs", "", AUTH, NOT_READY, 600, "Collector cm unreachable: startd not visible after 300 s: the collector refused its authentication (Failed to authenticate using IDTOKENS)"],
    ["not ready, refused", "", REFUSED, NOT_READY, 600, "Collector cm unreachable: startd not visible after 300 s (Connection refused at 127.0.0.1:19799)"],
    ["not ready, nothing in the logs", "", "", NOT_READY, 600, "Collector cm unreachable: startd not visible after 300 s"],
    ["deadline", ad(1, 4), "", { kind: "deadline", at: 1790000000 }, 100, "HTCondor stopped at the VM's deadline (1 job completed)"],
    ["stop request", "", "", { kind: "stopped", reason: "SIGTERM" }, 100, "HTCondor stopped: SIGTERM (no job ran)"],
    ["master died", ad(1, 4), '11/22/26 05:49:00 ERROR "Cannot open log file \'/x/MasterLog\'" at line 174\n', { kind: "exited", exitCode: 4 }, 700, "condor_master exited with code 4: Cannot open log file '/x/MasterLog' (1 job completed)"],
    ["master cannot open its log (stderr)", "", `ERROR "Cannot open log file '/var/lib/vacuum-agent/condor/log/MasterLog'" at line 173 in file ./src/condor_utils/dprintf_setup.cpp`, { kind: "exited", exitCode: 4 }, 700, "condor_master exited with code 4: Cannot open log file '/var/lib/vacuum-agent/condor/log/MasterLog' (no job ran)"],
    ["master killed", "", "", { kind: "signaled", signal: "SIGKILL" }, 700, "condor_master was killed by SIGKILL (no job ran)"],
    ["HTCondor not installed", "", "", { kind: "failed-to-start", error: "spawn condor_master ENOENT" }, 600, "condor_master not found: HTCondor is not installed"],
    ["cannot start otherwise", "", "", { kind: "failed-to-start", error: "EACCES" }, 600, "condor_master could not start: EACCES"],
    ["HTCondor not installed, seen by the start wrapper", "", "condor_master not found on PATH\n", { kind: "exited", exitCode: 127 }, 600, "condor_master not found: HTCondor is not installed"],
    ["exit 127 without the wrapper's words is the master's own", "", "", { kind: "exited", exitCode: 127 }, 700, "condor_master exited with code 127 (no job ran)"],
  ])("%s", (_n, history, logs, end, code, text) => {
    expect(htcondorOutcome(history, logs, end)).toEqual({ code, text });
  });

  it("takes the history and the logs from the supervisor's evidence by path", () => {
    const rule = { kind: "htcondor-history" as const, historyPath: "/h", logPaths: ["/a", "/b"] };
    expect(htcondorOutcomeFromEvidence(rule, { "/h": "", "/a": "", "/b": IDLE }, EXIT0)).toEqual({ code: 300, text: "No HTCondor job to run: the startd was never claimed in 20 s" });
    expect(htcondorOutcomeFromEvidence(rule, {}, EXIT0).code).toBe(300);
  });

  it("summarizes and reads without throwing on garbage", () => {
    expect(summarizeHistory("\u0000\u0001 not an ad\n***\n")).toEqual({ jobs: 0, completed: 0, nonZeroExits: 0, held: [] });
    expect(readLogs("random text")).toEqual({});
  });
});
