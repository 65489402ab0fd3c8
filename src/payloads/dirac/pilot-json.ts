// pilot.json as today's dirac-pilot.py reads it (DIRACGrid/Pilot pilotTools.py, pilots.md 3), so a
// file that would crash the pilot or send it the wrong way is refused with a clear error before
// the pilot starts, instead of a Python traceback in the job outputs.
//
// - The schema is chosen as the pilot does: a top-level `Setups` means the old one, else the new.
// - CE: `CEs.<space>` gives Site, GridCEType and LocalCEType (the queue's `LocalCEType` wins over
//   the CE's). A space not listed leaves Site and GridCEType empty: a warning, unless no site name
//   is configured either (then DIRAC cannot tell which site the VM belongs to: an error).
// - Old schema: commands from `Setups.<setup>.Commands.<GridCEType>`, `Setups.<setup>.Commands.Defaults`,
//   `Setups.Defaults.Commands.<GridCEType>`, then the TOP-LEVEL `Defaults.Commands.Defaults` (a
//   path bug in the pilot: `Setups.Defaults.Commands.Defaults` is never read), else the built-in list.
// - New schema: a shallow merge, later wins, of `/Defaults/Pilot`, `/<setup>/Pilot`,
//   `/<VO>/Defaults/Pilot`, `/<VO>/<setup>/Pilot`, `/<VO>/Pilot` (an empty setup makes the second
//   path the top-level `Pilot`, as the pilot's string formatting does); commands by GridCEType then
//   `Defaults`; top-level `ConfigurationServers` is required and must be a list.
//
// Values the pilot would crash on (a string where it indexes a dict, a list where it calls
// .split(), a string ConfigurationServers it reads character by character) are errors here.

export type PilotJsonSchema = "old" | "new";

/** The pilot's own list when pilot.json gives none (pilotTools.py PilotParams.__init__). */
export const BUILT_IN_COMMANDS: readonly string[] = [
  "CheckWorkerNode",
  "InstallDIRAC",
  "ConfigureBasics",
  "RegisterPilot",
  "CheckCECapabilities",
  "CheckWNCapabilities",
  "ConfigureSite",
  "ConfigureArchitecture",
  "ConfigureCPURequirements",
  "LaunchAgent",
];

export interface ResolvedPilot {
  schema: PilotJsonSchema;
  ce: string;
  queue: string;
  /** The setup the lookups used ("" when neither configured nor DefaultSetup). */
  setup: string;
  /** New schema: the VO whose sections were merged; old schema: the VO asked for, or null. */
  vo: string | null;
  /** Whether `CEs` lists the space. */
  ceListed: boolean;
  /** From `CEs.<ce>.Site` ("" when not listed); --name on the command line overrides it. */
  site: string;
  gridCEType: string;
  /** `CEs.<ce>.<queue>.LocalCEType`, else `CEs.<ce>.LocalCEType`, else null (--CEType overrides it). */
  localCEType: string | null;
  commands: string[];
  /** Where the commands came from: a JSON path, or "built-in list". */
  commandsFrom: string;
  commandExtensions: string[];
  /** First of the comma list, or null when pilot.json names none. */
  version: string | null;
  project: string | null;
  /** `Extensions` as published (informative: vanilla commands do not read it). */
  extensions: string[];
  configurationServers: string[];
  /** New schema: CVMFS_locations when pilot.json sets them. */
  cvmfsLocations: string[] | null;
}

export interface PilotJsonWant {
  ce: string;
  queue: string;
  vo?: string;
  setup?: string;
  /** The DIRAC site name given with --name, when configured. */
  site?: string;
}

export type PilotJsonCheck = { ok: true; pilot: ResolvedPilot; warnings: string[] } | { ok: false; errors: string[] };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const COMMAND_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `CEs["jenkins.cern.ch"].Site`: dotted where a key is a plain name, bracketed otherwise. */
export function jsonPath(keys: readonly string[]): string {
  if (keys.length === 0) return "(top level)";
  return keys.map((k, i) => (IDENT.test(k) ? (i === 0 ? k : `.${k}`) : `[${JSON.stringify(k)}]`)).join("");
}

function kind(v: Json | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `the ${typeof v} ${JSON.stringify(v)}`;
}

