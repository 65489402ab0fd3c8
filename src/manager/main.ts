// parse argv -> ManagerOptions, call the command, map the outcome to an exit code. Commands are
// imported when they run, so --version and --help start in milliseconds.

import { versionLine } from "../version.ts";
import { MANAGER_EXIT, MANAGER_HELP } from "./help.ts";
import { parseManagerOptions, UsageError, type ManagerOptions } from "./options.ts";

export async function main(argv: string[]): Promise<number> {
  let options: ManagerOptions;
  try {
    options = parseManagerOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`manager: ${err.message}\nTry 'manager --help'.\n`);
      return MANAGER_EXIT.usage;
    }
    throw err;
  }
  switch (options.command) {
    case "version":
      process.stdout.write(versionLine("manager") + "\n");
      return MANAGER_EXIT.ok;
    case "help":
      process.stdout.write(MANAGER_HELP);
      return MANAGER_EXIT.ok;
    case "validate":
      return (await import("./validate-command.ts")).validateCommand(options);
    case "render":
      return (await import("./render-command.ts")).renderCommand(options);
    case "export":
      return (await import("./export-command.ts")).exportCommand(options);
    case "serve":
      return (await import("./serve-command.ts")).serveCommand(options);
  }
}
