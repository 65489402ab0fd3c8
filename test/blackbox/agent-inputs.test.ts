// Every input source through the compiled binary, and the bad input the issue lists: each gives one
// clear message naming the source and the field, never a stack trace, and the dry run still prints
// what it could plan.
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runAgent, hasAgentBinary } from "./run-binary.ts";
import { COMMAND_DOC, shellUserData, tempDir, writeTemp } from "./fixtures.ts";
import { startMetadataServer, type MetadataServer } from "../support/metadata-server.ts";
import { startMjfServer, type MjfServer } from "../support/mjf-server.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function metadata(opts: Parameters<typeof startMetadataServer>[0]): Promise<MetadataServer> {
  const s = await startMetadataServer(opts);
  servers.push(s);
  return s;
}

const NO_TRACE = /\n\s+at |Error: .*\n.*\.ts:\d+/;
const GOOD = shellUserData([...COMMAND_DOC, "payload.command.args[] = -c", "payload.command.args[] = true"]);

describe.skipIf(!hasAgentBinary())("dist/agent inputs", () => {
  it.each([
    ["openstack", {}],
    ["ec2", { imdsv2: "required" as const }],
    ["gce", {}],
  ])("takes the user_data from a %s metadata service", async (variant, extra) => {
    const md = await metadata({ variant: variant as "openstack", userData: GOOD, hostname: "vm-7.cloud.example", ...extra });
    const r = await runAgent(["--dry-run", "--json", "--metadata-url", md.url, "--metadata-wait", "0"]);
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.inputs.metadata.provider).toBe(variant);
    expect(doc.inputs.userData.origin).toContain(md.url);
    expect(doc.config.identity.space).toBe("vac01.example.org");
  });

  it("reads an OpenStack config drive before any metadata server", async () => {
    const drive = tempDir();
    mkdirSync(join(drive, "openstack/latest"), { recursive: true });
    writeFileSync(join(drive, "openstack/latest/meta_data.json"), JSON.stringify({ uuid: "c0ffee00-0000-4000-8000-000000000001", hostname: "vm-cd.example", meta: { machinetype: "from-drive" } }));
    writeFileSync(join(drive, "openstack/latest/user_data"), GOOD.replace("user_data_machinetype = test-command\n", ""));
    const md = await metadata({ variant: "openstack", userData: null });
    const r = await runAgent(["--dry-run", "--json", "--config-drive", drive, "--metadata-url", md.url, "--metadata-wait", "0"]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.inputs.metadata.provider).toBe("config-drive");
    expect(doc.config.identity.machinetype).toBe("from-drive");
    expect(doc.provenance["identity.machinetype"].source).toBe("config drive");
    expect(doc.config.identity.uuid).toBe("c0ffee00-0000-4000-8000-000000000001");
    expect(md.requests).toEqual([]);
  });

  it("on Vac, MJF defaults to the factory, which --metadata-url redirects to the local server", async () => {
    const md = await metadata({ variant: "vac", userData: GOOD });
    const r = await runAgent(["--dry-run", "--json", "--metadata-url", md.url, "--metadata-wait", "0"]);
    const doc = JSON.parse(r.stdout);
    expect(doc.inputs.metadata.provider).toBe("vac");
    expect(doc.config.mjf.jobfeatures).toBe(`${md.url}/jobfeatures`);
    expect(doc.provenance["mjf.jobfeatures"].location).toContain("was http://169.254.169.253/jobfeatures");
    for (const value of Object.values(doc.config.mjf)) expect(value).not.toMatch(/169\.254\./);
    expect(doc.problems).toContainEqual(expect.objectContaining({ severity: "info", path: "mjf.jobfeatures" }));
  });

  it.each([
    ["html", /expected JSON.*html|HTML/i],
    ["error500", /500/],
  ])("a metadata service answering %s: one error naming the metadata source, VM ends with 500", async (variant, reason) => {
    const md = await metadata({ variant: variant as "html" });
    const root = tempDir();
    const r = await runAgent(["run", "--root", root, "--metadata-url", md.url, "--metadata-wait", "0"]);
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error: metadata: /);
    expect(r.stderr).toMatch(reason);
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toMatch(/^500 metadata: /);
  });

  it("a metadata service that never answers times out, and the dry run still prints the plan", async () => {
    const md = await metadata({ variant: "hang" });
    const r = await runAgent(["--dry-run", "--metadata-url", md.url, "--metadata-wait", "0"], { timeoutMs: 40_000 });
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/error: metadata: .*no complete answer within 5 s/);
    expect(r.stdout).toContain("Plan: refused, the VM ends at once");
    expect(r.stdout).toContain("[finish] 500 metadata:");
  }, 45_000);

  it("no metadata service at all: refused connection, given up after --metadata-wait", async () => {
    const md = await metadata({ variant: "openstack" });
    const url = md.url;
    await md.close();
    servers.pop();
    const r = await runAgent(["--dry-run", "--metadata-url", url, "--metadata-wait", "2"], { timeoutMs: 20_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/error: metadata: .*(refused|not answer|unreachable)/i);
  });

  it.each([
    ["binary garbage", () => new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), /error: user_data: .*(binary|not text)/],
    ["a 10 MB user_data", () => new Uint8Array(10 * 1024 * 1024).fill(0x61), /error: user_data: .*10485760 bytes, more than the 4194304-byte limit/],
    ["an HTML 404 page", () => "<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>\n", /error: user_data: no vacuum-agent configuration found/],
    ["malformed MIME (no boundary)", () => "Content-Type: multipart/mixed\nMIME-Version: 1.0\n\n--x\nContent-Type: text/x-vacuum-agent\n\nversion = 1\n", /user_data: .*boundary/i],
    ["MIME whose closing delimiter is missing", () => 'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/x-vacuum-agent\n\n' + COMMAND_DOC.join("\n") + "\npayload.command.args[] = -c\npayload.command.args[] = true\n", /warning: user_data: .*(closing|delimiter)/i],
  ])("%s: one clear message, no stack trace", async (_name, make, message) => {
    const dir = tempDir();
    const ud = writeTemp(dir, "ud", make());
    const r = await runAgent(["--dry-run", "--user-data", ud, "--metadata-url", "none"]);
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.stdout + r.stderr).toMatch(message);
    expect(r.stdout).toContain("[finish]");
  });

  it("an HTML 404 page as user_data ends the VM with 600 (template unusable)", async () => {
    const root = tempDir();
    const ud = writeTemp(root, "ud", "<html><body>404 Not Found</body></html>");
    const r = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"]);
    expect(r.exitCode).toBe(1);
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toMatch(/^600 user_data: no vacuum-agent configuration found/);
    expect(readFileSync(join(root, "var/lib/vacuum-agent/machine-actions.jsonl"), "utf8")).toContain('"power-off"');
  });

  it("reads gzip-compressed user_data and user_data from standard input", async () => {
    const r = await runAgent(["--dry-run", "--json", "--user-data", "-", "--metadata-url", "none"], { input: GOOD });
    expect(JSON.parse(r.stdout).config.identity.machinetype).toBe("test-command");
    const dir = tempDir();
    const gz = writeTemp(dir, "ud.gz", gzipSync(GOOD));
    const z = await runAgent(["--dry-run", "--json", "--user-data", gz, "--metadata-url", "none"]);
    expect(z.exitCode).toBe(0);
    expect(JSON.parse(z.stdout).config.identity.space).toBe("vac01.example.org");
  });

  it("MJF that is not a number is reported and tolerated; the earliest deadline wins", async () => {
    const dir = tempDir();
    const now = Math.floor(Date.now() / 1000);
    mkdirSync(join(dir, "mf"));
    mkdirSync(join(dir, "jf"));
    writeFileSync(join(dir, "mf/shutdowntime"), `${now + 3600}\n`);
    writeFileSync(join(dir, "mf/total_cpu"), "4\n");
    writeFileSync(join(dir, "jf/jobstart_secs"), "6f1c2b3a-0000-4000-8000-123456789abc");
    writeFileSync(join(dir, "jf/wall_limit_secs"), "86400");
    writeFileSync(join(dir, "jf/allocated_cpu"), "4\n");
    const ud = writeTemp(dir, "ud", GOOD);
    const r = await runAgent(["--dry-run", "--json", "--user-data", ud, "--metadata-url", "none"], { env: { MACHINEFEATURES: join(dir, "mf"), JOBFEATURES: join(dir, "jf") } });
    expect(r.exitCode).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.problems).toContainEqual(expect.objectContaining({ severity: "warning", source: "jobfeatures", path: "jobstart_secs" }));
    expect(doc.deadline.deadline).toBe(now + 3600);
    expect(doc.inputs.jobfeatures.values.allocated_cpu).toBe(4);
    expect(doc.provenance["mjf.jobfeatures"]).toEqual({ source: "environment", location: "$JOBFEATURES" });
  });

  it("MJF over HTTP from a Vcycle-style server with a lowered shutdowntime_job", async () => {
    const now = Math.floor(Date.now() / 1000);
    const mjf: MjfServer = await startMjfServer({ style: "vcycle", machinefeatures: { total_cpu: "2", shutdowntime: String(now + 86400) }, jobfeatures: { wall_limit_secs: "86400", shutdowntime_job: String(now + 600) } });
    servers.push(mjf);
    const dir = tempDir();
    const ud = writeTemp(dir, "ud", shellUserData([...COMMAND_DOC, `user_data_machinefeatures_url = ${mjf.machinefeaturesUrl}`, `user_data_jobfeatures_url = ${mjf.jobfeaturesUrl}`]));
    const r = await runAgent(["--dry-run", "--json", "--user-data", ud, "--metadata-url", "none"]);
    const doc = JSON.parse(r.stdout);
    expect(doc.deadline.deadline).toBe(now + 600);
    expect(doc.deadline.effective).toBe(now + 300);
  });
});
