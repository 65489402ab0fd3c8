// `manager export DEFINITION.json DIR`: the definition's pipes and user_data templates as a static
// tree (DIR/pipes/<name>.pipe, DIR/user_data/<name>-<suffix>.template) for any web server or a
// CVMFS repository. An invalid definition is refused and DIR is left untouched.

import { formatPipeProblem, pipeHasErrors } from "../contract/pipe.ts";
import { loadDefinition } from "./definition-file.ts";
import { ExportError, writeTreeAtomically, type TreeFile } from "./export-tree.ts";
import { MANAGER_EXIT } from "./help.ts";
import type { ManagerOptions } from "./options.ts";

export async function exportCommand(o: ManagerOptions): Promise<number> {
  const file = o.file!;
  const dir = o.dir!;
  const loaded = await loadDefinition(file);
  const failed = pipeHasErrors(loaded.problems) || !loaded.definition;
  const tree: TreeFile[] = failed
    ? []
    : [
        ...loaded.pipes.map((p) => ({ path: p.path, bytes: Buffer.from(p.text, "ascii") })),
        ...loaded.templates.map((t) => ({ path: t.path, bytes: t.bytes })),
      ];
  let writeError: string | null = null;
  if (!failed) {
    try {
      await writeTreeAtomically(dir, tree);
    } catch (err) {
      writeError = err instanceof ExportError ? err.message : `cannot write ${dir}: ${(err as Error).message}`;
    }
  }
  const ok = !failed && writeError === null;
  if (o.json) {
    const report = { ok, definition: file, dir, files: ok ? tree.map((f) => f.path) : [], pipes: loaded.pipes.map((p) => ({ name: p.name, url: p.url })), problems: loaded.problems, ...(writeError ? { error: writeError } : {}) };
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return ok ? MANAGER_EXIT.ok : MANAGER_EXIT.failed;
  }
  for (const p of loaded.problems) process.stdout.write(formatPipeProblem(p) + "\n");
  if (failed) {
    process.stdout.write(`${file}: invalid definition: export refused, ${dir} left untouched\n`);
    return MANAGER_EXIT.failed;
  }
  if (writeError) {
    process.stderr.write(`manager: ${writeError}\n`);
    return MANAGER_EXIT.failed;
  }
  process.stdout.write(`${file}: exported ${loaded.pipes.length} pipe(s) and ${loaded.templates.length} template(s) to ${dir}\n`);
  for (const p of loaded.pipes) process.stdout.write(`  ${p.path}: publish at ${p.url}\n`);
  return MANAGER_EXIT.ok;
}
