// Rules for one value of a pipe machinetype, by key, each reproducing what Vac 03.00 and Vcycle
// 03.00 do with `str(value)` (vacuum-platform.md sections 6.2 and 6.3). Each returns the value the
// readers end up with (or null) and appends problems.

import type { JsonNode } from "./json-text.ts";
import type { BooleanKey, IntegerKey } from "./keys.ts";
import { VAC_MODELS, VCYCLE_MODELS } from "./keys.ts";
import { EFFECT, pipeProblem, type Implementation, type PipeProblem } from "./pipe-problem.ts";
import { pyFloat, pyFloatStr, pyInt, pyIsTrue, pyRepr, pyStr } from "./python-str.ts";

type Effects = Partial<Record<Implementation, string>>;

const INT_FAILS: Readonly<Record<IntegerKey, Effects>> = {
  backoff_seconds: { vac: `uncaught int(): ${EFFECT.vacCycleDies}`, vcycle: EFFECT.vcycleCycleSkipped },
  fizzle_seconds: { vac: `uncaught int(): ${EFFECT.vacCycleDies}`, vcycle: EFFECT.vcycleCycleSkipped },
  max_wallclock_seconds: { vac: `uncaught int(): ${EFFECT.vacCycleDies}`, vcycle: EFFECT.vcycleCycleSkipped },
  heartbeat_seconds: { vac: `uncaught int(): ${EFFECT.vacCycleDies}`, vcycle: EFFECT.vcycleCycleSkipped },
  min_wallclock_seconds: { vac: `uncaught int(): ${EFFECT.vacCycleDies}` }, // Vcycle never reads it
  min_processors: { vac: `uncaught int(): ${EFFECT.vacCycleDies}`, vcycle: "int() fails and min_processors silently becomes 1" },
  max_processors: { vac: `uncaught int(): ${EFFECT.vacCycleDies}`, vcycle: "int() fails and the type silently gets no maximum number of processors" },
};

/** How a JSON value that is not an integer reads in a message. */
function describeNonInteger(node: JsonNode): string {
  switch (node.kind) {
    case "number":
      return `${node.text}: Python's str() makes it "${pyFloatStr(node.value)}", which int() rejects`;
    case "string":
      return `${JSON.stringify(node.value)}: int() rejects it`;
    default:
      return `${node.kind === "boolean" || node.kind === "null" ? pyRepr(node) : `an ${node.kind}`}: Python's str() makes it "${pyRepr(node, false)}", which int() rejects`;
  }
}

/** An integer key: the value int(str(value)) gives, or null (problem reported). */
export function integerRule(key: IntegerKey, node: JsonNode, path: string, out: PipeProblem[]): number | null {
  if (node.kind === "number" && !node.float) return Number(node.text);
  if (node.kind === "string") {
    const n = pyInt(node.value);
    if (n !== null) {
      out.push(pipeProblem("warning", path, `a string, not a JSON integer: both readers convert ${JSON.stringify(node.value)} with int() to ${n}, but publish ${n}`));
      return n;
    }
  }
  out.push(pipeProblem("error", path, `expected a JSON integer, got ${describeNonInteger(node)}`, INT_FAILS[key]));
  return null;
}

/** target_share: float(value) in the first pass, float(str(value)) in the second. */
export function targetShareRule(node: JsonNode, path: string, out: PipeProblem[]): number | null {
  const never = { vac: "share 0: never started", vcycle: "share 0: never started" };
  let share: number | null = null;
  if (node.kind === "number") share = node.value;
  else if (node.kind === "string") {
    share = pyFloat(node.value);
    if (share !== null && Number.isFinite(share)) out.push(pipeProblem("warning", path, `a string, not a JSON number: both readers convert ${JSON.stringify(node.value)} with float(), but publish a number`));
  } else if (node.kind === "boolean") {
    out.push(pipeProblem("error", path, `expected a number, got ${pyRepr(node)}: float(True) counts in the pipe's total but float("True") fails for the type itself`, never));
    return null;
  }
  if (share === null) {
    out.push(pipeProblem("error", path, `expected a number, got ${node.kind === "string" ? JSON.stringify(node.value) : pyRepr(node)}: float() fails`, never));
    return null;
  }
  if (!Number.isFinite(share)) {
    out.push(pipeProblem("error", path, `expected a finite number, got ${node.kind === "number" ? node.text : JSON.stringify((node as { value: string }).value)}: the shares of every type in the pipe become NaN`, { vac: "no type of this pipe gets a usable share", vcycle: "no type of this pipe gets a usable share" }));
    return null;
  }
  if (share < 0) {
    out.push(pipeProblem("error", path, `expected a share of 0 or more, got ${share}: a negative share distorts every other type's share`, { vac: "shares are normalised by the pipe's total", vcycle: "shares are normalised by the pipe's total" }));
    return null;
  }
  if (share === 0) out.push(pipeProblem("warning", path, "target_share is 0: this machinetype is never started (fine to disable it on purpose)", never));
  return share;
}

