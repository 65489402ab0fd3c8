// Smoke tests of the compiled binaries: what only shows once bun has compiled the code
// (version constants, argv layout, .env / bunfig.toml autoload, target architecture).
// scripts/test.sh always builds first; a bare `vitest run` without dist/ skips them.

import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AGENT_ARM64_BINARY, AGENT_BINARY, hasAgentBinary, runAgent } from "./run-binary.ts";

const packageVersion = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;
// `agent 0.1.0 (commit 0123456789ab)`; "unknown" when built outside a git checkout.
const VERSION_LINE = /^agent (\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?) \(commit ([0-9a-f]{7,40}|unknown)\)\n$/;

/** e_machine of an ELF file (offset 18, little-endian), after checking magic, 64-bit and LE. */
function elfMachine(path: string): number {
  const header = Buffer.alloc(20);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  expect(header[4]).toBe(2); // ELFCLASS64
  expect(header[5]).toBe(1); // ELFDATA2LSB
  return header.readUInt16LE(18);
}

const hasStrace = spawnSync("strace", ["-qq", "-e", "trace=none", "true"]).status === 0;

describe.skipIf(!hasAgentBinary())("dist/agent (compiled)", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A working directory holding a .env and a bunfig.toml that would change the binary if loaded. */
  function hostileCwd(): string {
    const dir = mkdtempSync(join(tmpdir(), "agent-cwd-"));
    dirs.push(dir);
    writeFileSync(join(dir, ".env"), "FOO=from-dotenv\nAGENT_DOTENV_PROBE=1\n");
    // If bun honoured this, the binary would exit 1 with "preload not found".
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./does-not-exist-preload.ts"]\n');
    return dir;
  }

  it.each([[["--version"]], [["--version", "extra"]]])("%j prints the version line and exits 0", async (args) => {
    const r = await runAgent(args);
    expect(r).toMatchObject({ exitCode: 0, stderr: "", timedOut: false });
    const m = VERSION_LINE.exec(r.stdout);
    expect(m, `stdout was ${JSON.stringify(r.stdout)}`).not.toBeNull();
    // The version is baked in by --define from package.json, not the vitest fallback.
    expect(m![1]).toBe(packageVersion);
  });

  it("ignores a .env and a bunfig.toml preload in its working directory", async () => {
    const r = await runAgent(["--version"], { cwd: hostileCwd() });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(VERSION_LINE);
  });

  // --version cannot show process.env, so watch the file system calls instead: a binary built
  // without --no-compile-autoload-{dotenv,bunfig} opens both files at start (checked by hand).
  it.skipIf(!hasStrace)("does not even open .env or bunfig.toml (strace)", () => {
    const cwd = hostileCwd();
    const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=%file", AGENT_BINARY, "--version"], {
      cwd,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(VERSION_LINE);
    const touched = r.stderr.split("\n").filter((line) => /"(?:[^"]*\/)?(?:\.env[^"]*|bunfig\.toml)"/.test(line));
    expect(touched).toEqual([]);
  });

  it.each([
    [AGENT_BINARY, 62, "x86-64"],
    [AGENT_ARM64_BINARY, 183, "aarch64"],
  ])("%s is an ELF executable for e_machine %i (%s)", (path, machine) => {
    expect(elfMachine(path)).toBe(machine);
  });
});
