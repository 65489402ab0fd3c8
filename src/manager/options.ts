// argv -> one validated ManagerOptions object. Nothing after this reads process.argv.

import { MANAGER_KINDS, type ManagerKind } from "./render-profile.ts";
import { SUBSTITUTION_NAMES, type SubstitutionName } from "./substitution.ts";

export type ManagerCommand = "validate" | "render" | "export" | "serve" | "version" | "help";

export interface ManagerOptions {
  command: ManagerCommand;
  json: boolean;
  /** validate FILE, render TEMPLATE, export DEFINITION; "-" is standard input (validate, render). */
  file: string | null;
  /** export DIR. */
  dir: string | null;
  sets: Partial<Record<SubstitutionName, string>>;
  options: Record<string, string>;
  /** X -> the path of the file whose contents fill user_data_file_X. */
  files: Record<string, string>;
  proxy: string | null;
  manager: ManagerKind | null;
  /** serve --listen HOST:PORT (validated by the serve command). */
  listen: string | null;
  /** serve --cert FILE --key FILE (HTTPS), or --http. */
  cert: string | null;
  key: string | null;
  http: boolean;
  /** serve --state DIR: the VM token key, job outputs and VM records; without it no VM endpoints. */
  state: string | null;
  /** serve --client-ca DIR|FILE: CAs whose client certificates (and their proxies) may authenticate VMs. */
  clientCa: string | null;
  /** serve --metadata loopback|all|off: who may read the metadata emulation. */
  metadata: "loopback" | "all" | "off" | null;
}

export class UsageError extends Error {}

const COMMANDS: readonly ManagerCommand[] = ["validate", "render", "export", "serve"];
const VALUE_FLAGS = new Set(["--set", "--option", "--file", "--proxy", "--manager", "--listen", "--cert", "--key", "--state", "--client-ca", "--metadata"]);
const ALLOWED: Record<ManagerCommand, ReadonlySet<string>> = {
  validate: new Set(["--json"]),
  render: new Set(["--json", "--set", "--option", "--file", "--proxy", "--manager"]),
  export: new Set(["--json"]),
  serve: new Set(["--listen", "--cert", "--key", "--http", "--state", "--client-ca", "--metadata"]),
  version: new Set(),
  help: new Set(),
};
/** --set takes the names a site fills; the proxy comes from --proxy FILE (a PEM on a command line leaks). */
const SETTABLE = new Set<string>(SUBSTITUTION_NAMES.filter((n) => n !== "x509_proxy"));

export function parseManagerOptions(argv: readonly string[]): ManagerOptions {
  const o: ManagerOptions = { command: "help", json: false, file: null, dir: null, sets: {}, options: {}, files: {}, proxy: null, manager: null, listen: null, cert: null, key: null, http: false, state: null, clientCa: null, metadata: null };
  const seen: string[] = [];
  const positional: string[] = [];
  let command: ManagerCommand | null = null;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    if (arg === "--version") return { ...o, command: "version" };
    if (arg === "--help" || arg === "-h") return { ...o, command: "help" };
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.includes("=")) {
      inline = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    if (arg === "--json") {
      seen.push(arg);
      o.json = true;
    } else if (arg === "--http") {
      seen.push(arg);
      o.http = true;
    } else if (VALUE_FLAGS.has(arg)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      seen.push(arg);
      flagValue(o, arg, value);
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`unknown option ${arg}`);
    } else if (command === null) {
      if (!(COMMANDS as readonly string[]).includes(arg)) throw new UsageError(`unknown command ${JSON.stringify(arg)} (expected validate, render, export or serve)`);
      command = arg as ManagerCommand;
    } else {
      positional.push(arg);
    }
  }
  if (command === null) {
    if (seen.length) throw new UsageError("a command is needed: validate, render, export or serve");
    return o;
  }
  o.command = command;
  for (const flag of seen) if (!ALLOWED[command].has(flag)) throw new UsageError(`${flag} does not apply to ${command}`);
  const want = command === "export" ? 2 : 1;
  const names = command === "export" ? "DEFINITION.json DIR" : command === "serve" ? "DEFINITION.json" : command === "render" ? "TEMPLATE" : "FILE";
  if (positional.length !== want) throw new UsageError(`${command} takes ${names}`);
  o.file = positional[0]!;
  if (command === "serve") {
    if (o.file === "-") throw new UsageError("serve reads DEFINITION.json from a file: it is read again on SIGHUP");
    if (o.http && (o.cert !== null || o.key !== null)) throw new UsageError("serve: --http is plain HTTP, without --cert and --key");
    if (!o.http && (o.cert === null || o.key === null)) throw new UsageError("serve needs --cert FILE --key FILE (HTTPS) or --http");
    if (o.http && o.clientCa !== null) throw new UsageError("serve: --client-ca needs HTTPS (--cert and --key)");
    if ((o.clientCa !== null || o.metadata !== null) && o.state === null) throw new UsageError(`serve: ${o.clientCa !== null ? "--client-ca" : "--metadata"} applies to the VM endpoints, which need --state DIR`);
  }
  if (command === "export") {
    o.dir = positional[1]!;
    if (o.file === "-") throw new UsageError("export reads DEFINITION.json from a file: its templates are relative to it");
  }
  return o;
}

function flagValue(o: ManagerOptions, flag: string, value: string): void {
  const pair = (): [string, string] => {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag} ${value}: expected NAME=VALUE`);
    return [value.slice(0, eq), value.slice(eq + 1)];
  };
  switch (flag) {
    case "--set": {
      const [name, v] = pair();
      if (!SETTABLE.has(name)) throw new UsageError(`--set ${name}: not a substitution name (one of ${[...SETTABLE].join(", ")})`);
      if (o.sets[name as SubstitutionName] !== undefined) throw new UsageError(`--set ${name} given twice`);
      o.sets[name as SubstitutionName] = v;
      return;
    }
    case "--option":
    case "--file": {
      const [name, v] = pair();
      const table = flag === "--option" ? o.options : o.files;
      if (Object.hasOwn(table, name)) throw new UsageError(`${flag} ${name} given twice`);
      if (flag === "--file" && v === "") throw new UsageError(`--file ${name}: needs a PATH`);
      Object.defineProperty(table, name, { value: v, enumerable: true, writable: true, configurable: true });
      return;
    }
    case "--proxy":
      if (value === "") throw new UsageError("--proxy needs a FILE");
      o.proxy = value;
      return;
    case "--metadata":
      if (value !== "loopback" && value !== "all" && value !== "off") throw new UsageError(`--metadata ${value}: expected loopback, all or off`);
      if (o.metadata !== null) throw new UsageError("--metadata given twice");
      o.metadata = value;
      return;
    case "--listen":
    case "--cert":
    case "--key":
    case "--state":
    case "--client-ca": {
      if (value === "") throw new UsageError(`${flag} needs a value`);
      const key = (flag === "--client-ca" ? "clientCa" : flag.slice(2)) as "listen" | "cert" | "key" | "state" | "clientCa";
      if (o[key] !== null) throw new UsageError(`${flag} given twice`);
      o[key] = value;
      return;
    }
    case "--manager":
      if (!(MANAGER_KINDS as readonly string[]).includes(value)) throw new UsageError(`--manager ${value}: expected vac or vcycle`);
      o.manager = value as ManagerKind;
      return;
  }
}