/** machine_model: Vac 03.00 knows cernvm3, vm-raw, docker, singularity; Vcycle cernvm3 and vm-raw. */
export function machineModelRule(node: JsonNode, path: string, out: PipeProblem[]): string | null {
  const s = pyStr(node);
  if (!s.ok) return null; // reported by the ASCII rule
  const model = s.text;
  const typeNote = node.kind === "string" ? "" : ` (${pyRepr(node)} is not a string: str() makes it "${model}")`;
  if (VCYCLE_MODELS.has(model)) {
    if (typeNote) out.push(pipeProblem("warning", path, `expected a string${typeNote}`));
    return model;
  }
  const vac = VAC_MODELS.has(model)
    ? undefined
    : `"Machine model ${model} is not defined": ${EFFECT.vacCycleAborted}${model === "cernvm4" ? " (only Vac master 03.01+pre00 knew cernvm4)" : ""}`;
  const hint = model === "cernvm4" ? "; use cernvm3, which boots CernVM 4 images too" : "";
  out.push(
    pipeProblem("error", path, `machine_model ${JSON.stringify(model)}${typeNote}: publish cernvm3 or vm-raw${hint}`, {
      ...(vac ? { vac } : {}),
      vcycle: `not cernvm3 or vm-raw: ${EFFECT.vcycleTypeSkipped}`,
    }),
  );
  return model;
}

const VAC_NO_USER_DATA = "the option is ignored and VMs are created with no user_data";
const VCYCLE_NO_USER_DATA = `the option is ignored, so user_data is missing: ${EFFECT.vcycleCycleSkipped}`;

/** user_data: an absolute http(s) URL, or a bare site-local file name; `/../` is rejected. */
export function userDataRule(node: JsonNode, path: string, out: PipeProblem[]): boolean {
  const rejected = { vac: VAC_NO_USER_DATA, vcycle: VCYCLE_NO_USER_DATA };
  if (node.kind !== "string") {
    const s = pyStr(node);
    out.push(pipeProblem("error", path, `expected an https:// URL, got ${pyRepr(node)}${s.ok ? ` (str() makes it the site-local file name "${s.text}")` : ""}`, { vac: "VM creation fails at every site without that file", vcycle: "VM creation fails at every site without that file" }));
    return false;
  }
  const v = node.value;
  if (v.includes("/../")) {
    out.push(pipeProblem("error", path, `${JSON.stringify(v)} contains "/../", which both readers reject`, rejected));
    return false;
  }
  const http = v.startsWith("http://") || v.startsWith("https://");
  if (!http && v.includes("/")) {
    out.push(pipeProblem("error", path, `${JSON.stringify(v)} is neither an http(s):// URL nor a bare file name: both readers reject a "/" in anything else (nothing is resolved against the pipe URL)`, rejected));
    return false;
  }
  if (!http) {
    if (v === "") {
      out.push(pipeProblem("error", path, "an empty user_data", { vac: "every VM creation fails (no template)", vcycle: "every VM creation fails (no template)" }));
      return false;
    }
    out.push(pipeProblem("warning", path, `${JSON.stringify(v)} is a site-local file name: every site must put it in machinetypes/<prefix>/files/ (VM creation fails where it is missing); publish an absolute https:// URL`));
    return true;
  }
  return urlRule(v, path, "user_data", out);
}

/** root_image: Vac takes http(s) URLs, bare names, /cvmfs/… and docker://…; Vcycle http(s) URLs and bare names. */
export function rootImageRule(node: JsonNode, path: string, model: string | null, out: PipeProblem[]): void {
  if (node.kind !== "string") {
    out.push(pipeProblem("error", path, `expected an https:// URL, got ${pyRepr(node)}`, { vac: "read as a site-local image name", vcycle: "read as a site-local image name" }));
    return;
  }
  const v = node.value;
  const ignored = "the option is ignored: VMs of this type have no root image";
  if (v.includes("/../")) {
    out.push(pipeProblem("error", path, `${JSON.stringify(v)} contains "/../", which both readers reject`, { vac: ignored, vcycle: ignored }));
    return;
  }
  if (v.startsWith("http://") || v.startsWith("https://")) {
    urlRule(v, path, "root_image", out);
    return;
  }
  if (v.startsWith("/cvmfs/")) {
    out.push(pipeProblem("error", path, `${JSON.stringify(v)}: a /cvmfs/ image works on Vac only`, { vcycle: `a "/" outside an http(s) URL: ${ignored}` }));
    return;
  }
  if (v.startsWith("docker://")) {
    out.push(
      pipeProblem("error", path, `${JSON.stringify(v)}: a docker:// image works on Vac with machine_model docker only`, {
        ...(model === "docker" ? {} : { vac: `"Can only use a docker:// image URI with Docker machine models": ${EFFECT.vacCycleAborted}` }),
        vcycle: `a "/" outside an http(s) URL: ${ignored}`,
      }),
    );
    return;
  }
  if (v.includes("/")) {
    out.push(pipeProblem("error", path, `${JSON.stringify(v)} is neither an http(s):// URL nor a bare image name`, { vac: ignored, vcycle: ignored }));
    return;
  }
  if (v === "") {
    out.push(pipeProblem("error", path, "an empty root_image", { vac: "VM creation fails", vcycle: "VM creation fails" }));
    return;
  }
  out.push(pipeProblem("warning", path, `${JSON.stringify(v)} is a site-local image name: every site must provide it; publish an absolute https:// URL`));
}

