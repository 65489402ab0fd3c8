// The options today's dirac-pilot.py accepts (DIRACGrid/Pilot pilotTools.py `cmdOpts`, pilots.md
// 2.1), parsed the way its getopt.getopt does, and the check of the extra options a template
// passes in ##user_data_option_dirac_opts## (payload.dirac.extra_options).
//
// Why a check: an option the pilot does not know (`--pythonVersion`, removed in 2024; `-V`, which
// DIRAC's SiteDirector still emits) is a getopt.GetoptError: a traceback and exit 1 before anything
// runs. Some short forms are traps: `-K` is accepted but ignored (its handler tests `-C`), `-n`
// (site) and `-N` (CE) differ only by case. So the agent writes long options only: a short form is
// rewritten to its long one, an abbreviated long option (getopt accepts unique prefixes) to its full
// name, and the options the agent sets itself from the configuration are refused with the key to
// use instead, so there is never a question of which one wins.

export interface PilotOption {
  /** Long name without the dashes, as getopt matches it (case-sensitive). */
  long: string;
  /** Short letter, when there is one. */
  short?: string;
  /** Takes a value (`--x=v` / `-x v`). */
  value: boolean;
  /** The agent sets it: the configuration key (or reason) to use instead. */
  ownedBy?: string;
  /** Accepted by getopt but has no handler in the pilot. */
  ignored?: boolean;
  /** A warning shown when the option is used. */
  note?: string;
}

/** In the pilot's own order (pilotTools.py cmdOpts, DIRACGrid/Pilot @ 7789402). */
export const PILOT_OPTIONS: readonly PilotOption[] = [
  { long: "requiredTag", value: true },
  { long: "gridCEType", short: "a", value: true },
  { long: "cert", short: "c", value: false, ownedBy: "the agent (host certificate from the credentials)" },
  { long: "debug", short: "d", value: false },
  { long: "extraPackages", short: "e", value: true, note: "read by VO extension commands only; vanilla commands ignore it" },
  { long: "loggerURL", short: "g", value: true },
  { long: "help", short: "h", value: false, ignored: true },
  { long: "keepPP", short: "k", value: false },
  { long: "project", short: "l", value: true },
  { long: "name", short: "n", value: true, ownedBy: "payload.dirac.site (##user_data_option_dirac_site##)" },
  { long: "option", short: "o", value: true },
  { long: "maxNumberOfProcessors", short: "m", value: true },
  { long: "modules", value: true },
  { long: "userEnvVariables", value: true },
  { long: "pipInstallOptions", value: true },
  { long: "release", short: "r", value: true, note: "only the first of a comma list is used" },
  { long: "section", short: "s", value: true, ignored: true },
  { long: "tag", short: "t", value: true },
  { long: "url", short: "u", value: true, ignored: true },
  { long: "execute", short: "x", value: true, note: "replaces the JobAgent: no job is matched, so the outcome is never 200" },
  { long: "CEType", short: "y", value: true, ownedBy: "the agent (Singularity or InProcess, Pool for several processors, from the isolation check)" },
  { long: "pilotLogging", short: "z", value: false },
  { long: "configurationServer", short: "C", value: true },
  { long: "disk", short: "D", value: true },
  { long: "commandExtensions", short: "E", value: true },
  { long: "pilotCFGFile", short: "F", value: true, ownedBy: "the agent (pilot.json in the pilot directory, checked before the start)" },
  { long: "Group", short: "G", value: true },
  { long: "certLocation", short: "K", value: true, ownedBy: "the agent (the pilot user's copy of the host certificate)" },
  { long: "MaxCycles", short: "M", value: true, ownedBy: "payload.dirac.max_cycles" },
  { long: "PollingTime", value: true },
  { long: "StopOnApplicationFailure", value: true },
  { long: "StopAfterFailedMatches", value: true, ownedBy: "payload.dirac.stop_after_failed_matches" },
  { long: "Name", short: "N", value: true, ownedBy: "the agent (the space, identity.space)" },
  { long: "OwnerDN", short: "O", value: true },
  { long: "wnVO", value: true, ownedBy: "payload.dirac.vo (##user_data_option_vo##)" },
  { long: "pilotProcessors", short: "P", value: true, ownedBy: "the agent ($JOBFEATURES/allocated_cpu, else the VM's processors)" },
  { long: "Queue", short: "Q", value: true, ownedBy: "payload.dirac.queue (##user_data_option_dirac_queue##)" },
  { long: "reference", short: "R", value: true, ignored: true },
  { long: "setup", short: "S", value: true, ownedBy: "payload.dirac.setup (##user_data_option_dirac_setup##)" },
  { long: "CPUTime", short: "T", value: true },
  { long: "gateway", short: "W", value: true },
  { long: "commands", short: "X", value: true },
  { long: "commandOptions", short: "Z", value: true },
  { long: "pilotUUID", value: true },
  { long: "preinstalledEnv", value: true },
  { long: "preinstalledEnvPrefix", value: true },
  { long: "architectureScript", value: true },
  { long: "CVMFS_locations", value: true },
];

