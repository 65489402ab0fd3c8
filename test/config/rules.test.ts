import { describe, expect, it } from "vitest";
import { checkRules } from "../../src/config/rules.ts";
import type { AgentConfig } from "../../src/config/agent-config.ts";
import { makeContext } from "../support/context.ts";

const config = (over: Partial<AgentConfig["payload"]>, credentials: Partial<AgentConfig["credentials"]> = {}): AgentConfig => {
  const base = makeContext().config;
  return { ...base, credentials: { ...base.credentials, ...credentials }, payload: { type: "command", ...over } };
};

describe("rules between keys", () => {
  it.each([
    ["command without path or url", config({ command: { args: [], env: {}, user: "u", log_files: [] } }), "payload.command", "expected payload.command.path"],
    ["command with both", config({ command: { path: "/bin/true", url: "https://x", sha256: "a".repeat(64), args: [], env: {}, user: "u", log_files: [] } }), "payload.command", "not both"],
    ["url without sha256", config({ command: { url: "https://x/y", args: [], env: {}, user: "u", log_files: [] } }), "payload.command.sha256", "required with payload.command.url"],
    ["htcondor without collector", config({ type: "htcondor", htcondor: {} }), "payload.htcondor.collector", "required for an htcondor payload"],
    ["hostcert without hostkey", config({ command: { path: "/bin/true", args: [], env: {}, user: "u", log_files: [] } }, { hostcert: "-----BEGIN CERTIFICATE-----" }), "credentials.hostkey", "required with credentials.hostcert"],
  ])("%s", (_n, c, path, message) => {
    const found = checkRules(c).find((p) => p.path === path);
    expect(found?.message).toContain(message);
    expect(found?.severity).toBe("error");
  });

  it("accepts a complete command payload", () => {
    expect(checkRules(config({ command: { path: "/bin/true", args: [], env: {}, user: "u", log_files: [] } }))).toEqual([]);
  });

  it("warns about the section of a payload type that is not chosen", () => {
    const c = config({ command: { path: "/bin/true", args: [], env: {}, user: "u", log_files: [] }, dirac: { queue: "q", submit_pool: "p" } });
    expect(checkRules(c)).toEqual([expect.objectContaining({ path: "payload.dirac", severity: "warning" })]);
  });
});
