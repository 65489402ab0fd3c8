// Inputs for the black-box tests of dist/agent: temporary roots and user_data documents.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(prefix = "agent-bb-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Every file and directory under `dir` with its size and mtime, to prove a run changed nothing. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push(`${p} ${st.isDirectory() ? "dir" : st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

export function writeTemp(dir: string, name: string, contents: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, contents);
  return p;
}

/** A user_data with the agent document in a marker block of a shell script, as a template author would write it. */
export function shellUserData(lines: string[]): string {
  return ["#!/bin/sh", ": <<'VACUUM_AGENT_CONFIG'", "-----BEGIN VACUUM-AGENT CONFIG-----", ...lines, "-----END VACUUM-AGENT CONFIG-----", "VACUUM_AGENT_CONFIG", "exec /usr/local/bin/agent run", ""].join("\n");
}

export const COMMAND_DOC = ["version = 1", "user_data_space = vac01.example.org", "user_data_machinetype = test-command", "payload.type = command", "payload.command.path = /bin/sh"];
