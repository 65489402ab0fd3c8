// Job outputs and heartbeats from the compiled agent to real receivers: Vac's plain HTTP PUT, and
// Vcycle's HTTPS with a client certificate (the X.509 proxy from the user_data, or a host
// certificate). The TLS path must work in dist/agent, not only under vitest.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runAgent, hasAgentBinary } from "./run-binary.ts";
import { COMMAND_DOC, shellUserData, tempDir, writeTemp } from "./fixtures.ts";
import { startJobOutputsServer, type JobOutputsServer } from "../support/joboutputs-server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../support/tls-fixtures.ts";
import { makeProxyPem } from "../lifecycle/joboutputs/proxy-certificate.ts";

let f: TlsFixtures;
beforeAll(async () => (f = await makeTlsFixtures()));
afterAll(() => f.cleanup());
const servers: JobOutputsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function receiver(opts: Parameters<typeof startJobOutputsServer>[0]): Promise<JobOutputsServer> {
  const s = await startJobOutputsServer(opts);
  servers.push(s);
  return s;
}
const PAYLOAD = ["payload.command.args[] = -c", "payload.command.args[] = echo hello from the payload"];

describe.skipIf(!hasAgentBinary())("dist/agent job outputs", () => {
  it("Vac: every file PUT with a Content-Length, the heartbeat first, the shutdown_message last", async () => {
    const s = await receiver({ style: "vac" });
    const root = tempDir();
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, `user_data_joboutputs_url = ${s.url}`, ...PAYLOAD]));
    const r = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(s.files.get("shutdown_message")?.toString()).toBe("200 Payload completed");
    expect(s.files.get("payload-stdout.log")?.toString()).toBe("hello from the payload\n");
    expect(s.files.get("heartbeat")?.toString()).toMatch(/^\d+\.\d+ \d+\.\d+ \d+\.\d+ \d+\.\d+ \d+\.\d+\n$/);
    expect([...s.files.keys()]).toEqual(expect.arrayContaining(["vacuum-agent.jsonl", "vacuum-agent-context.json", "vacuum-agent-status.json"]));
    const puts = s.requests.filter((q) => q.method === "PUT");
    expect(puts[0]!.name).toBe("heartbeat");
    expect(puts.at(-1)!.name).toBe("shutdown_message");
    for (const q of puts) {
      expect(q.contentLength).not.toBeNull();
      expect(q.chunked).toBe(false);
    }
  });

  it("Vcycle: HTTPS with the X.509 proxy from the user_data as client certificate", async () => {
    const s = await receiver({ style: "vcycle", tls: { ca: f.caPem, cert: f.serverCertPem, key: f.serverKeyPem, dnPrefix: "/O=vacuum-agent tests/CN=host-01.example", acceptProxies: true } });
    const root = tempDir();
    const proxy = makeProxyPem(f.clientCertPem, f.clientKeyPem);
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, `user_data_joboutputs_url = ${s.url}`, `credentials.ca_dir = ${f.caDir}`, "user_data_option_x509_proxy <<END_PROXY", proxy.trim(), "END_PROXY", ...PAYLOAD]));
    const r = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(s.files.get("shutdown_message")?.toString()).toBe("200 Payload completed");
    expect(s.requests.filter((q) => !q.dn?.startsWith("/O=vacuum-agent tests/CN=host-01.example/CN=")).map((q) => `${q.method} ${q.path} ${q.dn} ${q.status}`)).toEqual([]);
    // The proxy's key never reaches the job outputs or the log.
    const keyLine = proxy.split("\n").find((l, i, all) => i > 0 && all[i - 1]!.includes("PRIVATE KEY"))!;
    for (const [, body] of s.files) expect(body.toString()).not.toContain(keyLine);
    expect(r.stderr).not.toContain(keyLine);
  });

  it("Vcycle with a DN that does not match: 403 retried, reported, and the VM still ends cleanly", async () => {
    const s = await receiver({ style: "vcycle", tls: { ca: f.caPem, cert: f.serverCertPem, key: f.serverKeyPem, dnPrefix: "/O=another site" } });
    const root = tempDir();
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, `user_data_joboutputs_url = ${s.url}`, `credentials.ca_dir = ${f.caDir}`, "user_data_option_hostcert <<E", f.clientCertPem.trim(), "E", "user_data_option_hostkey <<E", f.clientKeyPem.trim(), "E", ...PAYLOAD]));
    const r = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    expect(s.files.size).toBe(0);
    expect(s.requests.some((q) => q.status === 403)).toBe(true);
    expect(r.stderr).toMatch(/job outputs: .*failed: .*shutdown_message/);
    expect(r.stderr).toMatch(/power-off/);
  }, 70_000);

  it("a job outputs server that is down: the VM still ends with its message written locally", async () => {
    const s = await receiver({ style: "vac" });
    const url = s.url;
    await s.close();
    servers.pop();
    const root = tempDir();
    const ud = writeTemp(root, "ud", shellUserData([...COMMAND_DOC, `user_data_joboutputs_url = ${url}`, ...PAYLOAD]));
    const r = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/job outputs: .*failed/);
  }, 70_000);
});