const isObj = (v: Json | undefined): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const has = (o: Obj, k: string): boolean => Object.hasOwn(o, k);

class Report {
  errors: string[] = [];
  warnings: string[] = [];
  error(keys: readonly string[], message: string): void {
    this.errors.push(`pilot.json: ${jsonPath(keys)}: ${message}`);
  }
  warn(keys: readonly string[], message: string): void {
    this.warnings.push(`pilot.json: ${jsonPath(keys)}: ${message}`);
  }
}

/** A command-like list: a JSON list of strings, or (as the synchroniser publishes) a comma string. */
function nameList(r: Report, keys: readonly string[], v: Json, allowList: boolean, what: string): string[] | null {
  let items: string[];
  if (typeof v === "string") items = v.split(",").map((s) => s.trim());
  else if (allowList && Array.isArray(v) && v.every((x) => typeof x === "string")) items = (v as string[]).map((s) => s.trim());
  else {
    r.error(keys, `expected ${allowList ? "a list of names or " : ""}a comma-separated string of ${what}, found ${kind(v)}`);
    return null;
  }
  return items.filter((s) => s !== "");
}

function checkCommands(r: Report, keys: readonly string[], v: Json, allowList: boolean): string[] | null {
  const list = nameList(r, keys, v, allowList, "command names");
  if (list === null) return null;
  if (list.length === 0) {
    r.error(keys, "expected at least one command name, found an empty list");
    return null;
  }
  const bad = list.filter((c) => !COMMAND_NAME.test(c));
  if (bad.length) {
    r.error(keys, `expected command names (Python class names), found ${bad.map((b) => JSON.stringify(b)).join(", ")}: dirac-pilot.py exits 255 on a command it cannot instantiate`);
    return null;
  }
  return list;
}

const stringAt = (r: Report, keys: readonly string[], v: Json | undefined): string | null => {
  if (v === undefined) return null;
  if (typeof v !== "string") {
    r.error(keys, `expected a string, found ${kind(v)}`);
    return null;
  }
  return v;
};

function firstVersion(r: Report, keys: readonly string[], v: Json | undefined): string | null {
  const s = stringAt(r, keys, v);
  if (s === null) return null;
  const first = s.split(",", 1)[0]!.trim();
  if (!first) r.error(keys, "expected a DIRAC version (the first of a comma list), found an empty string");
  return first || null;
}

function extensionsOf(v: Json | undefined): string[] {
  const items = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  return items.map((s) => s.trim()).filter((s) => s !== "" && s !== "None");
}

interface CeFacts {
  listed: boolean;
  site: string;
  gridCEType: string;
  localCEType: string | null;
}

function selectCe(r: Report, root: Obj, want: PilotJsonWant): CeFacts {
  const facts: CeFacts = { listed: false, site: "", gridCEType: "", localCEType: null };
  if (!has(root, "CEs")) {
    r.warn(["CEs"], "absent: no CE is described, Site and GridCEType stay empty");
  } else if (!isObj(root.CEs)) {
    r.error(["CEs"], `expected an object keyed by CE name, found ${kind(root.CEs)}`);
    return facts;
  }
  const ces = isObj(root.CEs) ? root.CEs : {};
  const ceKeys = ["CEs", want.ce];
  if (!has(ces, want.ce)) {
    const known = Object.keys(ces);
    const listed = known.length ? ` (listed: ${known.slice(0, 8).join(", ")}${known.length > 8 ? ", ..." : ""})` : "";
    if (want.site) r.warn(ceKeys, `the space is not listed${listed}: Site and GridCEType are empty, the site comes from --name=${want.site} and the commands from the Defaults entries`);
    else r.error(ceKeys, `the space is not listed${listed} and no DIRAC site name is configured (payload.dirac.site, ##user_data_option_dirac_site##): expected one of the two`);
    return facts;
  }
  const ce = ces[want.ce];
  if (!isObj(ce)) {
    r.error(ceKeys, `expected an object with Site and GridCEType, found ${kind(ce)}`);
    return facts;
  }
  facts.listed = true;
  for (const [key, field] of [["Site", "site"], ["GridCEType", "gridCEType"]] as const) {
    if (!has(ce, key)) {
      if (key === "Site" && !want.site) r.error([...ceKeys, key], "absent and no DIRAC site name is configured (payload.dirac.site): expected the site the space belongs to");
      else r.warn([...ceKeys, key], "absent: it stays empty");
      continue;
    }
    const v = ce[key];
    // The pilot takes str() of whatever is there; a non-string is a publishing mistake.
    if (typeof v !== "string" || v === "") r.error([...ceKeys, key], `expected a non-empty string, found ${kind(v)}`);
    else facts[field] = v;
  }
  if (has(ce, "LocalCEType")) {
    const v = stringAt(r, [...ceKeys, "LocalCEType"], ce.LocalCEType);
    if (v !== null) facts.localCEType = v;
  }
  if (has(ce, want.queue)) {
    const q = ce[want.queue];
    // The pilot does CEs[ce][queue]["LocalCEType"]: on a string that is a TypeError at start-up.
    if (!isObj(q)) r.error([...ceKeys, want.queue], `expected the queue's object (LocalCEType), found ${kind(q)}: the queue name collides with a CE key and dirac-pilot.py crashes on it`);
    else if (has(q, "LocalCEType")) {
      const v = stringAt(r, [...ceKeys, want.queue, "LocalCEType"], q.LocalCEType);
      if (v !== null) facts.localCEType = v;
    }
  }
  return facts;
}

