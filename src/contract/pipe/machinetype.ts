// One machinetype object of a pipe, checked the way Vac 03.00 (shared.py readConf) and Vcycle 03.00
// (shared.py _expandVacuumPipe, Machinetype) read it: keys, values, the keys that must be there, and
// the rules between keys (min ≤ max, option vs file). Returns what the pipe-wide rules need.

import type { JsonEntry, JsonNode } from "./json-text.ts";
import {
  BOOLEAN_KEYS,
  FILE_PREFIX,
  INTEGER_KEYS,
  MACHINETYPE_NAME_CHARS,
  OPTION_NAME_CHARS,
  OPTION_PREFIX,
  SUFFIX_SHAPE,
  UNUSED_BY,
  VAC_KEYS,
  VCYCLE_KEYS,
  type BooleanKey,
  type IntegerKey,
} from "./keys.ts";
import { childPath, EFFECT, pipeProblem, type PipeProblem } from "./pipe-problem.ts";
import { isAscii, pyRepr, pyStr } from "./python-str.ts";
import {
  booleanRule,
  deviceRule,
  heartbeatFileRule,
  integerRule,
  machineModelRule,
  rootImageRule,
  stringRule,
  targetShareRule,
  userDataRule,
} from "./value-rules.ts";

export interface MachinetypeFacts {
  /** The lower-cased suffix both readers use, or null when the type is skipped. */
  suffix: string | null;
  /** float(target_share) as the first pass counts it toward the pipe's total. */
  share: number | null;
}

const NON_ASCII_EFFECTS = {
  vac: `str() raises UnicodeEncodeError: ${EFFECT.vacCycleDies}`,
  vcycle: `str() raises UnicodeEncodeError: ${EFFECT.vcycleCycleSkipped}`,
};

export function checkMachinetype(node: JsonNode, path: string, out: PipeProblem[]): MachinetypeFacts {
  if (node.kind !== "object") {
    const vcycleDies = node.kind === "number" || node.kind === "boolean" || node.kind === "null";
    out.push(
      pipeProblem("error", path, `expected an object, got ${node.kind === "array" ? "an array" : pyRepr(node)}`, {
        vac: EFFECT.vacTypeSkipped,
        vcycle: vcycleDies ? `'machine_model' in ${pyRepr(node)} raises TypeError: ${EFFECT.vcycleCycleSkipped}` : EFFECT.vcycleTypeSkipped,
      }),
    );
    return { suffix: null, share: null };
  }

  const values = new Map<string, JsonEntry>();
  for (const e of node.entries) {
    const at = childPath(path, e.key);
    if (!isAscii(e.key)) {
      out.push(pipeProblem("error", at, "a key with non-ASCII characters", NON_ASCII_EFFECTS));
      continue;
    }
    if (values.has(e.key)) out.push(pipeProblem("warning", at, "the key appears more than once: Python's json keeps the last value"));
    values.set(e.key, e);
  }

  // Values that str() cannot convert break both readers before any other rule matters.
  const usable = new Map<string, JsonNode>();
  for (const [key, e] of values) {
    if (e.value.kind === "string" && !isAscii(e.value.value)) {
      const at = childPath(path, key);
      if (key === "suffix") {
        out.push(pipeProblem("error", at, "a suffix with non-ASCII characters", { vac: `str() raises inside a try: ${EFFECT.vacTypeSkipped} ("suffix is missing")`, vcycle: `str() raises inside a try: ${EFFECT.vcycleTypeSkipped} ("suffix is missing")` }));
      } else {
        out.push(pipeProblem("error", at, "a value with non-ASCII characters", NON_ASCII_EFFECTS));
      }
      continue;
    }
    usable.set(key, e.value);
  }

  const facts: MachinetypeFacts = { suffix: suffixRule(usable.get("suffix"), values.has("suffix"), childPath(path, "suffix"), out), share: null };
  const ints: Partial<Record<IntegerKey, number>> = {};
  const bools: Partial<Record<BooleanKey, boolean>> = {};
  let model: string | null = null;
  const modelNode = usable.get("machine_model");
  if (modelNode) model = machineModelRule(modelNode, childPath(path, "machine_model"), out);
  const optionNames = new Map<string, string>(); // lower-cased X -> the key that defines it

  for (const [key, value] of usable) {
    const at = childPath(path, key);
    if (key === "suffix" || key === "machine_model") continue;
    if ((INTEGER_KEYS as readonly string[]).includes(key)) {
      const n = integerRule(key as IntegerKey, value, at, out);
      if (n !== null) ints[key as IntegerKey] = n;
    } else if ((BOOLEAN_KEYS as readonly string[]).includes(key)) {
      const b = booleanRule(key as BooleanKey, value, at, out);
      if (b !== null) bools[key as BooleanKey] = b;
    } else if (key === "target_share") {
      facts.share = targetShareRule(value, at, out);
    } else if (key === "user_data") {
      userDataRule(value, at, out);
    } else if (key === "root_image") {
      rootImageRule(value, at, model, out);
    } else if (key === "heartbeat_file") {
      heartbeatFileRule(value, at, out);
    } else if (key.startsWith(OPTION_PREFIX) || key.startsWith(FILE_PREFIX)) {
      optionRule(key, value, at, optionNames, out);
    } else if (key === "root_device" || key === "scratch_device") {
      deviceRule(value, at, out);
    } else if (VAC_KEYS.has(key) || VCYCLE_KEYS.has(key)) {
      // disk_gb_per_processor (Vac: int() in a try) and a per-type cache_seconds are numbers, and unused.
      if (key !== "disk_gb_per_processor" && key !== "cache_seconds") stringRule(value, at, out);
      if (key === "cvmfs_repositories") {
        const s = pyStr(value);
        if (s.ok && s.text.includes("/")) out.push(pipeProblem("warning", at, 'cvmfs_repositories contains "/": repository names only', { vac: "the option is ignored" }));
      }
      const unused = UNUSED_BY[key];
      if (unused) out.push(pipeProblem("warning", at, `${key} is not used by every reader`, unused));
    } else {
      const known = [...VAC_KEYS, ...VCYCLE_KEYS].find((k) => k === key.toLowerCase());
      const hint = known
        ? ` (keys are case-sensitive here: did you mean ${known}?)`
        : key.toLowerCase().startsWith(OPTION_PREFIX) || key.toLowerCase().startsWith(FILE_PREFIX)
          ? ` (the prefix must be lower case: ${key.toLowerCase().startsWith(OPTION_PREFIX) ? OPTION_PREFIX : FILE_PREFIX})`
          : "";
      out.push(pipeProblem("warning", at, `unknown key${hint}`, { vac: EFFECT.bothIgnoreOption, vcycle: EFFECT.bothIgnoreOption }));
    }
  }

  missingKeys(values, ints, bools, path, out);
  crossKeyRules(values, ints, path, out);
  return facts;
}

