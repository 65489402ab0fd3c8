import { describe, expect, it } from "vitest";
import type { Action } from "../../src/plan/actions.ts";
import { accountNames, accounts, needsPilotAccount, payloadUserName } from "../../src/stages/accounts.ts";
import { makeContext } from "../support/context.ts";

const user = (name: string, home: string, why: string): Action => ({ kind: "create-user", name, home, shell: "/usr/sbin/nologin", system: true, why });
const home = (name: string, path: string): Action => ({ kind: "mkdir", path, mode: 0o700, owner: { user: name, group: name }, why: `${name}'s home, private to it` });

const dirac = { payload: { type: "dirac" as const } };

describe("accounts", () => {
  it("is skipped for a command payload without isolation or payload users: no unused account", () => {
    expect(accounts.skip(makeContext())).toBe("no account to create (a command payload without isolation and accounts.payload_users 0)");
    expect(needsPilotAccount(makeContext())).toBe(false);
    expect(accountNames(makeContext())).toEqual([]);
  });

  it("applies for a DIRAC pilot, and for payload users", () => {
    expect(accounts.skip(makeContext({ config: dirac }))).toBeNull();
    expect(accounts.skip(makeContext({ config: { accounts: { payload_users: 1 } } }))).toBeNull();
    expect(accountNames(makeContext({ config: { accounts: { payload_users: 1 } } }))).toEqual(["vacpay01"]);
  });

  it("creates the pilot user with a private home on scratch", () => {
    expect(accounts.plan(makeContext({ config: dirac }))).toEqual([
      { kind: "mkdir", path: "/scratch/home", mode: 0o755, why: "homes on scratch, not on the root disk" },
      user("vacpilot", "/scratch/home/vacpilot", "the pilot's account"),
      home("vacpilot", "/scratch/home/vacpilot"),
    ]);
  });

  it("adds numbered payload users under the configured prefix and mount point", () => {
    const ctx = makeContext({ config: { ...dirac, accounts: { pilot_user: "plt", payload_users: 2, payload_user_prefix: "pay" }, scratch: { mount_point: "/data" } } });
    expect(accounts.plan(ctx)).toEqual([
      { kind: "mkdir", path: "/data/home", mode: 0o755, why: "homes on scratch, not on the root disk" },
      user("plt", "/data/home/plt", "the pilot's account"),
      home("plt", "/data/home/plt"),
      user("pay01", "/data/home/pay01", "an account for one payload"),
      home("pay01", "/data/home/pay01"),
      user("pay02", "/data/home/pay02", "an account for one payload"),
      home("pay02", "/data/home/pay02"),
    ]);
  });

  it.each([
    [1, "vacpay01"],
    [9, "vacpay09"],
    [42, "vacpay42"],
    [100, "vacpay100"],
    [1000, "vacpay1000"],
  ])("payload user %i is %s", (n, name) => {
    expect(payloadUserName("vacpay", n)).toBe(name);
  });

  it("never lists a user twice (a pilot named like a payload user)", () => {
    const ctx = makeContext({ config: { ...dirac, accounts: { pilot_user: "vacpay01", payload_users: 2 } } });
    expect(accountNames(ctx)).toEqual(["vacpay01", "vacpay02"]);
    expect(accounts.plan(ctx).filter((a) => a.kind === "create-user")).toHaveLength(2);
  });

  it("scales to the schema's maximum with valid, unique names and no login shells", () => {
    const ctx = makeContext({ config: { ...dirac, accounts: { payload_users: 1000, payload_user_prefix: "p".repeat(28) } } });
    const users = accounts.plan(ctx).filter((a) => a.kind === "create-user");
    expect(users).toHaveLength(1001);
    expect(new Set(users.map((u) => u.name)).size).toBe(1001);
    for (const u of users) {
      expect(u.name).toMatch(/^[a-z_][a-z0-9_-]{0,31}$/);
      expect(u).toMatchObject({ shell: "/usr/sbin/nologin", system: true });
    }
  });

  it("grants no sudo: no file is written at all", () => {
    const actions = accounts.plan(makeContext({ config: { accounts: { payload_users: 8 } } }));
    expect(actions.map((a) => a.kind).filter((k) => k !== "create-user" && k !== "mkdir")).toEqual([]);
    expect(JSON.stringify(actions)).not.toMatch(/sudo/);
    for (const a of actions) if (a.kind === "create-user") expect(a.groups).toBeUndefined();
  });
});
