// argv -> one validated Options object. Nothing after this reads process.argv.

export type Command = "run" | "validate" | "status" | "version" | "help";

export interface Options {
  command: Command;
  userData: string | null;
  metadataUrl: string | null;
  configDrive: string | null;
  root: string | null;
  dryRun: boolean;
  json: boolean;
  sets: Record<string, string>;
  /** --metadata-wait SECONDS: how long the metadata service may take to answer (120 s by default). */
  metadataWaitSeconds: number | null;
  /** validate's FILE argument. */
  file: string | null;
}

export class UsageError extends Error {}

const VALUE_FLAGS = new Set(["--user-data", "--metadata-url", "--metadata-wait", "--config-drive", "--root", "--set"]);
const BOOL_FLAGS = new Set(["--dry-run", "--json", "--version", "--help", "-h"]);
const ALLOWED: Record<Command, ReadonlySet<string>> = {
  run: new Set(["--user-data", "--metadata-url", "--metadata-wait", "--config-drive", "--root", "--set", "--dry-run", "--json"]),
  validate: new Set(["--user-data", "--metadata-url", "--metadata-wait", "--config-drive", "--set", "--json"]),
  status: new Set(["--root", "--json"]),
  version: new Set(),
  help: new Set(),
};

export function parseOptions(argv: readonly string[]): Options {
  const o: Options = { command: "run", userData: null, metadataUrl: null, configDrive: null, root: null, dryRun: false, json: false, sets: {}, metadataWaitSeconds: null, file: null };
  const seen: string[] = [];
  const positional: string[] = [];
  let explicitCommand = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.includes("=")) {
      inline = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    if (VALUE_FLAGS.has(arg)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${arg} needs a value`);
      seen.push(arg);
      switch (arg) {
        case "--user-data": o.userData = value; break;
        case "--metadata-url": o.metadataUrl = checkMetadataUrl(value); break;
        case "--metadata-wait": {
          if (!/^[0-9]+$/.test(value) || Number(value) > 3600) throw new UsageError(`--metadata-wait ${value}: expected whole seconds, 0 to 3600`);
          o.metadataWaitSeconds = Number(value);
          break;
        }
        case "--config-drive": o.configDrive = value; break;
        case "--root": o.root = value; break;
        case "--set": {
          const eq = value.indexOf("=");
          if (eq <= 0) throw new UsageError(`--set ${value}: expected KEY=VALUE`);
          o.sets[value.slice(0, eq).trim()] = value.slice(eq + 1);
          break;
        }
      }
    } else if (BOOL_FLAGS.has(arg)) {
      if (inline !== undefined) throw new UsageError(`${arg} takes no value`);
      if (arg === "--version") return { ...o, command: "version" };
      if (arg === "--help" || arg === "-h") return { ...o, command: "help" };
      seen.push(arg);
      if (arg === "--dry-run") o.dryRun = true;
      if (arg === "--json") o.json = true;
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`unknown option ${arg}`);
    } else if (!explicitCommand && positional.length === 0 && (arg === "run" || arg === "validate" || arg === "status" || arg === "help" || arg === "version")) {
      o.command = arg;
      explicitCommand = true;
    } else {
      positional.push(arg);
    }
  }
  for (const flag of seen) {
    if (!ALLOWED[o.command].has(flag)) throw new UsageError(`${flag} does not apply to "agent ${o.command}"`);
  }
  if (o.command === "validate") {
    if (positional.length > 1) throw new UsageError(`validate takes at most one FILE, got ${positional.length}`);
    o.file = positional[0] ?? null;
  } else if (positional.length > 0) {
    throw new UsageError(`unexpected argument ${positional[0]}${explicitCommand ? "" : " (commands: run, validate, status)"}`);
  }
  return o;
}

function checkMetadataUrl(value: string): string {
  if (value === "none") return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--metadata-url ${value}: expected an http(s) URL or "none"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--metadata-url ${value}: expected an http(s) URL or "none"`);
  return value.replace(/\/+$/, "");
}
