// The pilot's account and the payload users, with homes on scratch and no login shell. No sudo:
// today's scripts append four sudoers lines (and a passwd line, without locking) for each of 100
// users per processor (pilots.md 1.2 item 10, section 8); isolation belongs to Apptainer and to
// a few properly created accounts. useradd (through the executor) takes /etc/passwd's lock, and an
// account that already exists counts as done, so a second run changes nothing.

import { posix } from "node:path";
import type { Context } from "../context/context.ts";
import type { Action } from "../plan/actions.ts";
import { isolation } from "./isolation.ts";
import type { Stage } from "./stage.ts";

export const NO_LOGIN_SHELL = "/usr/sbin/nologin";

/** `vacpay01`, `vacpay02`, ... `vacpay99`, `vacpay100`: names do not change with the count. */
export const payloadUserName = (prefix: string, n: number): string => `${prefix}${String(n).padStart(2, "0")}`;

/**
 * Whether the pilot's account is used: by a DIRAC pilot, and by the isolation stage's proof (it
 * runs the container as the pilot user). A command or HTCondor payload without isolation has its
 * own user (or condor's), and an unused account is only a useradd (~0.15 s in a slow VM) for nothing.
 */
export const needsPilotAccount = (ctx: Context): boolean => ctx.config.payload.type === "dirac" || isolation.skip(ctx) === null;

/** The pilot user first (when it is used), then the payload users, without duplicates. */
export function accountNames(ctx: Context): string[] {
  const a = ctx.config.accounts;
  const names = needsPilotAccount(ctx) ? [a.pilot_user] : [];
  for (let n = 1; n <= a.payload_users; n++) names.push(payloadUserName(a.payload_user_prefix, n));
  return [...new Set(names)];
}

export const homesDir = (ctx: Context): string => posix.join(ctx.config.scratch.mount_point, "home");

function planAccounts(ctx: Context): Action[] {
  const pilot = ctx.config.accounts.pilot_user;
  const actions: Action[] = [{ kind: "mkdir", path: homesDir(ctx), mode: 0o755, why: "homes on scratch, not on the root disk" }];
  for (const name of accountNames(ctx)) {
    const home = posix.join(homesDir(ctx), name);
    actions.push(
      { kind: "create-user", name, home, shell: NO_LOGIN_SHELL, system: true, why: name === pilot ? "the pilot's account" : "an account for one payload" },
      { kind: "mkdir", path: home, mode: 0o700, owner: { user: name, group: name }, why: `${name}'s home, private to it` },
    );
  }
  return actions;
}

export const accounts: Stage = {
  id: "accounts",
  title: "pilot and payload accounts",
  skip: (ctx) => (accountNames(ctx).length === 0 ? `no account to create (a ${ctx.config.payload.type} payload without isolation and accounts.payload_users 0)` : null),
  plan: planAccounts,
  failure: { code: 500, fatal: true, text: "Cannot create the pilot and payload accounts" },
};
