// How a planned command runs under --root: the plan's users were only recorded there and its files
// live under DIR, so the command runs as ourselves when its user exists only in the record, and
// every machine path it is given (the program, arguments such as `/scratch/dirac/pilot/x.py` or
// `--certLocation=/scratch/...`, and environment values such as X509_CERT_DIR) names the copy
// under DIR when there is one. Without --root the plan is taken as it is.
// Shared by run-command (src/exec/executor.ts) and run-payload (src/supervise/payload-process.ts).

import { existsSync } from "node:fs";
import { findUser } from "./accounts.ts";
import { rootedPath } from "./rooted.ts";

export interface RootedInvocation {
  argv: string[];
  user: string | undefined;
  env?: Record<string, string>;
  /** Set when the planned user could not be honoured under --root. */
  note?: string;
}

/** A machine path's copy under root when it exists there; anything else unchanged. */
function rootedWord(root: string, word: string): string {
  const m = /^(--?[A-Za-z][\w-]*=)?(\/[^\0]*)$/.exec(word);
  if (!m) return word;
  try {
    const inside = rootedPath(root, m[2]!);
    return existsSync(inside) ? `${m[1] ?? ""}${inside}` : word;
  } catch {
    return word;
  }
}

export function rootedInvocation(root: string | null, argv: readonly string[], user: string | undefined, env?: Record<string, string>): RootedInvocation {
  if (root === null) return { argv: [...argv], user, ...(env ? { env } : {}) };
  const recordedOnly = user !== undefined && !findUser(root, user);
  return {
    argv: argv.map((w) => rootedWord(root, w)),
    user: recordedOnly ? undefined : user,
    ...(env ? { env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, rootedWord(root, v)])) } : {}),
    ...(recordedOnly ? { note: `not run as ${user}: that user exists only as a recorded create-user (--root)` } : {}),
  };
}
