// Entry point of the compiled `agent` binary. Kept free of dependency imports so that
// `agent --version` and `agent --help` start in a few milliseconds (toolchain.md section 6).
import { main } from "./cli/main.ts";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // The last line of defence: never a stack trace for the site admin, always an exit code.
    process.stderr.write(`agent: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(70);
  },
);