function suffixRule(node: JsonNode | undefined, present: boolean, path: string, out: PipeProblem[]): string | null {
  if (!node) {
    if (!present) out.push(pipeProblem("error", path, "required: the machinetype has no suffix", { vac: `"suffix is missing": ${EFFECT.vacTypeSkipped}`, vcycle: `"suffix is missing": ${EFFECT.vcycleTypeSkipped}` }));
    return null;
  }
  const s = pyStr(node);
  if (!s.ok) return null;
  if (node.kind !== "string") {
    out.push(pipeProblem("error", path, `expected a string, got ${pyRepr(node)}: str() makes the machinetype <prefix>-${s.text.toLowerCase()}`, { vac: "a machinetype nobody meant", vcycle: "a machinetype nobody meant" }));
  }
  const lower = s.text.toLowerCase();
  if (!MACHINETYPE_NAME_CHARS.test(lower)) {
    out.push(
      pipeProblem("error", path, `${JSON.stringify(s.text)}: a suffix may only contain a-z, 0-9 and "-" (machinetype <prefix>-<suffix>)`, {
        vac: `"Name of machinetype section … can only contain a-z 0-9 or -": ${EFFECT.vacCycleAborted}`,
        vcycle: EFFECT.vcycleCycleSkipped,
      }),
    );
    return null;
  }
  if (node.kind === "string" && s.text !== lower) {
    out.push(pipeProblem("warning", path, `${JSON.stringify(s.text)} has upper case: both readers lower-case the machinetype name to <prefix>-${lower}; publish ${JSON.stringify(lower)}`));
  } else if (node.kind === "string" && !SUFFIX_SHAPE.test(lower)) {
    out.push(pipeProblem("warning", path, `${JSON.stringify(s.text)}: both readers accept it, but it makes the machinetype name "<prefix>-${lower}"; publish words of a-z0-9 joined by single "-"`));
  }
  return lower;
}

