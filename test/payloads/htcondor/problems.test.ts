import { describe, expect, it } from "vitest";
import type { AgentConfig } from "../../../src/config/agent-config.ts";
import { htcondorProblems, idtokenClaims } from "../../../src/payloads/htcondor/problems.ts";
import { makeContext, T0 } from "../../support/context.ts";

type Htc = NonNullable<AgentConfig["payload"]["htcondor"]>;
const jwt = (claims: object) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;
const ctx = (htc: Partial<Htc>, o: Parameters<typeof makeContext>[0] = {}) => makeContext({ ...o, config: { ...o.config, payload: { type: "htcondor", htcondor: { collector: "cm:9618", ...htc } } } });

describe("htcondorProblems", () => {
  it.each<[string, Partial<Htc>, Parameters<typeof makeContext>[0], string[]]>([
    ["a valid token", { idtoken: jwt({ sub: "condor@x", exp: T0 + 10 * 86400 }) }, {}, []],
    ["no collector", { collector: undefined, idtoken: jwt({}) }, {}, ["error payload.htcondor.collector"]],
    ["no credential at all", {}, {}, ["error payload.htcondor"]],
    ["not a JWT", { idtoken: "not-a-token" }, {}, ["error payload.htcondor.idtoken"]],
    ["expired token", { idtoken: jwt({ exp: T0 - 1 }) }, {}, ["error payload.htcondor.idtoken"]],
    ["token ends before the deadline", { idtoken: jwt({ exp: T0 + 100 }) }, { deadline: { deadline: T0 + 1000, effective: T0 + 700 } }, ["warning payload.htcondor.idtoken"]],
    ["ssl hostcert without one", { idtoken: jwt({}), ssl: "hostcert" }, {}, ["error payload.htcondor.ssl"]],
    ["SSL alone is a credential", {}, { config: { credentials: { hostcert: "C", hostkey: "K" } } }, []],
    ["empty password", { pool_password_base64: "====" }, {}, ["error payload.htcondor.pool_password_base64"]],
    ["never ends by itself", { idtoken: jwt({}), idle_shutdown_seconds: 0 }, {}, ["warning payload.htcondor.idle_shutdown_seconds"]],
  ])("%s", (_n, htc, o, expected) => {
    const ps = htcondorProblems(ctx(htc, o));
    expect(ps.map((p) => `${p.severity} ${p.path}`)).toEqual(expected);
    for (const p of ps) if (p.severity === "error") expect(p.code).toBe(600);
  });

  it("never shows the token", () => {
    const token = jwt({ exp: T0 - 1 });
    expect(JSON.stringify(htcondorProblems(ctx({ idtoken: token })))).not.toContain(token);
    expect(idtokenClaims(token)).toEqual({ claims: { exp: T0 - 1 } });
  });

  it("nothing for other payload types", () => {
    expect(htcondorProblems(makeContext())).toEqual([]);
  });
});
