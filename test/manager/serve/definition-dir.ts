// A temporary copy of the shipped example definition (examples/manager), which tests rewrite to
// exercise reloads.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface DefinitionDir {
  dir: string;
  file: string;
  /** Rewrites definition.json with `change` applied to the example. */
  write(change: (def: any) => void): void;
  cleanup(): void;
}

export function makeDefinitionDir(): DefinitionDir {
  const dir = mkdtempSync(join(tmpdir(), "manager-serve-"));
  cpSync(resolve("examples/manager"), dir, { recursive: true });
  const file = join(dir, "definition.json");
  const original = readFileSync(file, "utf8");
  return {
    dir,
    file,
    write(change) {
      const def = JSON.parse(original);
      change(def);
      writeFileSync(file, JSON.stringify(def, null, 2));
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