function noLaunchAgent(r: Report, commands: string[], from: string): void {
  if (!commands.some((c) => c.endsWith("LaunchAgent"))) {
    r.warnings.push(`pilot.json: ${from}: the command list has no LaunchAgent: the pilot configures DIRAC but runs no JobAgent, so no job can run in this VM`);
  }
}

function resolveOld(r: Report, root: Obj, want: PilotJsonWant, ce: CeFacts): ResolvedPilot | null {
  const setups = root.Setups;
  if (!isObj(setups)) {
    r.error(["Setups"], `expected an object of setups (old schema), found ${kind(setups)}`);
    return null;
  }
  let setup = want.setup ?? "";
  if (!setup && has(root, "DefaultSetup")) {
    const d = stringAt(r, ["DefaultSetup"], root.DefaultSetup);
    if (d !== null) setup = d;
  }
  const mine = setup && has(setups, setup) ? setups[setup] : undefined;
  const defaults = has(setups, "Defaults") ? setups.Defaults : undefined;
  for (const [name, v] of [[setup, mine], ["Defaults", defaults]] as const) {
    if (v !== undefined && !isObj(v)) r.error(["Setups", name], `expected an object (Commands, Version, ConfigurationServer...), found ${kind(v)}`);
  }
  if (mine === undefined && defaults === undefined) {
    r.error(["Setups"], `has neither ${setup ? `the setup ${JSON.stringify(setup)} nor ` : ""}Defaults: expected at least Setups.Defaults`);
    return null;
  }
  if (setup && mine === undefined) r.warn(["Setups", setup], "absent: every value comes from Setups.Defaults");
  if (r.errors.length) return null;
  const S = isObj(mine) ? mine : {};
  const D = isObj(defaults) ? defaults : {};
  for (const [keys, o] of [[["Setups", setup], S], [["Setups", "Defaults"], D]] as const) {
    if (has(o, "Commands") && !isObj(o.Commands)) r.error([...keys, "Commands"], `expected an object keyed by GridCEType or Defaults, found ${kind(o.Commands)}`);
  }
  const top = isObj(root.Defaults) && isObj(root.Defaults.Commands) ? root.Defaults.Commands : {};
  const grid = ce.gridCEType;
  const candidates: [string[], Json | undefined][] = [
    [["Setups", setup, "Commands", grid], isObj(S.Commands) && has(S.Commands, grid) ? S.Commands[grid] : undefined],
    [["Setups", setup, "Commands", "Defaults"], isObj(S.Commands) && has(S.Commands, "Defaults") ? S.Commands.Defaults : undefined],
    [["Setups", "Defaults", "Commands", grid], isObj(D.Commands) && has(D.Commands, grid) ? D.Commands[grid] : undefined],
    [["Defaults", "Commands", "Defaults"], has(top, "Defaults") ? top.Defaults : undefined],
  ];
  let commands = [...BUILT_IN_COMMANDS];
  let commandsFrom = "built-in list";
  const hit = candidates.find(([, v]) => v !== undefined);
  if (hit) {
    const list = checkCommands(r, hit[0], hit[1]!, true);
    if (list) {
      commands = list;
      commandsFrom = jsonPath(hit[0]);
    }
  } else if (isObj(D.Commands) && has(D.Commands, "Defaults")) {
    r.warn(["Setups", "Defaults", "Commands", "Defaults"], "never read by dirac-pilot.py (it looks for a top-level Defaults.Commands.Defaults): the built-in command list is used");
  }
  noLaunchAgent(r, commands, commandsFrom);

  const pick = (key: string): [string[], Json] | null => {
    if (has(S, key)) return [["Setups", setup, key], S[key]!];
    if (has(D, key)) return [["Setups", "Defaults", key], D[key]!];
    return null;
  };
  const ext = pick("CommandExtensions");
  const commandExtensions = ext ? (nameList(r, ext[0], ext[1], true, "command extension names") ?? []) : [];

  let servers: string[] = [];
  if (has(root, "ConfigurationServers")) servers = nameList(r, ["ConfigurationServers"], root.ConfigurationServers!, true, "configuration server URLs") ?? [];
  const cs = pick("ConfigurationServer");
  if (cs) servers = nameList(r, cs[0], cs[1], true, "configuration server URLs") ?? servers;
  if (servers.length === 0 && !r.errors.length) r.error(["ConfigurationServers"], `no configuration server: expected ConfigurationServers, Setups.${setup || "<setup>"}.ConfigurationServer or Setups.Defaults.ConfigurationServer`);

  const ver = pick("Version");
  const version = ver ? firstVersion(r, ver[0], ver[1]) : null;
  if (!ver) r.warn(["Setups", setup || "Defaults", "Version"], "absent: the pilot installs the version it defaults to");
  const proj = pick("Project");
  const project = proj ? String(typeof proj[1] === "string" ? proj[1] : JSON.stringify(proj[1])) : null;
  const exts = pick("Extensions");
  if (r.errors.length) return null;
  return {
    schema: "old",
    ce: want.ce,
    queue: want.queue,
    setup,
    vo: want.vo ?? null,
    ceListed: ce.listed,
    site: ce.site,
    gridCEType: ce.gridCEType,
    localCEType: ce.localCEType,
    commands,
    commandsFrom,
    commandExtensions,
    version,
    project,
    extensions: extensionsOf(exts?.[1]),
    configurationServers: servers,
    cvmfsLocations: null,
  };
}

