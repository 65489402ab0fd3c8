// How a planned command runs under --root: the plan's users were only recorded there and its files
// live under DIR, so the command runs as ourselves when its user exists only in the record, and
// the program comes from DIR when it is there. Without --root the plan is taken as it is.
// Shared by run-command (src/exec/executor.ts) and run-payload (src/supervise/payload-process.ts).

import { existsSync } from "node:fs";
import { findUser } from "./accounts.ts";
import { rootedPath } from "./rooted.ts";

export interface RootedInvocation {
  argv: string[];
  user: string | undefined;
  /** Set when the planned user could not be honoured under --root. */
  note?: string;
}

export function rootedInvocation(root: string | null, argv: readonly string[], user: string | undefined): RootedInvocation {
  if (root === null) return { argv: [...argv], user };
  const recordedOnly = user !== undefined && !findUser(root, user);
  const first = argv[0];
  const program = first !== undefined && first.startsWith("/") && existsSync(rootedPath(root, first)) ? rootedPath(root, first) : first;
  return {
    argv: program === undefined ? [...argv] : [program, ...argv.slice(1)],
    user: recordedOnly ? undefined : user,
    ...(recordedOnly ? { note: `not run as ${user}: that user exists only as a recorded create-user (--root)` } : {}),
  };
}
