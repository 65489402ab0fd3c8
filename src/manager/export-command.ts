// `manager export DEFINITION.json DIR`: the definition's pipes and user_data templates as a static
// tree (DIR/pipes/<name>.pipe, DIR/user_data/<name>-<suffix>.template) for any web server or a
// CVMFS repository. An invalid definition is refused and DIR is left untouched.

import { formatPipeProblem, pipeHasErrors, type PipeProblem } from "../contract/pipe.ts";
import { pipeProblem } from "../contract/pipe/pipe-problem.ts";
import { sha256Line } from "./agent-binary.ts";
import { loadDefinition, type LoadedDefinition } from "./definition-file.ts";
import { autoindexPage, CHECKSUMS_FILE, pilotIndexEntries } from "./pilot-directory.ts";
import { buildContent } from "./serve/content.ts";
import { findPlaceholders, hasPlaceholders, PLACEHOLDERS } from "./vm/placeholders.ts";
import { templateCopy } from "./vm/template-copy.ts";
import { ExportError, writeTreeAtomically, type TreeFile } from "./export-tree.ts";
import { MANAGER_EXIT } from "./help.ts";
import type { ManagerOptions } from "./options.ts";

export async function exportCommand(o: ManagerOptions): Promise<number> {
  const file = o.file!;
  const dir = o.dir!;
  const loaded = await loadDefinition(file);
  loaded.problems.push(...staticTemplateProblems(loaded));
  const failed = pipeHasErrors(loaded.problems) || !loaded.definition;
  const tree: TreeFile[] = failed ? [] : treeOf(loaded);
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

/** Everything `manager serve` publishes that a static server can: not the per-VM copies. */
function treeOf(loaded: LoadedDefinition): TreeFile[] {
  const content = buildContent(loaded, new Date());
  const origin = loaded.definition?.manager_url ?? "";
  const tree: TreeFile[] = [
    ...loaded.pipes.map((p) => ({ path: p.path, bytes: Buffer.from(p.text, "ascii") })),
    ...loaded.templates.map((t) => ({ path: t.path, bytes: templateCopy(content, content.entries.get(`/${t.path}`)!, origin, null) })),
  ];
  for (const a of loaded.agents) {
    tree.push({ path: `agents/${a.name}`, bytes: new Uint8Array(0), from: a.path, mode: 0o755 });
    tree.push({ path: `agents/${a.name}.sha256`, bytes: Buffer.from(sha256Line(a), "utf8") });
  }
  for (const p of loaded.pilots) {
    for (const f of p.files) tree.push({ path: `pilots/${p.name}/${f.name}`, bytes: f.bytes });
    tree.push({ path: `pilots/${p.name}/${CHECKSUMS_FILE}`, bytes: p.checksums });
    // index.html is what a static server sends for the directory (nginx, Apache, a CVMFS web proxy).
    if (!p.files.some((f) => f.name === "index.html")) tree.push({ path: `pilots/${p.name}/index.html`, bytes: Buffer.from(autoindexPage(`/pilots/${p.name}/`, pilotIndexEntries(p)), "utf8") });
  }
  return tree;
}

/** A static tree cannot give each VM its own id and token; manager_url must be known. */
function staticTemplateProblems(loaded: LoadedDefinition): PipeProblem[] {
  const problems: PipeProblem[] = [];
  const perVm = new Set(PLACEHOLDERS.filter((p) => p.perVm).map((p) => p.name));
  for (const t of loaded.templates) {
    const text = Buffer.from(t.bytes).toString("latin1");
    if (!hasPlaceholders(text)) continue;
    const at = `pipes[${t.pipeIndex}].machinetypes[${t.machinetypeIndex}].user_data_template`;
    const uses = findPlaceholders(text);
    const vmNames = [...new Set(uses.filter((u) => perVm.has(u.name)).map((u) => u.text))];
    if (vmNames.length) problems.push(pipeProblem("error", at, `${vmNames.join(", ")}: a static export cannot give each VM its own id and token; publish this template with manager serve --state`));
    if (uses.some((u) => u.name === "manager_url") && !loaded.definition?.manager_url) problems.push(pipeProblem("error", at, "{{vacuum.manager_url}} in an export needs the definition's manager_url"));
  }
  return problems;
}
