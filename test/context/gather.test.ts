import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gather, type GatherOptions } from "../../src/context/gather.ts";
import { startMetadataServer, type MetadataServer } from "../support/metadata-server.ts";

let dir: string;
let servers: MetadataServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gather-"));
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const s of servers.splice(0)) await s.close();
});

const NOW = 1_790_000_000_000;
function doc(lines: string[]): string {
  return ["-----BEGIN VACUUM-AGENT CONFIG-----", "version = 1", "payload.type = command", "payload.command.path = /bin/true", ...lines, "-----END VACUUM-AGENT CONFIG-----", ""].join("\n");
}
function options(over: Partial<GatherOptions>): GatherOptions {
  return { userData: null, metadataUrl: "none", configDrive: null, root: null, dryRun: true, sets: {}, env: {}, now: () => NOW, ...over };
}
function userDataFile(text: string): string {
  const p = join(dir, "ud");
  writeFileSync(p, text);
  return p;
}

describe("gather: precedence of sources", () => {
  it.each([
    ["document value", ["user_data_jobfeatures_url = /a", "mjf.jobfeatures = /b"], {}, {}, "/b", "user_data"],
    ["user_data_* value", ["user_data_jobfeatures_url = /a"], {}, {}, "/a", "user_data"],
    ["environment over user_data", ["mjf.jobfeatures = /b"], { JOBFEATURES: "/env" }, {}, "/env", "environment"],
    ["--set over everything", ["mjf.jobfeatures = /b"], { JOBFEATURES: "/env" }, { "mjf.jobfeatures": "/cli" }, "/cli", "command line"],
    ["empty value falls through", ["user_data_jobfeatures_url = /a", "mjf.jobfeatures ="], {}, {}, "/a", "user_data"],
  ])("%s", async (_n, lines, env, sets, expected, source) => {
    const ctx = await gather(options({ userData: userDataFile(doc(lines)), env, sets }));
    expect(ctx.config.mjf.jobfeatures).toBe(expected);
    expect(ctx.provenance["mjf.jobfeatures"]?.source).toBe(source);
  });

  it("metadata is the lowest source; the user_data wins over it", async () => {
    const md = await startMetadataServer({ variant: "openstack", userData: doc(["user_data_machinetype = from-user-data"]), meta: { machinetype: "from-meta", joboutputs: "https://vcycle.example/machines/s/m/joboutputs" } });
    servers.push(md);
    const ctx = await gather(options({ metadataUrl: md.url, metadataMaxWaitMs: 0 }));
    expect(ctx.metadata?.provider).toBe("openstack");
    expect(ctx.config.identity.machinetype).toBe("from-user-data");
    expect(ctx.config.mjf.joboutputs).toBe("https://vcycle.example/machines/s/m/joboutputs");
    expect(ctx.provenance["mjf.joboutputs"]?.source).toBe("metadata");
  });

  it("identity.uuid: user_data, else $JOBFEATURES/job_id, else the metadata's", async () => {
    mkdirSync(join(dir, "jf"));
    writeFileSync(join(dir, "jf/job_id"), "job-from-mjf\n");
    const md = await startMetadataServer({ variant: "openstack", userData: doc([]), uuid: "uuid-from-metadata" });
    servers.push(md);
    const fromMjf = await gather(options({ metadataUrl: md.url, metadataMaxWaitMs: 0, env: { JOBFEATURES: join(dir, "jf") } }));
    expect(fromMjf.config.identity.uuid).toBe("job-from-mjf");
    expect(fromMjf.provenance["identity.uuid"]).toEqual({ source: "jobfeatures", location: "job_id" });
    const fromMetadata = await gather(options({ metadataUrl: md.url, metadataMaxWaitMs: 0 }));
    expect(fromMetadata.config.identity.uuid).toBe("uuid-from-metadata");
    const fromUserData = await gather(options({ userData: userDataFile(doc(["user_data_uuid = uuid-from-user-data"])), env: { JOBFEATURES: join(dir, "jf") } }));
    expect(fromUserData.config.identity.uuid).toBe("uuid-from-user-data");
  });
});

