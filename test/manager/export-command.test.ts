// `manager export` with agents and pilot directories: the same files `manager serve` publishes,
// checked with the real sha256sum and sha512sum; a template needing per-VM values is refused.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { exportCommand } from "../../src/manager/export-command.ts";
import { parseManagerOptions } from "../../src/manager/options.ts";
import { makeDefinitionDir, type DefinitionDir } from "./serve/definition-dir.ts";

let defs: DefinitionDir;
let out: string;
beforeEach(() => {
  defs = makeDefinitionDir();
  writeFileSync(join(defs.dir, "agent-bin"), "ELF agent");
  mkdirSync(join(defs.dir, "pilot"));
  writeFileSync(join(defs.dir, "pilot", "dirac-pilot.py"), "print('pilot')\n");
  writeFileSync(join(defs.dir, "pilot", "pilot.json"), "{}\n");
  defs.write((d) => {
    d.agents = { agent: "agent-bin" };
    d.pilot_directories = { dirac: "pilot" };
  });
  out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  defs.cleanup();
});

const run = (dir: string) => exportCommand(parseManagerOptions(["export", defs.file, dir]));

describe("manager export", () => {
  it("writes agents with their .sha256 and pilot directories with checksums.sha512 and index.html", async () => {
    const dir = join(defs.dir, "www");
    writeFileSync(join(defs.dir, "command.template"), "#!/bin/sh\n# {{vacuum.agent_url}} {{vacuum.agent_sha256}}\n");
    expect(await run(dir)).toBe(0);
    expect(readFileSync(join(dir, "agents/agent"), "utf8")).toBe("ELF agent");
    expect(statSync(join(dir, "agents/agent")).mode & 0o777).toBe(0o755);
    execFileSync("sha256sum", ["-c", "agent.sha256"], { cwd: join(dir, "agents") });
    execFileSync("sha512sum", ["-c", "--strict", "checksums.sha512"], { cwd: join(dir, "pilots/dirac") });
    expect(readFileSync(join(dir, "pilots/dirac/index.html"), "utf8")).toContain('<a href="dirac-pilot.py">');
    const template = readFileSync(join(dir, "user_data/example-command.template"), "utf8");
    expect(template).toMatch(/^#!\/bin\/sh\n# https:\/\/vacuum\.example\.org\/example\/agents\/agent [0-9a-f]{64}\n$/);
  });

  it("refuses a template with per-VM placeholders and leaves DIR untouched", async () => {
    const dir = join(defs.dir, "www");
    writeFileSync(join(defs.dir, "command.template"), "token={{vacuum.vm_token}}\n");
    expect(await run(dir)).toBe(1);
    expect(existsSync(dir)).toBe(false);
    expect(out).toContain("a static export cannot give each VM its own id and token");
  });
});