/** Options people still write that today's pilot rejects, with why. */
const GONE: Readonly<Record<string, string>> = {
  "--pythonVersion": "removed from the pilot in 2024 (DIRACGrid/Pilot 6475502)",
  "-V": "the pilot has no -V (DIRAC's SiteDirector still emits -V <Installation>)",
};

/** `-o` values the agent writes itself. */
const OWNED_CS_OPTIONS: readonly { prefix: string; by: string }[] = [{ prefix: "/LocalSite/SubmitPool=", by: "payload.dirac.submit_pool (##user_data_option_submit_pool##)" }];

const BY_LONG = new Map(PILOT_OPTIONS.map((o) => [o.long, o]));
const BY_SHORT = new Map(PILOT_OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

export interface ParsedOption {
  option: PilotOption;
  value: string | null;
  /** The token(s) as written. */
  written: string;
}

export type ParsedArgv = { ok: true; options: ParsedOption[]; rest: string[] } | { ok: false; error: string };

/**
 * Python's getopt.getopt(argv, shortopts, longopts) over the pilot's table: long options by exact
 * name or unique prefix, short options in clusters, parsing stops at the first non-option (the
 * pilot ignores it and everything after it) or after `--`.
 */
export function parsePilotArgv(argv: readonly string[]): ParsedArgv {
  const options: ParsedOption[] = [];
  let i = 0;
  while (i < argv.length) {
    const tok = argv[i]!;
    if (tok === "--") return { ok: true, options, rest: argv.slice(i + 1) };
    if (!tok.startsWith("-") || tok === "-") return { ok: true, options, rest: argv.slice(i) };
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      const name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      let opt = BY_LONG.get(name);
      if (!opt) {
        const matches = PILOT_OPTIONS.filter((o) => o.long.startsWith(name));
        if (matches.length === 0 || name === "") return { ok: false, error: `option --${name} not recognized` };
        if (matches.length > 1) return { ok: false, error: `option --${name} not a unique prefix (${matches.map((m) => `--${m.long}`).join(", ")})` };
        opt = matches[0]!;
      }
      if (opt.value) {
        if (eq >= 0) options.push({ option: opt, value: tok.slice(eq + 1), written: tok });
        else if (i + 1 < argv.length) {
          options.push({ option: opt, value: argv[i + 1]!, written: `${tok} ${argv[i + 1]}` });
          i++;
        } else return { ok: false, error: `option --${opt.long} requires argument` };
      } else {
        if (eq >= 0) return { ok: false, error: `option --${opt.long} must not have an argument` };
        options.push({ option: opt, value: null, written: tok });
      }
      i++;
      continue;
    }
    // A cluster of short options: -dk, -rv8r5 (-r with the value v8r5), -r v8r5.
    let j = 1;
    while (j < tok.length) {
      const letter = tok[j]!;
      const opt = BY_SHORT.get(letter);
      if (!opt) return { ok: false, error: `option -${letter} not recognized` };
      if (!opt.value) {
        options.push({ option: opt, value: null, written: `-${letter}` });
        j++;
        continue;
      }
      if (j + 1 < tok.length) options.push({ option: opt, value: tok.slice(j + 1), written: `-${letter}${tok.slice(j + 1)}` });
      else if (i + 1 < argv.length) {
        options.push({ option: opt, value: argv[i + 1]!, written: `-${letter} ${argv[i + 1]}` });
        i++;
      } else return { ok: false, error: `option -${letter} requires argument` };
      break;
    }
    i++;
  }
  return { ok: true, options, rest: [] };
}

export type ShellWords = { ok: true; words: string[] } | { ok: false; error: string };

/**
 * POSIX shell word splitting with quote removal, without expansions: 'single' quotes are literal,
 * "double" quotes keep spaces and honour \" \\ \$ \`, a backslash outside quotes escapes the next
 * character. `$` and globs are kept as written (the pilot gets no shell).
 */