function optionRule(key: string, value: JsonNode, at: string, seen: Map<string, string>, out: PipeProblem[]): void {
  const isFile = key.startsWith(FILE_PREFIX);
  const name = key.slice(isFile ? FILE_PREFIX.length : OPTION_PREFIX.length);
  const lower = name.toLowerCase();
  if (!OPTION_NAME_CHARS.test(lower)) {
    out.push(
      pipeProblem("error", at, `${JSON.stringify(name)}: an option name may only contain a-z, 0-9 and "_" (the ##user_data_option_X## pattern)`, {
        vac: `"Name of user_data_option_xxx … must only contain a-z 0-9 and _": ${EFFECT.vacCycleAborted}`,
        vcycle: EFFECT.vcycleCycleSkipped,
      }),
    );
    return;
  }
  if (name !== lower) {
    out.push(pipeProblem("warning", at, `upper case in ${JSON.stringify(name)}: both readers lower-case option names, so the template pattern is ##user_data_option_${lower}##; publish ${isFile ? FILE_PREFIX : OPTION_PREFIX}${lower}`));
  }
  if (lower === "") out.push(pipeProblem("warning", at, "an empty option name: the pattern is ##user_data_option_##"));
  const other = seen.get(lower);
  if (other !== undefined) {
    const both = other.startsWith(FILE_PREFIX) !== isFile;
    const order = "replaced in step 8 in Python 2 dict order, which is unspecified";
    out.push(
      pipeProblem("error", at, both ? `both ${other} and ${key} are defined: both fill ##user_data_option_${lower}##, ambiguous` : `${other} and ${key} are the same option after lower-casing: ambiguous`, {
        vac: order,
        vcycle: order,
      }),
    );
  } else {
    seen.set(lower, key);
  }

  const s = pyStr(value);
  if (!s.ok) return;
  if (value.kind !== "string") out.push(pipeProblem("warning", at, `expected a string, got ${pyRepr(value)}: str() inserts "${s.text}" into the user_data`));
  if (s.text.includes("##user_data_")) {
    out.push(pipeProblem("warning", at, "the value contains ##user_data_…##: depending on the order of step 8 it is substituted or removed by step 9; never put patterns into values"));
  }
  if (!isFile) return;
  if (s.text.includes("/")) {
    const lost = 'a "/" is rejected: the option is ignored and ##user_data_option_' + lower + "## becomes empty";
    out.push(pipeProblem("error", at, `${JSON.stringify(s.text)} contains "/": user_data_file_* names a site-local file, never a path`, { vac: lost, vcycle: lost }));
  } else if (s.text === "") {
    out.push(pipeProblem("error", at, "an empty file name", { vac: "every VM creation fails (Failed to read)", vcycle: "every VM creation fails (Failed to read)" }));
  } else {
    out.push(pipeProblem("warning", at, `${JSON.stringify(s.text)} is a site-local file: every site must put it in machinetypes/<prefix>/files/, or every VM creation there fails`));
  }
}

