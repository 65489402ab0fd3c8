// The executor's side of the pilot actions on a real directory: only include_vm_*.sh hooks a
// checksums.sha512 vouched for (and that still match it) run, with the planned environment; a
// failing hook is a 600; pilot.json failures are 600 naming the JSON path.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ActionFailure } from "../../src/exec/action-failure.ts";
import { performCheckPilotJson, performRunPilotHooks } from "../../src/exec/pilot-actions.ts";
import { runCommand } from "../../src/exec/runner.ts";
import { RECORD_NAME, recordText, type RecordedFile } from "../../src/pilot/record.ts";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";

let root: string;
const lines: string[] = [];
const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) } as never;
const at = (p: string) => join(root, p);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "pilot-actions-"));
  mkdirSync(join(root, "pilot"));
  lines.length = 0;
  allowSubprocess(["sh"]);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function publish(files: Record<string, string>, verified: string[]): void {
  const recorded: RecordedFile[] = [];
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(root, "pilot", name), text);
    recorded.push({ name, bytes: Buffer.byteLength(text), sha512: createHash("sha512").update(text).digest("hex"), verified: verified.includes(name) });
  }
  writeFileSync(join(root, "pilot", RECORD_NAME), recordText({ version: 1, url: "https://pilots.example/lhcb/", source: "manifest", files: recorded }));
}

const hooks = (timeoutSeconds = 10) => ({ kind: "run-pilot-hooks" as const, dir: "/pilot", env: { VO: "lhcb" }, timeoutSeconds, why: "t" });

describe("performRunPilotHooks", () => {
  it("runs only the covered hooks, in name order, with the planned environment", async () => {
    publish(
      {
        "include_vm_b.sh": `echo "b $VO" >> "${root}/ran"\n`,
        "include_vm_a.sh": `echo "a $VO" >> "${root}/ran"\n`,
        "include_vm_evil.sh": `echo evil >> "${root}/ran"\n`,
        "dirac-pilot.py": "print(1)\n",
      },
      ["include_vm_a.sh", "include_vm_b.sh", "dirac-pilot.py"],
    );
    const r = await performRunPilotHooks(hooks(), at, runCommand, undefined, log);
    expect(readFileSync(join(root, "ran"), "utf8")).toBe("a lhcb\nb lhcb\n");
    expect(r.detail).toBe("ran include_vm_a.sh, include_vm_b.sh");
    expect(lines).toContain("warn pilot hook include_vm_evil.sh not run: checksums.sha512 does not cover it");
  });

  it("a covered hook changed after the download no longer runs", async () => {
    publish({ "include_vm_a.sh": `touch "${root}/ran"\n` }, ["include_vm_a.sh"]);
    writeFileSync(join(root, "pilot/include_vm_a.sh"), `touch "${root}/ran"; echo changed\n`);
    await performRunPilotHooks(hooks(), at, runCommand, undefined, log);
    expect(existsSync(join(root, "ran"))).toBe(false);
  });

  it("a failing hook fails the action with 600, naming it", async () => {
    publish({ "include_vm_a.sh": "exit 3\n" }, ["include_vm_a.sh"]);
    const err = await performRunPilotHooks(hooks(), at, runCommand, undefined, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionFailure);
    expect((err as ActionFailure).code).toBe(600);
    expect((err as Error).message).toMatch(/^pilot hook include_vm_a\.sh failed: /);
  });
});

describe("performCheckPilotJson", () => {
  const check = { kind: "check-pilot-json" as const, path: "/pilot/pilot.json", ce: "vac01.example", queue: "default", vo: "lhcb", why: "t" };
  it("a missing pilot.json is a 600", () => {
    expect(() => performCheckPilotJson(check, at, log)).toThrow(/^Bad pilot.json: cannot read \/pilot\/pilot.json \(ENOENT\)$/);
  });
  it("a pilot.json of the wrong shape is a 600 naming the JSON path", () => {
    writeFileSync(join(root, "pilot/pilot.json"), JSON.stringify({ CEs: { "vac01.example": { Site: "VAC.Example.uk", GridCEType: "Vac" } }, Setups: [] }));
    let err: unknown;
    try {
      performCheckPilotJson(check, at, log);
    } catch (e) {
      err = e;
    }
    expect((err as ActionFailure).code).toBe(600);
    expect((err as Error).message).toBe("Bad pilot.json: Setups: expected an object of setups (old schema), found a list");
  });
});
