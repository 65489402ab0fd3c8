// Registered as a vitest setupFile: unit tests may not start subprocesses through the runner
// unless they name the programs they expect (cloud-init's disable_subp_usage). Called inside a
// test, allowSubprocess lasts for that test; at file level (or in beforeAll), for the file.
// Tests that spawn the compiled binary use node:child_process directly and are not affected.

import { onTestFinished } from "vitest";
import { programName, setSubprocessPolicy, UnexpectedSubprocessError } from "../../src/exec/runner.ts";

const fileAllowed = new Set<string>();
const testAllowed = new Set<string>();

setSubprocessPolicy((argv) => {
  const name = programName(argv);
  if (fileAllowed.has(name) || testAllowed.has(name)) return;
  throw new UnexpectedSubprocessError(
    `unexpected subprocess ${JSON.stringify(argv)}: call allowSubprocess(["${name}"]) in the test that expects it`,
  );
});

export function allowSubprocess(names: readonly string[]): void {
  let inTest = true;
  try {
    onTestFinished(() => testAllowed.clear());
  } catch {
    inTest = false;
  }
  for (const n of names) (inTest ? testAllowed : fileAllowed).add(n);
}
