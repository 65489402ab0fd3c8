import { describe, expect, it } from "vitest";
import { redactedConfig, redactValues } from "../../src/context/redact.ts";
import { makeContext } from "../support/context.ts";

describe("redactedConfig", () => {
  it("removes credentials from every URL value, keeping the rest", () => {
    const ctx = makeContext();
    const config = structuredClone(ctx.config);
    config.mjf.joboutputs = "https://vm-1:s3cretTOKEN@manager.example:8443/vms/vm-1/joboutputs";
    const shown = JSON.stringify(redactedConfig(config));
    expect(shown).not.toContain("s3cretTOKEN");
    expect(shown).toContain("https://<redacted>@manager.example:8443/vms/vm-1/joboutputs");
    expect(config.mjf.joboutputs).toContain("s3cretTOKEN");
  });
});

describe("redactValues", () => {
  it("replaces each secret and each long line of a multi-line one", () => {
    expect(redactValues("a tok123 b", ["tok123"])).toBe("a <redacted> b");
    expect(redactValues("x 0123456789abcdef0123 y", ["-----BEGIN X-----\n0123456789abcdef0123\n-----END X-----"])).toBe("x <redacted> y");
  });
});