function resolveNew(r: Report, root: Obj, want: PilotJsonWant, ce: CeFacts): ResolvedPilot | null {
  if (!want.vo) {
    r.error([], "new schema without a VO: dirac-pilot.py would read it from X509_USER_PROXY and die at start-up (NotImplementedError) on a host certificate; expected payload.dirac.vo (##user_data_option_vo##)");
    return null;
  }
  const vo = want.vo;
  let setup = want.setup ?? "";
  if (!setup && has(root, "DefaultSetup")) setup = stringAt(r, ["DefaultSetup"], root.DefaultSetup) ?? "";
  // The pilot's "/%s/Pilot" % setup with an empty setup is "//Pilot": the top-level Pilot.
  const paths = ["/Defaults/Pilot", `/${setup}/Pilot`, `/${vo}/Defaults/Pilot`, `/${vo}/${setup}/Pilot`, `/${vo}/Pilot`];
  const merged: Obj = {};
  const origin = new Map<string, string[]>();
  for (const p of paths) {
    const keys = p.replace(/^\/+|\/+$/g, "").split("/");
    let node: Json | undefined = root;
    let ok = true;
    for (const [i, k] of keys.entries()) {
      if (!isObj(node)) {
        r.error(keys.slice(0, i), `expected an object on the option path ${p}, found ${kind(node)}: dirac-pilot.py crashes on it`);
        ok = false;
        break;
      }
      if (!has(node, k)) {
        ok = false;
        break;
      }
      node = node[k];
    }
    if (!ok) continue;
    if (!isObj(node)) {
      r.error(keys, `expected an object of pilot options, found ${kind(node)}`);
      continue;
    }
    for (const [k, v] of Object.entries(node)) {
      merged[k] = v;
      origin.set(k, [...keys, k]);
    }
  }
  if (!has(root, vo)) r.warn([vo], "no section for this VO: only the Defaults options apply");
  const from = (k: string): string[] => origin.get(k) ?? [k];

  if (!has(root, "ConfigurationServers")) r.error(["ConfigurationServers"], "required by the new schema (dirac-pilot.py stops with a KeyError without it): expected a list of configuration server URLs");
  else if (!Array.isArray(root.ConfigurationServers)) r.error(["ConfigurationServers"], `expected a list of configuration server URLs, found ${kind(root.ConfigurationServers)}${typeof root.ConfigurationServers === "string" ? " (the pilot would read it character by character)" : ""}`);
  else if (root.ConfigurationServers.length === 0) r.error(["ConfigurationServers"], "expected at least one configuration server URL, found an empty list");
  const servers = Array.isArray(root.ConfigurationServers) ? root.ConfigurationServers.map((s) => String(s).trim()) : [];

  let commands = [...BUILT_IN_COMMANDS];
  let commandsFrom = "built-in list";
  if (has(merged, "Commands")) {
    const c = merged.Commands;
    if (!isObj(c)) r.error(from("Commands"), `expected an object keyed by GridCEType or Defaults, found ${kind(c)}`);
    else {
      const key = [ce.gridCEType, "Defaults"].find((k) => has(c, k));
      if (key !== undefined) {
        const keys = [...from("Commands"), key];
        const list = checkCommands(r, keys, c[key]!, true);
        if (list) {
          commands = list;
          commandsFrom = jsonPath(keys);
        }
      } else {
        r.warn(from("Commands"), `has neither ${ce.gridCEType ? `${JSON.stringify(ce.gridCEType)} nor ` : ""}Defaults: the built-in command list is used`);
      }
    }
  }
  noLaunchAgent(r, commands, commandsFrom);
  const commandExtensions = has(merged, "CommandExtensions") ? (nameList(r, from("CommandExtensions"), merged.CommandExtensions!, false, "command extension names") ?? []) : [];
  const version = has(merged, "Version") ? firstVersion(r, from("Version"), merged.Version) : null;
  if (!has(merged, "Version")) r.warn([vo, "Pilot", "Version"], "absent on every option path: the pilot installs the version it defaults to");
  const project = has(merged, "Project") ? stringAt(r, from("Project"), merged.Project) : null;
  const cvmfs = has(merged, "CVMFS_locations") ? stringAt(r, from("CVMFS_locations"), merged.CVMFS_locations) : null;
  for (const k of ["RemoteLogging", "PilotLogLevel", "RemoteLoggerURL"]) {
    if (has(merged, k)) stringAt(r, from(k), merged[k]);
  }
  if (r.errors.length) return null;
  return {
    schema: "new",
    ce: want.ce,
    queue: want.queue,
    setup,
    vo,
    ceListed: ce.listed,
    site: ce.site,
    gridCEType: ce.gridCEType,
    localCEType: ce.localCEType,
    commands,
    commandsFrom,
    commandExtensions,
    version,
    project,
    extensions: extensionsOf(merged.Extensions),
    configurationServers: servers,
    cvmfsLocations: cvmfs === null ? null : cvmfs.replace(/ /g, "").split(",").filter((s) => s !== ""),
  };
}

/** Parse and check pilot.json for this VM's CE (the space), queue, VO and setup. Never throws. */
export function checkPilotJson(text: string, want: PilotJsonWant): PilotJsonCheck {
  let root: Json;
  try {
    root = JSON.parse(text) as Json;
  } catch (e) {
    return { ok: false, errors: [`pilot.json: not JSON: ${(e as Error).message}`] };
  }
  if (!isObj(root)) return { ok: false, errors: [`pilot.json: (top level): expected an object, found ${kind(root)}`] };
  const r = new Report();
  const ce = selectCe(r, root, want);
  const pilot = has(root, "Setups") ? resolveOld(r, root, want, ce) : resolveNew(r, root, want, ce);
  if (!pilot || r.errors.length) return { ok: false, errors: r.errors.length ? r.errors : ["pilot.json: cannot be resolved"] };
  return { ok: true, pilot, warnings: r.warnings };
}