function urlRule(v: string, path: string, key: string, out: PipeProblem[]): boolean {
  let url: URL | null = null;
  try {
    url = new URL(v);
  } catch {
    url = null;
  }
  if (!url || !url.hostname || /\s/.test(v)) {
    const fails = key === "user_data" ? "every VM creation fails (libcurl cannot fetch the template)" : "VM creation fails (the image cannot be fetched)";
    out.push(pipeProblem("error", path, `${JSON.stringify(v)} is not a valid absolute URL`, { vac: fails, vcycle: fails }));
    return false;
  }
  if (url.protocol === "http:") {
    out.push(pipeProblem("warning", path, `${JSON.stringify(v)} uses http://: fetched without TLS, so anyone on the path can change what VMs ${key === "user_data" ? "run" : "boot"}; publish https://`));
  }
  return true;
}

/** heartbeat_file: a plain name inside $JOBOUTPUTS. */
export function heartbeatFileRule(node: JsonNode, path: string, out: PipeProblem[]): string | null {
  const s = pyStr(node);
  if (!s.ok) return null;
  if (node.kind !== "string") out.push(pipeProblem("warning", path, `expected a string, got ${pyRepr(node)}: str() makes it "${s.text}"`));
  if (s.text.includes("/")) {
    const lost = 'a "/" is rejected: the option is ignored and heartbeats are never checked';
    out.push(pipeProblem("error", path, `${JSON.stringify(s.text)} contains "/": heartbeat_file is a plain file name inside $JOBOUTPUTS`, { vac: lost, vcycle: lost }));
    return null;
  }
  if (s.text === "") {
    out.push(pipeProblem("warning", path, "an empty heartbeat_file: heartbeats are never checked"));
    return null;
  }
  if (!/^[A-Za-z0-9._-]+$/.test(s.text)) out.push(pipeProblem("warning", path, `${JSON.stringify(s.text)}: job output names should only use [A-Za-z0-9._-] (heartbeat is the usual name)`));
  return s.text;
}

/** user_data_proxy / legacy_proxy: Vac `str(v).strip().lower() == 'true'`, Vcycle `str(v).lower() == 'true'`. */
export function booleanRule(key: BooleanKey, node: JsonNode, path: string, out: PipeProblem[]): boolean | null {
  if (node.kind === "boolean") return node.value;
  const s = pyStr(node);
  if (!s.ok) return null;
  const vac = pyIsTrue(s.text, true);
  const vcycle = pyIsTrue(s.text, false);
  const shown = node.kind === "string" ? JSON.stringify(node.value) : pyRepr(node);
  if (vac !== vcycle) {
    out.push(
      pipeProblem("error", path, `${shown}: Vac strips spaces before comparing with "true", Vcycle does not; publish ${key}: true`, {
        vac: `reads ${vac}`,
        vcycle: `reads ${vcycle}${key === "user_data_proxy" ? ": no proxy is put in the user_data" : ""}`,
      }),
    );
    return null;
  }
  const looksTrue = /^\s*(yes|y|on|t|1)\s*$/i.test(s.text) || (node.kind === "number" && node.value !== 0);
  const how = `both readers compare str(value).lower() with "true" and read ${vac}`;
  if (looksTrue) {
    const lost = `reads false${key === "user_data_proxy" ? ": no proxy is put in the user_data" : ""}`;
    out.push(pipeProblem("error", path, `${shown} is not a JSON boolean and means false here: ${how}; publish ${key}: true`, { vac: lost, vcycle: lost }));
    return false;
  }
  out.push(pipeProblem("warning", path, `${shown} is a ${node.kind === "string" ? "string" : node.kind}, not a JSON boolean: ${how}; publish ${key}: ${vac}`));
  return vac;
}

/** A plain string key (accounting_fqan, image_signing_dn, container_command, …). */
export function stringRule(node: JsonNode, path: string, out: PipeProblem[]): void {
  if (node.kind === "string") return;
  const s = pyStr(node);
  if (s.ok) out.push(pipeProblem("warning", path, `expected a string, got ${pyRepr(node)}: both readers use str() of it, "${s.text}"`));
}

/** root_device / scratch_device: Vac skips the machinetype unless the value is [a-z0-9]. */
export function deviceRule(node: JsonNode, path: string, out: PipeProblem[]): void {
  const s = pyStr(node);
  if (!s.ok) return;
  if (!/^[a-z0-9]*$/.test(s.text)) {
    out.push(pipeProblem("error", path, `${JSON.stringify(s.text)}: a device name may only contain a-z and 0-9`, { vac: EFFECT.vacTypeSkipped }));
  }
}