function missingKeys(values: Map<string, JsonEntry>, ints: Partial<Record<IntegerKey, number>>, bools: Partial<Record<BooleanKey, boolean>>, path: string, out: PipeProblem[]): void {
  const at = (k: string): string => childPath(path, k);
  if (!values.has("user_data")) {
    out.push(pipeProblem("error", at("user_data"), "required: no user_data template URL", { vac: "VMs are created with no user_data", vcycle: `user_data is required: ${EFFECT.vcycleCycleSkipped}` }));
  }
  for (const [key, vacDefault] of [["backoff_seconds", 10], ["fizzle_seconds", 600]] as const) {
    if (!values.has(key)) out.push(pipeProblem("error", at(key), `required: give ${key} as a JSON integer`, { vac: `defaults to ${vacDefault}`, vcycle: `${key} is required: ${EFFECT.vcycleCycleSkipped}` }, ["vcycle"]));
  }
  if (!values.has("target_share")) {
    out.push(pipeProblem("warning", at("target_share"), "no target_share: the share is 0 and this machinetype is never started (give 0 to disable it on purpose)", { vac: "share 0: never started", vcycle: "share 0: never started" }));
  }
  if (!values.has("max_wallclock_seconds")) out.push(pipeProblem("warning", at("max_wallclock_seconds"), "not given: both readers use 86400; give it as a JSON integer"));
  if (!values.has("min_wallclock_seconds")) {
    out.push(pipeProblem("warning", at("min_wallclock_seconds"), "not given; give it as a JSON integer", { vac: "uses max_wallclock_seconds", vcycle: "never reads it" }));
  }
  if (!values.has("root_image")) out.push(pipeProblem("warning", at("root_image"), "no root_image: every site must set one for this type, or VM creation fails"));
  const hasFile = values.has("heartbeat_file");
  const hasSeconds = values.has("heartbeat_seconds");
  if (!hasFile && !hasSeconds) {
    out.push(pipeProblem("warning", at("heartbeat_file"), "no heartbeat_file and no heartbeat_seconds: neither reader ever notices a hung VM before max_wallclock_seconds"));
  } else if (!hasFile) {
    out.push(pipeProblem("warning", at("heartbeat_file"), "heartbeat_seconds without heartbeat_file: heartbeats are never checked"));
  } else if (!hasSeconds) {
    out.push(pipeProblem("warning", at("heartbeat_seconds"), "heartbeat_file without heartbeat_seconds", { vac: "only checks that the file exists (0)", vcycle: "never checks it" }));
  }
  if (!values.has("max_processors")) {
    const min = ints.min_processors ?? 1;
    if (min > 1) {
      out.push(pipeProblem("error", at("max_processors"), `not given while min_processors is ${min}`, { vac: `max_processors defaults to 1 < min_processors: ${EFFECT.vacCycleAborted}`, vcycle: "no maximum" }, ["vac"]));
    } else {
      out.push(pipeProblem("warning", at("max_processors"), "not given: the readers differ; give it as a JSON integer", { vac: "at most 1 processor", vcycle: "no maximum (whatever the flavor gives)" }));
    }
  }
  if (bools.legacy_proxy === true && bools.user_data_proxy !== true) {
    out.push(pipeProblem("warning", at("legacy_proxy"), "legacy_proxy without user_data_proxy true has no effect"));
  }
}

function crossKeyRules(values: Map<string, JsonEntry>, ints: Partial<Record<IntegerKey, number>>, path: string, out: PipeProblem[]): void {
  const at = (k: string): string => childPath(path, k);
  const { min_wallclock_seconds: minWall, min_processors: minProc, max_processors: maxProc } = ints;
  // Vac's default for an absent max_wallclock_seconds is 86400; an unreadable one is reported already.
  const maxWall = ints.max_wallclock_seconds ?? (values.has("max_wallclock_seconds") ? undefined : 86400);
  if (minWall !== undefined && maxWall !== undefined && minWall > maxWall) {
    out.push(
      pipeProblem("error", at("min_wallclock_seconds"), `min_wallclock_seconds ${minWall} > max_wallclock_seconds ${maxWall}`, {
        vac: "the type never fits an existing superslot (needs min ≤ remaining time ≤ max) and never starts under a shutdown_time",
      }),
    );
  }
  if (minProc !== undefined && maxProc !== undefined && maxProc < minProc) {
    out.push(pipeProblem("error", at("max_processors"), `max_processors ${maxProc} < min_processors ${minProc}`, { vac: `"max_processors cannot be less than min_processors": ${EFFECT.vacCycleAborted}`, vcycle: EFFECT.vcycleCycleSkipped }));
  }
  for (const key of ["min_processors", "max_processors"] as const) {
    const n = ints[key];
    if (n !== undefined && n < 1) out.push(pipeProblem("error", at(key), `${key} ${n}: a VM needs at least 1 processor`, { vac: "machines with no processors", vcycle: "machines with no processors" }));
  }
  if (ints.max_wallclock_seconds !== undefined && ints.max_wallclock_seconds <= 0) {
    out.push(pipeProblem("error", at("max_wallclock_seconds"), `max_wallclock_seconds ${ints.max_wallclock_seconds}: VMs are past their lifetime as soon as they start`, { vac: "destroys every VM at the next cycle", vcycle: "deletes every VM at the next cycle" }));
  }
  if (ints.heartbeat_seconds !== undefined && ints.heartbeat_seconds < 0) {
    out.push(pipeProblem("error", at("heartbeat_seconds"), `heartbeat_seconds ${ints.heartbeat_seconds}: every heartbeat is stale`, { vac: "destroys every VM once past fizzle_seconds (700 Heartbeat file not updated)", vcycle: "deletes every VM once past fizzle_seconds (700 Heartbeat file not updated)" }));
  }
  for (const key of ["backoff_seconds", "fizzle_seconds"] as const) {
    const n = ints[key];
    if (n !== undefined && n < 0) out.push(pipeProblem("warning", at(key), `${key} ${n} is negative: both readers treat it as no wait`));
  }
}
