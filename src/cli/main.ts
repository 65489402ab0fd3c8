import { versionLine } from "../version.ts";

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--version") {
    process.stdout.write(versionLine("agent") + "\n");
    return 0;
  }
  process.stderr.write("agent: not implemented yet\n");
  return 64;
}
