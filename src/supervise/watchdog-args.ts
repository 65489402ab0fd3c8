// The watchdog's interface: its command line (the agent binary started again with a hidden
// subcommand, `agent watchdog --at <unix s> [--root DIR] --spool PATH --message "NNN text"`) and
// the two paths it shares with the agent. Everything else it needs travels in argv, so it depends
// on no process of the agent's.

import { shutdownMessage, SHUTDOWN_MESSAGE_PATTERN } from "../contract/codes.ts";
import { AGENT_PATHS } from "../status/paths.ts";

export const WATCHDOG_SUBCOMMAND = "watchdog";

/** Machine paths (rooted under --root) shared by the watchdog and the agent that starts it. */
export const WATCHDOG_PATHS = {
  /** Its presence makes a waiting watchdog exit without doing anything. */
  disarm: `${AGENT_PATHS.stateDir}/watchdog.disarm`,
  /** Output of a watchdog started without systemd-run. */
  log: `${AGENT_PATHS.logDir}/watchdog.log`,
} as const;

export interface WatchdogArgs {
  /** Unix seconds when the VM must be powered off. */
  at: number;
  /** --root DIR, or null on a real VM. */
  root: string | null;
  /** Machine path of the job outputs spool (/var/spool/joboutputs). */
  spool: string;
  /** The single `NNN text` line written as shutdown_message when the agent left none. */
  message: string;
}

export const DEFAULT_WATCHDOG_MESSAGE = shutdownMessage(700, "Agent did not finish before its deadline; the watchdog powered the VM off");

/** The argv that starts the watchdog: `[execPath, "watchdog", "--at", …]`. */
export function watchdogArgv(execPath: string, o: WatchdogArgs): string[] {
  return [
    execPath,
    WATCHDOG_SUBCOMMAND,
    "--at",
    String(Math.floor(o.at)),
    ...(o.root !== null ? ["--root", o.root] : []),
    "--spool",
    o.spool,
    "--message",
    o.message,
  ];
}

/**
 * Parses the arguments after `watchdog` (a leading `watchdog` is skipped too). `--flag value` and
 * `--flag=value` both work. A message that is not one valid `NNN text` line is replaced by the
 * default 700 message rather than refused: the watchdog must power off whatever it was given.
 */
export function parseWatchdogArgs(argv: readonly string[]): { args: WatchdogArgs; note?: string } | { error: string } {
  const rest = argv[0] === WATCHDOG_SUBCOMMAND ? argv.slice(1) : [...argv];
  const seen: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const m = /^--(at|root|spool|message)(?:=(.*))?$/s.exec(arg);
    if (!m) return { error: `unexpected argument ${JSON.stringify(arg)}; expected --at, --root, --spool or --message` };
    const value = m[2] ?? rest[++i];
    if (value === undefined) return { error: `--${m[1]} needs a value` };
    seen[m[1]!] = value;
  }
  if (seen.at === undefined) return { error: "--at <unix seconds> is required" };
  if (!/^[0-9]{1,12}$/.test(seen.at)) return { error: `--at expects unix seconds, found ${JSON.stringify(seen.at)}` };
  const spool = seen.spool ?? AGENT_PATHS.joboutputs;
  if (!spool.startsWith("/")) return { error: `--spool expects an absolute machine path, found ${JSON.stringify(spool)}` };
  if (seen.root === "") return { error: "--root expects a directory" };
  const given = seen.message;
  const valid = given !== undefined && given.length <= 200 && SHUTDOWN_MESSAGE_PATTERN.test(given);
  return {
    args: { at: Number(seen.at), root: seen.root ?? null, spool, message: valid ? given : DEFAULT_WATCHDOG_MESSAGE },
    ...(given !== undefined && !valid ? { note: `--message is not one "NNN text" line; using "${DEFAULT_WATCHDOG_MESSAGE}"` } : {}),
  };
}
