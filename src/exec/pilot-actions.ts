// The executor's side of the DIRAC pilot actions: the verified download (src/pilot/download.ts),
// pilot.json judged by the pure checks of src/payloads/dirac, and the covered include_vm_*.sh hooks.
// A pilot.json that does not fit this VM, or a hook that fails, is the experiment's configuration
// at fault: 600, so Vac and Vcycle back off instead of starting VM after VM.

import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import type { TlsOptions } from "../net/http-client.ts";
import type { CheckPilotJsonAction, FetchPilotAction, RunPilotHooksAction } from "../plan/actions.ts";
import { checkPilotJson } from "../payloads/dirac/pilot-json.ts";
import { downloadPilotDirectory, verifiedPilotFiles } from "../pilot/download.ts";
import type { LogSink } from "../status/log.ts";
import { ActionFailure } from "./action-failure.ts";
import { caDirectory } from "./ca-directory.ts";
import type { CommandOverrides } from "./commands.ts";
import type { RunCommand } from "./runner.ts";

type At = (machinePath: string) => string;

export async function performFetchPilot(a: FetchPilotAction, at: At, ids: { uid: number; gid: number } | undefined, log: LogSink): Promise<{ detail: string }> {
  const tls: TlsOptions = {};
  const caDir = caDirectory(a.tls.caDir, at);
  if (caDir) tls.caDir = caDir;
  try {
    if (a.tls.certPath) tls.cert = readFileSync(at(a.tls.certPath), "utf8");
    if (a.tls.keyPath) tls.key = readFileSync(at(a.tls.keyPath), "utf8");
  } catch (err) {
    throw new ActionFailure(`client certificate for the pilot download unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 500);
  }
  const r = await downloadPilotDirectory({
    urls: a.urls,
    dir: at(a.dir),
    tls,
    ...(a.manifestSha512 ? { manifestSha512: a.manifestSha512 } : {}),
    requireManifest: a.requireManifest,
    concurrency: a.concurrency,
    retries: a.retries,
    timeoutMs: a.timeoutMs,
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
    log: (line) => log.info(line),
  });
  if (!r.ok) throw new ActionFailure(`pilot directory: ${r.error}`, r.code);
  const bytes = r.files.reduce((n, f) => n + f.bytes, 0);
  const verified = r.files.filter((f) => f.verified).length;
  return { detail: `${r.files.length} files, ${bytes} bytes from ${r.url} by ${r.source}, ${verified} verified by checksums.sha512, ${r.durationMs} ms` };
}

export function performCheckPilotJson(a: CheckPilotJsonAction, at: At, log: LogSink): { detail: string } {
  let text: string;
  try {
    text = readFileSync(at(a.path), "utf8");
  } catch (err) {
    throw new ActionFailure(`Bad pilot.json: cannot read ${a.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 600);
  }
  const r = checkPilotJson(text, { ce: a.ce, queue: a.queue, ...(a.vo ? { vo: a.vo } : {}), ...(a.setup ? { setup: a.setup } : {}), ...(a.site ? { site: a.site } : {}) });
  if (!r.ok) {
    for (const e of r.errors) log.error(`pilot.json: ${e}`);
    // The checker's errors start with the JSON path inside pilot.json ("pilot.json: Defaults.Pilot…").
    throw new ActionFailure(`Bad ${r.errors[0] ?? "pilot.json: not usable"}${r.errors.length > 1 ? ` (and ${r.errors.length - 1} more problem(s))` : ""}`, 600);
  }
  for (const w of r.warnings) log.warn(`pilot.json: ${w}`);
  const p = r.pilot;
  return { detail: `${p.schema} schema, CE ${p.ce}${p.site ? ` (site ${p.site})` : ""}, commands ${p.commands.join(",")} (from ${p.commandsFrom}), version ${p.version ?? "unset"}` };
}

const HOOK = /^include_vm_[A-Za-z0-9._-]*\.sh$/;

/** Only hooks checksums.sha512 covered (and still match it) run; the others are named in the log. */
export async function performRunPilotHooks(a: RunPilotHooksAction, at: At, run: RunCommand, commands: CommandOverrides | undefined, log: LogSink): Promise<{ detail: string }> {
  const dir = at(a.dir);
  const verified = new Set(verifiedPilotFiles(dir));
  let present: string[] = [];
  try {
    present = readdirSync(dir).filter((n) => HOOK.test(n)).sort();
  } catch {
    // no directory: no hooks
  }
  const ran: string[] = [];
  for (const name of present) {
    if (!verified.has(name)) {
      log.warn(`pilot hook ${name} not run: checksums.sha512 does not cover it`);
      continue;
    }
    try {
      await run(["/bin/sh", posix.join(dir, name)], { timeoutMs: a.timeoutSeconds * 1000, env: a.env, cwd: dir, ...(commands ? { commands } : {}) });
    } catch (err) {
      throw new ActionFailure(`pilot hook ${name} failed: ${(err as Error).message}`, 600);
    }
    ran.push(name);
  }
  return { detail: ran.length ? `ran ${ran.join(", ")}` : "no covered hooks" };
}
