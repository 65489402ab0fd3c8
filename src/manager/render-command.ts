// `manager render TEMPLATE`: the template rendered exactly as Vac and Vcycle render it, on stdout.
// Bytes are carried 1:1 as latin1 characters (Python 2 works on bytes): the output is byte for
// byte what the site would hand the VM. Problems go to stderr; an error renders nothing (exit 1).

import { randomUUID } from "node:crypto";
import { MANAGER_EXIT } from "./help.ts";
import type { ManagerOptions } from "./options.ts";
import { readInput } from "./read-input.ts";
import { profileValues } from "./render-profile.ts";
import { renderUserData, type RenderProblem } from "./render.ts";

const bytesToText = (b: Uint8Array): string => Buffer.from(b).toString("latin1");
/** Command-line values are Unicode: their UTF-8 bytes are what a site's config file would hold. */
const argToText = (s: string): string => Buffer.from(s, "utf8").toString("latin1");

export async function renderCommand(o: ManagerOptions): Promise<number> {
  const template = await readInput(o.file!);
  if (!template.ok) return fail(template.message);
  const files: Record<string, string> = {};
  for (const [name, path] of Object.entries(o.files)) {
    const content = await readInput(path);
    if (!content.ok) return fail(`--file ${name}: ${content.message}`);
    files[name] = bytesToText(content.bytes);
  }
  let values = Object.fromEntries(Object.entries(o.sets).map(([k, v]) => [k, argToText(v)]));
  if (o.proxy) {
    const proxy = await readInput(o.proxy);
    if (!proxy.ok) return fail(`--proxy: ${proxy.message}`);
    values.x509_proxy = bytesToText(proxy.bytes);
  }
  const problems: RenderProblem[] = [];
  if (o.manager) {
    const profiled = profileValues(o.manager, values, randomUUID);
    values = profiled.values;
    problems.push(...profiled.problems);
  }
  const options = Object.fromEntries(Object.entries(o.options).map(([k, v]) => [k, argToText(v)]));
  const result = renderUserData({ template: bytesToText(template.bytes), values, options, files });
  problems.push(...result.problems);
  if (o.json) {
    // JSON carries Unicode: give the bytes as UTF-8 text (what the template almost always is).
    const text = result.ok ? Buffer.from(result.text, "latin1").toString("utf8") : null;
    process.stdout.write(JSON.stringify({ ok: result.ok, text, problems }, null, 2) + "\n");
    return result.ok ? MANAGER_EXIT.ok : MANAGER_EXIT.failed;
  }
  for (const p of problems) process.stderr.write(`${p.severity}: ${p.path}: ${p.message}\n`);
  if (!result.ok) {
    process.stderr.write("manager: render refused: nothing rendered\n");
    return MANAGER_EXIT.failed;
  }
  await new Promise<void>((done, reject) => process.stdout.write(Buffer.from(result.text, "latin1"), (err) => (err ? reject(err) : done())));
  return MANAGER_EXIT.ok;
}

function fail(message: string): number {
  process.stderr.write(`manager: ${message}\n`);
  return MANAGER_EXIT.failed;
}
