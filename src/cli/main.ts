// parse argv -> Options, call the command, map the outcome to an exit code. Heavy modules are
// imported inside the commands that need them, so --version and --help start in milliseconds.

import { EXIT, HELP } from "./help.ts";
import { parseOptions, UsageError, type Options } from "./options.ts";
import { versionLine } from "../version.ts";
import { startupMark } from "../status/startup-marks.ts";

export async function main(argv: string[]): Promise<number> {
  startupMark("main");
  // Hidden: the watchdog process the agent starts for itself (src/supervise/watchdog.ts).
  if (argv[0] === "watchdog") return (await import("../supervise/watchdog.ts")).runWatchdog(argv);
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`agent: ${err.message}\nTry 'agent --help'.\n`);
      return EXIT.usage;
    }
    throw err;
  }
  switch (options.command) {
    case "version":
      process.stdout.write(versionLine("agent") + "\n");
      return EXIT.ok;
    case "help":
      process.stdout.write(HELP);
      return EXIT.ok;
    case "run": {
      const run = await import("./run-command.ts");
      startupMark("loaded");
      return run.runCommand(options);
    }
    case "validate":
      return (await import("./validate-command.ts")).validateCommand(options);
    case "status":
      return (await import("./status-command.ts")).statusCommand(options);
  }
}
