// The bun-compiled binary is where the TLS client path can break unnoticed (bun's built-in undici
// shim ignores client certificates, toolchain.md P2), so compile a small entry that uses the
// upload and heartbeat modules and run it against the Vcycle-style HTTPS receiver.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJobOutputsServer, type JobOutputsServer } from "../../support/joboutputs-server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../../support/tls-fixtures.ts";
import { makeProxyPem } from "./proxy-certificate.ts";

const BUN = resolve("node_modules/.bin/bun");
const ENTRY = resolve("test/lifecycle/joboutputs/compiled-upload-entry.ts");

let dir: string;
let binary: string;
let f: TlsFixtures;
let proxyFile: string;

interface Output {
  upload: { uploaded: string[]; failed: { name: string; reason: string }[]; skippedForBudget: string[] };
  heartbeat: { failedBeats: number; lastError: string | null };
  log: string[];
}

/** Runs the binary without blocking the event loop: the receiver lives in this process. */
function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(binary, [], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!existsSync(BUN))("job outputs upload in a bun-compiled binary", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "compiled-upload-"));
    binary = join(dir, "upload-probe");
    const build = spawnSync(
      BUN,
      ["build", "--compile", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", ENTRY, "--outfile", binary],
      { encoding: "utf8", timeout: 50_000 },
    );
    if (build.status !== 0) throw new Error(`bun build failed: ${build.stderr}`);
    f = await makeTlsFixtures();
    proxyFile = join(dir, "x509up");
    writeFileSync(proxyFile, makeProxyPem(f.clientCertPem, f.clientKeyPem), { mode: 0o600 });
  }, 60_000);
  afterAll(async () => {
    await f?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const spool = (name: string) => {
    const s = join(dir, name);
    mkdirSync(s);
    writeFileSync(join(s, "payload-stdout.log"), "hello from the payload\n");
    writeFileSync(join(s, "shutdown_message"), "200 Intended work completed ok");
    return s;
  };

  const receiver = (dnPrefix: string): Promise<JobOutputsServer> =>
    startJobOutputsServer({ style: "vcycle", tls: { ca: f.caPem, cert: f.serverCertPem, key: f.serverKeyPem, dnPrefix, acceptProxies: true } });

  it("uploads over HTTPS with the proxy as client certificate (200), shutdown_message last", async () => {
    const server = await receiver("/O=vacuum-agent tests/CN=host-01.example");
    try {
      const r = await run({ SPOOL: spool("ok"), JOBOUTPUTS: server.url, PROXY_FILE: proxyFile, CA_DIR: f.caDir });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as Output;
      expect(out.upload).toEqual({ uploaded: ["payload-stdout.log", "shutdown_message"], failed: [], skippedForBudget: [] });
      expect(out.heartbeat.failedBeats).toBe(0);
      expect(server.requests.map((q) => [q.name, q.status, q.contentLength !== null, q.chunked])).toEqual([
        ["payload-stdout.log", 200, true, false],
        ["shutdown_message", 200, true, false],
        ["heartbeat", 200, true, false],
      ]);
      expect(server.requests[0]!.dn).toMatch(/^\/O=vacuum-agent tests\/CN=host-01\.example\/CN=\d+$/);
      expect(server.files.get("shutdown_message")!.toString()).toBe("200 Intended work completed ok");
      expect(r.stdout).not.toContain("PRIVATE KEY");
    } finally {
      await server.close();
    }
  });

  it("reports a DN the receiver refuses (403, retried) as failed and goes on", async () => {
    const server = await receiver("/O=some other site");
    try {
      const r = await run({ SPOOL: spool("wrong-dn"), JOBOUTPUTS: server.url, PROXY_FILE: proxyFile, CA_DIR: f.caDir });
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as Output;
      expect(out.upload.uploaded).toEqual([]);
      expect(out.upload.failed.map((x) => [x.name, /^HTTP 403 .*\(after 2 attempt\(s\)\)$/.test(x.reason)])).toEqual([
        ["payload-stdout.log", true],
        ["shutdown_message", true],
      ]);
      expect(out.heartbeat.lastError).toMatch(/^heartbeat: HTTP 403/);
      expect(server.requests.map((q) => q.status)).toEqual([403, 403, 403, 403, 403]);
    } finally {
      await server.close();
    }
  });
});
