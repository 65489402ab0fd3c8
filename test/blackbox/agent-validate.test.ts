// `agent validate` and secret handling through the compiled binary.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { makeTlsFixtures } from "../support/tls-fixtures.ts";
import { makeProxyPem } from "../lifecycle/joboutputs/proxy-certificate.ts";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runAgent, hasAgentBinary } from "./run-binary.ts";
import { COMMAND_DOC, shellUserData, tempDir, writeTemp } from "./fixtures.ts";

// Not a real key: only its shape matters, and its lines must never appear in any output.
const KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDsecretsecretsecret";
const FAKE_PROXY = [
  "-----BEGIN CERTIFICATE-----",
  "MIIDdzCCAl+gAwIBAgIUcertificatecertificatecertificate0000000000",
  "-----END CERTIFICATE-----",
  "-----BEGIN PRIVATE KEY-----",
  KEY_BODY,
  "-----END PRIVATE KEY-----",
].join("\n");

describe.skipIf(!hasAgentBinary())("dist/agent validate", () => {
  it("the shipped example is valid", async () => {
    const r = await runAgent(["validate", "user_data/example-command.user_data"]);
    expect(r.stdout).toContain("user_data/example-command.user_data: valid (configuration version 1, payload command)");
    expect(r.exitCode).toBe(0);
  });

  it("prints every problem with its path and exits 1", async () => {
    const dir = tempDir();
    const file = writeTemp(dir, "config.json", JSON.stringify({ version: 1, lifecycle: { heartbeat_seconds: "often" }, payload: { type: "command", command: { url: "https://example.org/p.sh", args: "x" } } }));
    const r = await runAgent(["validate", file]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('error: user_data: lifecycle.heartbeat_seconds: expected an integer, got "often"');
    expect(r.stdout).toContain('error: user_data: payload.command.args: expected an array, got "x"');
    expect(r.stdout).toMatch(/invalid: \d+ error\(s\); a run would refuse to start/);
  });

  it("names the line of a line-format document and reports an unsubstituted pattern", async () => {
    const dir = tempDir();
    const file = writeTemp(dir, "ud", shellUserData([...COMMAND_DOC, "payload.dirac.queue = ##user_data_option_dirac_queue##", "lifecycle.max_wallclock_seconds = 5"]));
    const r = await runAgent(["validate", file, "--json"]);
    const doc = JSON.parse(r.stdout);
    expect(r.exitCode).toBe(1);
    expect(doc.problems).toContainEqual(expect.objectContaining({ severity: "error", source: "user_data", path: "lifecycle.max_wallclock_seconds", message: expect.stringMatching(/expected at least 60, got 5 \(line \d+\)/) }));
    expect(doc.problems.some((p: { message: string }) => p.message.includes("##user_data_option_dirac_queue##"))).toBe(true);
  });

  it("a dirac payload without its pilot URL, VO, space and credentials is refused, each named", async () => {
    const dir = tempDir();
    const file = writeTemp(dir, "ud", shellUserData(["version = 1", "payload.type = dirac"]));
    const r = await runAgent(["validate", file]);
    expect(r.exitCode).toBe(1);
    for (const path of ["payload.dirac.pilot_url", "payload.dirac.vo", "identity.space", "credentials.x509_proxy"]) expect(r.stdout).toContain(`error: user_data: ${path}: `);
    expect(r.stdout).toContain("##user_data_option_dirac_pilot_url##");
  });

  it("a proxy that is not a certificate is refused with 500, without showing it", async () => {
    const root = tempDir();
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, "payload.command.args[] = -c", "payload.command.args[] = true", "user_data_option_x509_proxy <<END_PROXY", FAKE_PROXY, "END_PROXY"]));
    const run = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"]);
    expect(run.exitCode).toBe(1);
    expect(readFileSync(join(root, "var/spool/joboutputs/shutdown_message"), "utf8")).toMatch(/^500 user_data: credentials\.x509_proxy: /);
    for (const text of [run.stdout, run.stderr, readFileSync(join(root, "var/log/vacuum-agent/agent.jsonl"), "utf8")]) expect(text).not.toContain(KEY_BODY);
  });

  it("never shows a proxy's key: not in the dry run, its JSON, the log, status, context or job outputs", async () => {
    const root = tempDir();
    const f = await makeTlsFixtures();
    const proxy = makeProxyPem(f.clientCertPem, f.clientKeyPem).trim();
    await f.cleanup();
    const keyLines = proxy.split("\n").filter((l, i, all) => !l.startsWith("-----") && all.slice(0, i).some((x) => x.includes("BEGIN") && x.includes("PRIVATE KEY")) && !all.slice(0, i).some((x) => x.includes("END") && x.includes("PRIVATE KEY")));
    expect(keyLines.length).toBeGreaterThan(5);
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, "payload.command.args[] = -c", "payload.command.args[] = true", "user_data_option_x509_proxy <<END_PROXY", proxy, "END_PROXY"]));
    const dry = await runAgent(["--dry-run", "--user-data", ud, "--metadata-url", "none"]);
    expect(dry.stdout).toContain("credentials.x509_proxy");
    expect(dry.stdout).toMatch(/credentials\.x509_proxy\s+= <secret: \d+ bytes, redacted>/);
    const json = await runAgent(["--dry-run", "--json", "--user-data", ud, "--metadata-url", "none"]);
    const run = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"]);
    expect(run.exitCode).toBe(0);
    const spool = join(root, "var/spool/joboutputs");
    const files = [
      ...["var/log/vacuum-agent/agent.jsonl", "var/lib/vacuum-agent/status.json", "var/lib/vacuum-agent/context.json"].map((p) => readFileSync(join(root, p), "utf8")),
      ...readdirSync(spool).map((n) => readFileSync(join(spool, n), "utf8")),
    ];
    for (const text of [dry.stdout, dry.stderr, json.stdout, run.stdout, run.stderr, ...files]) {
      for (const line of keyLines) expect(text).not.toContain(line);
    }
    // The proxy itself is installed for the payload's services, mode 0600.
    expect(statSync(join(root, "var/lib/vacuum-agent/credentials/x509proxy.pem")).mode & 0o777).toBe(0o600);
  });
});
