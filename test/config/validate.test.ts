import { describe, expect, it } from "vitest";
import { AGENT_CONFIG_SCHEMA, SECRET_PATHS } from "../../src/config/schema.ts";
import { validate } from "../../src/config/validate.ts";

const base = { version: 1, payload: { type: "command", command: { path: "/bin/true" } } };

describe("validate against schema/agent-config.v1.schema.json", () => {
  it.each([
    ["queue empty", { version: 1, payload: { type: "dirac", dirac: { queue: "" } } }, "payload.dirac.queue", "expected a non-empty string"],
    ["version missing", { payload: { type: "command" } }, "version", "required: expected an integer"],
    ["version 2", { version: 2, payload: { type: "command" } }, "version", "expected 1, got 2"],
    ["payload type unknown", { version: 1, payload: { type: "glidein" } }, "payload.type", 'expected one of "dirac", "htcondor", "command", got "glidein"'],
    ["payload missing", { version: 1 }, "payload", "required: expected an object"],
    ["integer as float text", { ...base, lifecycle: { heartbeat_seconds: "600.5" } }, "lifecycle.heartbeat_seconds", 'expected an integer, got "600.5"'],
    ["integer below minimum", { ...base, lifecycle: { max_wallclock_seconds: 10 } }, "lifecycle.max_wallclock_seconds", "expected at least 60, got 10"],
    ["boolean word", { ...base, lifecycle: { power_off: "maybe" } }, "lifecycle.power_off", 'expected true or false (also yes/no, on/off, 1/0), got "maybe"'],
    ["heartbeat file with slash", { ...base, lifecycle: { heartbeat_file: "a/b" } }, "lifecycle.heartbeat_file", "expected a plain file name"],
    ["sha256 wrong", { version: 1, payload: { type: "command", command: { url: "https://x/y", sha256: "abc" } } }, "payload.command.sha256", "expected 64 lower-case hex digits"],
    ["bad repository in list", { ...base, cvmfs: { repositories: "grid.cern.ch, Bad Repo" } }, "cvmfs.repositories[1]", "expected a repository name"],
    ["mjf relative path", { ...base, mjf: { jobfeatures: "jobfeatures" } }, "mjf.jobfeatures", "expected a directory (/...) or an http(s) URL"],
    ["args not an array", { version: 1, payload: { type: "command", command: { path: "/bin/true", args: 5 } } }, "payload.command.args", "expected an array, got 5"],
  ])("%s -> error at %s", (_name, input, path, message) => {
    const { problems } = validate(AGENT_CONFIG_SCHEMA, input);
    const found = problems.find((p) => p.path === path);
    expect(found, JSON.stringify(problems)).toBeDefined();
    expect(found!.severity).toBe("error");
    expect(found!.message).toContain(message);
  });

  it("coerces line-format strings into the schema's types and fills defaults", () => {
    const { value, problems } = validate(AGENT_CONFIG_SCHEMA, {
      version: "1",
      lifecycle: { heartbeat_seconds: "600", power_off: "off" },
      cvmfs: { repositories: "grid.cern.ch,lhcb.cern.ch" },
      credentials: {},
      payload: { type: "dirac", dirac: {} },
    });
    expect(problems).toEqual([]);
    expect(value).toMatchObject({
      version: 1,
      lifecycle: { heartbeat_seconds: 600, power_off: false, heartbeat_file: "heartbeat", deadline_margin_seconds: 300 },
      cvmfs: { repositories: ["grid.cern.ch", "lhcb.cern.ch"] },
      credentials: { ca_dir: "/etc/grid-security/certificates" },
      payload: { type: "dirac", dirac: { queue: "default", submit_pool: "Test" } },
    });
  });

  it("reports unknown keys as warnings at their path, and drops them", () => {
    const { value, problems } = validate(AGENT_CONFIG_SCHEMA, { ...base, payload: { ...base.payload, command: { path: "/bin/true", argz: "x" } } });
    expect(problems).toEqual([expect.objectContaining({ path: "payload.command.argz", severity: "warning" })]);
    expect((value as any).payload.command.argz).toBeUndefined();
  });

  it("never shows a secret value in a message", () => {
    const secret = "not-a-pem-but-very-secret-text";
    const { problems } = validate(AGENT_CONFIG_SCHEMA, { ...base, credentials: { hostkey: secret, x509_proxy: secret } });
    expect(problems.map((p) => p.path).sort()).toEqual(["credentials.hostkey", "credentials.x509_proxy"]);
    for (const p of problems) expect(p.message).not.toContain(secret);
  });

  it("marks exactly the credential and token paths as secret", () => {
    expect([...SECRET_PATHS].sort()).toEqual([
      "credentials.hostkey",
      "credentials.x509_proxy",
      "manager.token",
      "payload.htcondor.idtoken",
      "payload.htcondor.pool_password_base64",
    ]);
  });
});