describe("gather: problems name their source and carry the right code", () => {
  it("a bad value in the user_data is 600 (the template), with its line", async () => {
    const ctx = await gather(options({ userData: userDataFile(doc(["lifecycle.heartbeat_seconds = soon"])) }));
    expect(ctx.problems).toContainEqual(expect.objectContaining({ severity: "error", source: "user_data", path: "lifecycle.heartbeat_seconds", code: 600, message: expect.stringMatching(/expected an integer, got "soon" \(line \d+\)/) }));
  });

  it("a bad value from the environment is 500 (the site)", async () => {
    const ctx = await gather(options({ userData: userDataFile(doc([])), env: { JOBFEATURES: "relative/dir" } }));
    expect(ctx.problems).toContainEqual(expect.objectContaining({ source: "environment", path: "mjf.jobfeatures", code: 500 }));
  });

  it("an unreadable --user-data file is one 500 error, and no pile of 'required' problems", async () => {
    const ctx = await gather(options({ userData: join(dir, "missing") }));
    expect(ctx.problems).toEqual([expect.objectContaining({ severity: "error", source: "command line", path: "--user-data", code: 500, message: expect.stringContaining("no such file") })]);
  });

  it("no document: only the parser's 600, not schema 'required' errors", async () => {
    const ctx = await gather(options({ userData: userDataFile("<html>404</html>") }));
    const errors = ctx.problems.filter((p) => p.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: "user_data", code: 600 });
  });

  it("--metadata-url none without --user-data: nothing to read", async () => {
    const ctx = await gather(options({}));
    expect(ctx.problems).toEqual([expect.objectContaining({ path: "--metadata-url", code: 500 })]);
  });

  it("secrets from the user_data are collected for redaction", async () => {
    const key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDsecret\n-----END PRIVATE KEY-----";
    const ctx = await gather(options({ userData: userDataFile(doc(["user_data_option_hostcert <<E", "-----BEGIN CERTIFICATE-----", "MIIB", "-----END CERTIFICATE-----", "E", "user_data_option_hostkey <<E", key, "E"])) }));
    expect(ctx.secrets.some((s) => s.includes("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDsecret"))).toBe(true);
    expect(ctx.config.credentials.hostkey).toContain("BEGIN PRIVATE KEY");
  });
});

describe("gather: deadline", () => {
  it("the earliest of MJF and the configured wallclock, minus the margin", async () => {
    mkdirSync(join(dir, "mf"));
    writeFileSync(join(dir, "mf/shutdowntime"), String(NOW / 1000 + 7200));
    const ctx = await gather(options({ userData: userDataFile(doc(["lifecycle.max_wallclock_seconds = 3600", "lifecycle.deadline_margin_seconds = 120"])), env: { MACHINEFEATURES: join(dir, "mf") } }));
    expect(ctx.deadline.deadline).toBe(NOW / 1000 + 3600);
    expect(ctx.deadline.effective).toBe(NOW / 1000 + 3480);
    expect(ctx.deadline.candidates.map((c) => c.source)).toEqual(["machinefeatures shutdowntime", "agent start + lifecycle.max_wallclock_seconds"]);
  });
});

describe("gather: never the link-local addresses without a metadata service", () => {
  it("--metadata-url none: Vac's MJF URLs are reported, not fetched", async () => {
    const ctx = await gather(options({ userData: userDataFile(doc(["user_data_machinefeatures_url = http://169.254.169.253/machinefeatures", "user_data_jobfeatures_url = http://169.254.169.253/jobfeatures"])) }));
    expect(ctx.mjf).toBeNull();
    expect(ctx.problems).toContainEqual(expect.objectContaining({ severity: "info", path: "mjf.jobfeatures", message: expect.stringContaining("not read") }));
  });

  it("readMjf false (validate FILE): no MJF read at all, even from a directory", async () => {
    mkdirSync(join(dir, "jf"));
    writeFileSync(join(dir, "jf/job_id"), "x");
    const ctx = await gather(options({ userData: userDataFile(doc([`user_data_jobfeatures_url = ${join(dir, "jf")}`])), readMjf: false }));
    expect(ctx.mjf).toBeNull();
  });
});
