// The wrapper that starts condor_master on a real machine (src/payloads/htcondor/plan.ts
// masterArgv), run for real with stand-in programs on PATH: under systemd it must hand the master
// to `systemd-run --scope` with Delegate=yes, otherwise start it directly, in both cases by exec
// (the supervisor's child must stay the master: its signals and exit status); without a master it
// says so and exits 127, which the outcome turns into "HTCondor is not installed".

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { htcondorOutcome } from "../../../src/payloads/htcondor/outcome.ts";
import { masterArgv } from "../../../src/payloads/htcondor/plan.ts";
import { allowSubprocess } from "../../setup/forbid-subprocess.ts";
import { makeContext } from "../../support/context.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "htc-master-argv-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in program that prints its name, arguments and PID; systemd-run then runs what follows `--`. */
function stub(bin: string, name: string): void {
  const body =
    name === "systemd-run"
      ? `#!/bin/sh\necho "systemd-run pid $$: $*"\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n`
      : `#!/bin/sh\necho "${name} pid $$: $*"\nexit 3\n`;
  writeFileSync(join(bin, name), body);
  chmodSync(join(bin, name), 0o755);
}

/** Runs the planned argv as the supervisor would (no shell around it), with PATH = only the stand-ins (this host has a systemd-run of its own). */
function run(programs: string[], systemd: boolean): { status: number | null; stdout: string; stderr: string; shPid: string } {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const p of programs) stub(bin, p);
  const booted = join(dir, "run-systemd-system");
  if (systemd) mkdirSync(booted, { recursive: true });
  const argv = masterArgv(makeContext({ config: { payload: { type: "htcondor", htcondor: { collector: "cm" } } } }));
  // The real marker directory is an argument of the script: the test points it at its own.
  expect(argv.at(-1)).toBe("/run/systemd/system");
  const args = [...argv.slice(1, -1), booted];
  // `exec` keeps one PID from sh to the master: the wrapper's own $$ is printed first via a prelude.
  expect(argv[0]).toBe("sh");
  const r = spawnSync("/bin/sh", ["-c", `echo "sh pid $$"; ${args[1]}`, ...args.slice(2)], { encoding: "utf8", env: { PATH: bin } });
  const shPid = /^sh pid (\d+)$/m.exec(r.stdout)?.[1] ?? "?";
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, shPid };
}

describe("masterArgv's wrapper, run for real", () => {
  it("under systemd: systemd-run --scope with Delegate=yes, then the master, all in the wrapper's process", () => {
    allowSubprocess(["sh"]);
    const r = run(["systemd-run", "condor_master"], true);
    expect(r.stdout).toContain(`systemd-run pid ${r.shPid}: --scope --slice=system.slice --property=Delegate=yes --unit=vacuum-agent-htcondor-${r.shPid} -- condor_master -f`);
    expect(r.stdout).toContain(`condor_master pid ${r.shPid}: -f`);
    // The master's exit status is the wrapper's.
    expect(r.status).toBe(3);
  });

  it.each([
    ["no systemd (PID 1 is something else)", ["systemd-run", "condor_master"], false],
    ["systemd without systemd-run", ["condor_master"], true],
  ])("%s: the master directly, in the wrapper's process", (_n, programs, systemd) => {
    allowSubprocess(["sh"]);
    const r = run(programs as string[], systemd as boolean);
    expect(r.stdout).not.toContain("systemd-run pid");
    expect(r.stdout).toContain(`condor_master pid ${r.shPid}: -f`);
    expect(r.status).toBe(3);
  });

  it("no condor_master: exit 127 with words the outcome reads as 'not installed'", () => {
    allowSubprocess(["sh"]);
    const r = run(["systemd-run"], true);
    expect(r.status).toBe(127);
    expect(r.stdout).not.toContain("systemd-run pid");
    expect(htcondorOutcome("", r.stderr, { kind: "exited", exitCode: 127 })).toEqual({ code: 600, text: "condor_master not found: HTCondor is not installed" });
  });
});
