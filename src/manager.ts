// Entry point of the compiled `manager` binary. Kept free of dependency imports so that
// `manager --version` and `manager --help` start in a few milliseconds (toolchain.md section 6).
import { main } from "./manager/main.ts";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // The last line of defence: never a stack trace for the operator, always an exit code.
    process.stderr.write(`manager: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(70);
  },
);
