import { describe, expect, it } from "vitest";
import { AGENT_CONFIG_SCHEMA } from "../../../src/config/schema.ts";
import { validate } from "../../../src/config/validate.ts";
import { DIRAC_DEFAULTS, diracSettings } from "../../../src/payloads/dirac/settings.ts";
import { makeContext } from "../../support/context.ts";

describe("payload.dirac in the schema", () => {
  it("fills the same defaults diracSettings() uses", () => {
    const { value, problems } = validate(AGENT_CONFIG_SCHEMA, { version: 1, payload: { type: "dirac", dirac: {} } });
    expect(problems).toEqual([]);
    expect((value as { payload: { dirac: object } }).payload.dirac).toEqual({ ...DIRAC_DEFAULTS, pilot_mirrors: [] });
  });

  it("coerces the line format's strings", () => {
    const dirac = { max_cycles: "3", run_hooks: "yes", require_manifest: "no", drain_seconds: "600", pilot_mirrors: ["https://m/p/"] };
    const { value, problems } = validate(AGENT_CONFIG_SCHEMA, { version: 1, payload: { type: "dirac", dirac } });
    expect(problems).toEqual([]);
    expect((value as { payload: { dirac: object } }).payload.dirac).toMatchObject({ max_cycles: 3, run_hooks: true, require_manifest: false, drain_seconds: 600 });
  });

  it.each([
    ["user", { user: "Bad User" }, "payload.dirac.user"],
    ["max_cycles", { max_cycles: "0" }, "payload.dirac.max_cycles"],
    ["checksums_sha512", { checksums_sha512: "abc" }, "payload.dirac.checksums_sha512"],
    ["fetch_client_certificate", { fetch_client_certificate: "mine" }, "payload.dirac.fetch_client_certificate"],
    ["pilot_mirrors", { pilot_mirrors: ["ftp://x/"] }, "payload.dirac.pilot_mirrors[0]"],
    ["site", { site: "a b" }, "payload.dirac.site"],
  ])("refuses a bad %s", (_n, dirac, path) => {
    const { problems } = validate(AGENT_CONFIG_SCHEMA, { version: 1, payload: { type: "dirac", dirac } });
    expect(problems).toContainEqual(expect.objectContaining({ path, severity: "error" }));
  });
});

describe("diracSettings", () => {
  it("defaults for a hand-built context, configured values kept, empty strings unset", () => {
    const ctx = makeContext({ config: { payload: { type: "dirac", dirac: { queue: "q", submit_pool: "", vo: "", site: "S", max_cycles: 2 } } } });
    const s = diracSettings(ctx);
    expect(s).toMatchObject({ queue: "q", submit_pool: "Test", site: "S", max_cycles: 2, user: "vacpilot", drain_seconds: 1800, require_manifest: true });
    expect(s).not.toHaveProperty("vo");
  });
});
