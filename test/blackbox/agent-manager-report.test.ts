// A VM reporting to the experiment's manager beside the site: dist/agent PUTs its heartbeat and job
// outputs to both, to the manager over real HTTPS with the VM's token from the URL's credentials
// as Basic auth (undici drops URL credentials: the agent must turn them into the header itself),
// and never shows the token in its output, logs or job outputs.
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasAgentBinary, runAgent } from "./run-binary.ts";
import { COMMAND_DOC, shellUserData, tempDir, writeTemp } from "./fixtures.ts";
import { startJobOutputsServer, type JobOutputsServer } from "../support/joboutputs-server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../support/tls-fixtures.ts";

const TOKEN = "Zq3-tok_0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1";
let f: TlsFixtures;
let site: JobOutputsServer;
const received = new Map<string, { auth: string | undefined; body: string }>();
let manager: ReturnType<typeof createServer>;
let managerUrl = "";

beforeAll(async () => {
  f = await makeTlsFixtures();
  site = await startJobOutputsServer({ style: "vac" });
  manager = createServer({ cert: f.serverCertPem, key: f.serverKeyPem }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const name = (req.url ?? "").replace(/^\/vms\/mt\/vm-7\/joboutputs\//, "");
      received.set(name, { auth: req.headers.authorization, body });
      const ok = req.headers.authorization === `Basic ${Buffer.from(`vm:${TOKEN}`).toString("base64")}`;
      res.writeHead(ok ? 201 : 401).end();
    });
  });
  await new Promise<void>((r) => manager.listen(0, "127.0.0.1", r));
  // As the templates give it: {{vacuum.joboutputs_url}} and, apart, {{vacuum.vm_token}}.
  managerUrl = `https://127.0.0.1:${(manager.address() as AddressInfo).port}/vms/mt/vm-7/joboutputs/`;
});
afterAll(async () => {
  await site.close();
  await new Promise<void>((r) => manager.close(() => r()));
  await f.cleanup();
});

describe.skipIf(!hasAgentBinary())("dist/agent reporting to the manager", () => {
  it("heartbeat and job outputs reach both, the manager's with the token as Basic auth; the token is shown nowhere", async () => {
    const root = tempDir();
    // The CA directory the agent verifies the manager with, where host preparation would put it.
    const ud = writeTemp(
      root,
      "ud",
      shellUserData([...COMMAND_DOC, `user_data_joboutputs_url = ${site.url}`, `manager.joboutputs_url = ${managerUrl}`, `manager.token = ${TOKEN}`, `credentials.ca_dir = ${f.caDir}`, "payload.command.args[] = -c", "payload.command.args[] = echo done"]),
    );
    const dry = await runAgent(["--dry-run", "--user-data", ud, "--metadata-url", "none"]);
    expect(dry.stdout).toContain("heartbeat to the manager");
    const r = await runAgent(["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(site.files.get("shutdown_message")?.toString()).toBe("200 Payload completed");
    expect(received.get("shutdown_message")).toEqual({ auth: `Basic ${Buffer.from(`vm:${TOKEN}`).toString("base64")}`, body: "200 Payload completed" });
    expect(received.get("heartbeat")?.body).toMatch(/^\d+\.\d+ \d+\.\d+ \d+\.\d+ /);
    expect(received.get("payload-stdout.log")?.body).toBe("done\n");
    const spool = join(root, "var/spool/joboutputs");
    const texts = [dry.stdout, dry.stderr, r.stdout, r.stderr, readFileSync(join(root, "var/log/vacuum-agent/agent.jsonl"), "utf8"), ...readdirSync(spool).map((n) => readFileSync(join(spool, n), "utf8"))];
    for (const t of texts) expect(t).not.toContain(TOKEN);
  });
});