export function splitShellWords(text: string): ShellWords {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: `unterminated ' quote at character ${i + 1}` };
      cur += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        cur += text[j];
      }
      if (j >= text.length) return { ok: false, error: `unterminated " quote at character ${i + 1}` };
      inWord = true;
      i = j;
    } else if (c === "\\") {
      if (i + 1 < text.length) {
        if (text[i + 1] !== "\n") cur += text[i + 1];
        i++;
        inWord = true;
      }
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return { ok: true, words };
}

export interface ExtraOptionsCheck {
  /** The options rewritten in long form (`--name=value`); complete only when errors is empty. */
  argv: string[];
  errors: string[];
  warnings: string[];
}

function checkValue(o: ParsedOption): string | null {
  const v = o.value ?? "";
  switch (o.option.long) {
    case "commandOptions": {
      const bad = v.split(",").filter((t) => !t.includes("="));
      return bad.length ? `expected key=value items separated by commas, found ${bad.map((b) => JSON.stringify(b)).join(", ")} (dirac-pilot.py crashes on an item without "=")` : null;
    }
    case "maxNumberOfProcessors":
      return /^-?\d+$/.test(v.trim()) ? null : `expected an integer, found ${JSON.stringify(v)} (dirac-pilot.py crashes on it)`;
    case "option":
      return v.includes("=") ? null : `expected /Path/Option=value, found ${JSON.stringify(v)}`;
    default:
      return null;
  }
}

function warningFor(o: ParsedOption): string | null {
  const v = o.value ?? "";
  if (o.option.ignored) return `${o.written}: accepted and ignored by dirac-pilot.py (no handler)`;
  if (o.option.long === "disk" && !/^\d+$/.test(v.trim())) return `${o.written}: not an integer: dirac-pilot.py ignores it and keeps 2560 MB`;
  if (["PollingTime"].includes(o.option.long) && !/^\d+$/.test(v.trim())) return `${o.written}: not an integer: dirac-pilot.py ignores it`;
  if (o.option.long === "userEnvVariables" && /\s/.test(v)) return `${o.written}: dirac-pilot.py removes every space from it`;
  if (o.option.note) return `${o.written}: ${o.option.note}`;
  return null;
}

/**
 * Check `##user_data_option_dirac_opts##`: shell-like words, every one an option today's pilot
 * accepts, none the agent sets itself; returned in long form.
 */
export function checkExtraOptions(text: string): ExtraOptionsCheck {
  const out: ExtraOptionsCheck = { argv: [], errors: [], warnings: [] };
  const split = splitShellWords(text);
  if (!split.ok) {
    out.errors.push(split.error);
    return out;
  }
  const words = split.words;
  for (const w of words) {
    const name = w.startsWith("--") ? w.split("=", 1)[0]! : w.slice(0, 2);
    if (GONE[name]) out.errors.push(`${w}: not an option of today's dirac-pilot.py: ${GONE[name]}; it would stop with a getopt error at start-up`);
  }
  if (out.errors.length) return out;
  const parsed = parsePilotArgv(words);
  if (!parsed.ok) {
    out.errors.push(`${parsed.error}: dirac-pilot.py would stop with a getopt error at start-up (accepted: ${PILOT_OPTIONS.map((o) => `--${o.long}`).join(" ")})`);
    return out;
  }
  if (parsed.rest.length) {
    out.errors.push(`${JSON.stringify(parsed.rest[0])} is not an option: dirac-pilot.py's getopt stops there and ignores it and everything after it (${parsed.rest.length} word(s))`);
  }
  for (const o of parsed.options) {
    if (o.option.ownedBy) {
      out.errors.push(`${o.written}: set by the agent from ${o.option.ownedBy}; remove it from the extra options`);
      continue;
    }
    const owned = o.option.long === "option" ? OWNED_CS_OPTIONS.find((c) => (o.value ?? "").startsWith(c.prefix)) : undefined;
    if (owned) {
      out.errors.push(`${o.written}: set by the agent from ${owned.by}; remove it from the extra options`);
      continue;
    }
    const bad = checkValue(o);
    if (bad) {
      out.errors.push(`${o.written}: ${bad}`);
      continue;
    }
    const warn = warningFor(o);
    if (warn) out.warnings.push(warn);
    out.argv.push(o.value === null ? `--${o.option.long}` : `--${o.option.long}=${o.value}`);
  }
  return out;
}
