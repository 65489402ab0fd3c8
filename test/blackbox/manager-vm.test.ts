// dist/manager as the VMs' side, black box: the full local lifecycle (dist/agent run --root against
// the manager's metadata emulation, ending with the job outputs and the shutdown_message on the
// manager), SIGKILL during uploads (nothing partial, everything acknowledged still there after the
// restart, tokens still valid), and client certificates and proxies in the bun-compiled binary.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProxyPem } from "../lifecycle/joboutputs/proxy-certificate.ts";
import { makeTlsFixtures } from "../support/tls-fixtures.ts";
import { makeDefinitionDir } from "../manager/serve/definition-dir.ts";
import { hasAgentBinary, runAgent } from "./run-binary.ts";
import { tempDir } from "./fixtures.ts";

const MANAGER = resolve("dist/manager");
const MT = "example-command";

interface Manager {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

async function startManager(args: string[]): Promise<Manager> {
  const proc = spawn(MANAGER, ["serve", ...args, "--listen", "127.0.0.1:0"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "pipe"] });
  running.push(proc);
  let stdout = "";
  let stderr = "";
  proc.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.on("close", (code, signal) => r({ code, signal })));
  const end = Date.now() + 10_000;
  while (!stdout.includes("\n")) {
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`manager did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: stdout.split("\n")[0]!, proc, stderr: () => stderr, exited };
}

interface Reply {
  status: number;
  body: string;
}

function send(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string>; ca?: string; cert?: string; key?: string } = {}): Promise<Reply> {
  const fn = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolveSend, reject) => {
    const req = fn(url, { method: init.method ?? "GET", headers: init.headers, ca: init.ca, cert: init.cert, key: init.key, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolveSend({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** The token the manager hands a VM, read from its metadata emulation (as the VM would). */
async function tokenOf(url: string, vmId: string): Promise<string> {
  const doc = JSON.parse((await send(`${url}/vms/${MT}/${vmId}/metadata/openstack/latest/meta_data.json`)).body) as { meta: { joboutputs: string } };
  return decodeURIComponent(new URL(doc.meta.joboutputs).password);
}

describe.skipIf(!existsSync(MANAGER) || !hasAgentBinary())("dist/manager with VMs", () => {
  it("the full local lifecycle: dist/agent run --root against the manager ends with its job outputs and shutdown_message there", async () => {
    const state = tempDir("manager-state-");
    const root = tempDir("agent-root-");
    const m = await startManager([resolve("examples/manager/definition.json"), "--http", "--state", state]);
    const metadataUrl = `${m.url}/vms/${MT}/laptop-1/metadata`;
    const r = await runAgent(["run", "--root", root, "--metadata-url", metadataUrl], { timeoutMs: 30_000 });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.exitCode).toBe(0);
    const outputs = join(state, "vms", MT, "laptop-1", "joboutputs");
    expect(readFileSync(join(outputs, "shutdown_message"), "utf8")).toBe("200 Payload completed");
    expect(readFileSync(join(outputs, "payload-stdout.log"), "utf8")).toMatch(/^payload running as \S+ on /);
    expect(readdirSync(outputs).sort()).toEqual(["payload-stderr.log", "payload-stdout.log", "shutdown_message", "vacuum-agent-context.json", "vacuum-agent-status.json", "vacuum-agent.jsonl"]);
    // The heartbeat went to memory only, and is in the state file once the manager stops.
    expect(m.stderr()).toMatch(/PUT "\/vms\/example-command\/laptop-1\/joboutputs\/heartbeat" 201/);
    // The token never appears in the agent's output or the manager's log.
    const token = await tokenOf(m.url, "laptop-1");
    expect(r.stderr + r.stdout + m.stderr()).not.toContain(token);
    for (const f of readdirSync(outputs)) expect(readFileSync(join(outputs, f), "utf8")).not.toContain(token);
    // The status: the VM finished, with its space, shutdown_message and the agent's boot timeline.
    const status = JSON.parse((await send(`${m.url}/status.json`)).body) as { vms: Record<string, unknown>[] };
    expect(status.vms[0]).toMatchObject({ machinetype: MT, vmId: "laptop-1", space: "127.0.0.1", state: "finished", shutdownMessage: "200 Payload completed", shutdownCode: 200 });
    expect((status.vms[0]!.timeline as { stage: string }[]).map((t) => t.stage)).toEqual(expect.arrayContaining(["layout", "accounts", "payload"]));
    expect((await send(`${m.url}/metrics`)).body).toContain('vacuum_manager_vms_finished{machinetype="example-command",code="200"} 1');
    expect((await send(`${m.url}/status`)).body).toContain("200 Payload completed");
    m.proc.kill("SIGTERM");
    expect(await m.exited).toEqual({ code: 0, signal: null });
    const record = readFileSync(join(state, "vm-state.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).find((x) => x.vmId === "laptop-1");
    expect(record).toMatchObject({ machinetype: MT, shutdownMessage: "200 Payload completed", outputs: 6 });
    expect(record.lastHeartbeat).toEqual(expect.any(Number));
  }, 60_000);

  it("SIGKILL during uploads: no partial file, every acknowledged upload whole after the restart, tokens still good", async () => {
    const state = tempDir("manager-state-");
    const def = resolve("examples/manager/definition.json");
    const m = await startManager([def, "--http", "--state", state]);
    const token = await tokenOf(m.url, "vm-k");
    const auth = { authorization: `Bearer ${token}` };
    const bodies = Array.from({ length: 64 }, (_, i) => Buffer.alloc(2 * 1024 * 1024 + i, String.fromCharCode(97 + (i % 26))));
    const acked = new Set<number>();
    const uploads = bodies.map((b, i) =>
      send(`${m.url}/vms/${MT}/vm-k/joboutputs/out-${i}.bin`, { method: "PUT", body: b, headers: auth }).then(
        (r) => (r.status === 201 ? acked.add(i) : undefined),
        () => undefined, // cut off by the kill
      ),
    );
    // And one upload that never finishes its body.
    const half = httpRequest(`${m.url}/vms/${MT}/vm-k/joboutputs/half.bin`, { method: "PUT", headers: { ...auth, "content-length": "1000000" } });
    half.on("error", () => {});
    half.write(Buffer.alloc(500_000, "h"));
    const end = Date.now() + 20_000;
    while (acked.size < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    m.proc.kill("SIGKILL");
    expect((await m.exited).signal).toBe("SIGKILL");
    await Promise.all(uploads);
    const ackedNow = new Set(acked);
    expect(ackedNow.size).toBeGreaterThanOrEqual(3);
    expect(ackedNow.size).toBeLessThan(bodies.length); // the kill really came in the middle

    const again = await startManager([def, "--http", "--state", state]);
    const dir = join(state, "vms", MT, "vm-k", "joboutputs");
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith("."))).toEqual([]); // temporary files of the killed uploads removed
    expect(files).not.toContain("half.bin");
    for (const i of ackedNow) expect(files).toContain(`out-${i}.bin`);
    for (const f of files) {
      const i = Number(/^out-(\d+)\.bin$/.exec(f)![1]);
      const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
      expect(sha(readFileSync(join(dir, f)))).toBe(sha(bodies[i]!)); // whole, never partial
    }
    // The key survived: the VM's token still opens it.
    expect((await send(`${again.url}/vms/${MT}/vm-k/joboutputs/after`, { method: "PUT", body: "x", headers: auth })).status).toBe(201);
    again.proc.kill("SIGTERM");
    await again.exited;
  }, 60_000);

  it("client certificates and RFC 3820 proxies in the compiled binary (bun), against the machinetype's DN prefix", async () => {
    const tls = await makeTlsFixtures();
    const defs = makeDefinitionDir();
    try {
      defs.write((d) => (d.pipes[0].machinetypes[0].client_dn_prefixes = ["/O=vacuum-agent tests/CN=host-01.example"]));
      const cert = join(tls.dir, "server.pem");
      const key = join(tls.dir, "server.key");
      writeFileSync(cert, tls.serverCertPem);
      writeFileSync(key, tls.serverKeyPem, { mode: 0o600 });
      const m = await startManager([defs.file, "--cert", cert, "--key", key, "--client-ca", tls.caDir, "--state", tempDir("manager-state-")]);
      const url = `${m.url}/vms/${MT}/vm-c/joboutputs`;
      const proxy = makeProxyPem(tls.clientCertPem, tls.clientKeyPem);
      const certs = (proxy.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).join("\n");
      const proxyKey = proxy.match(/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+?-----END (RSA )?PRIVATE KEY-----/)![0];
      expect((await send(`${url}/a`, { method: "PUT", body: "x", ca: tls.caPem, cert: tls.clientCertPem, key: tls.clientKeyPem })).status).toBe(201);
      expect((await send(`${url}/b`, { method: "PUT", body: "x", ca: tls.caPem, cert: certs, key: proxyKey })).status).toBe(201);
      expect((await send(`${url}/c`, { method: "PUT", body: "x", ca: tls.caPem })).status).toBe(401);
      m.proc.kill("SIGTERM");
      expect((await m.exited).code).toBe(0);
    } finally {
      defs.cleanup();
      await tls.cleanup();
    }
  }, 60_000);
});
