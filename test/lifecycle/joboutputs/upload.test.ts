import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { splitProxyPem } from "../../../src/lifecycle/joboutputs/proxy-pem.ts";
import { uploadJobOutputs, type UploadOptions } from "../../../src/lifecycle/joboutputs/upload.ts";
import { closeHttpAgents } from "../../../src/net/http-client.ts";
import { downReceiverUrl, startJobOutputsServer, type Fault, type JobOutputsServer } from "../../support/joboutputs-server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../../support/tls-fixtures.ts";
import { recordLog } from "./log-recorder.ts";
import { makeProxyPem } from "./proxy-certificate.ts";

let root: string;
let spool: string;
const servers: JobOutputsServer[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "upload-"));
  spool = join(root, "spool");
  mkdirSync(spool);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await closeHttpAgents();
  rmSync(root, { recursive: true, force: true });
});

const put = (files: Record<string, string>) => {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(spool, name), text);
};

async function receiver(o: Parameters<typeof startJobOutputsServer>[0]): Promise<JobOutputsServer> {
  const s = await startJobOutputsServer(o);
  servers.push(s);
  return s;
}

const base = (o: Partial<UploadOptions> & { joboutputs: string }): UploadOptions => ({
  spoolDir: spool,
  perRequestTimeoutMs: 2000,
  totalBudgetMs: 10_000,
  retries: 2,
  backoffMs: 20,
  log: recordLog(),
  ...o,
});

describe("uploads to a Vac-style receiver (HTTP, 201)", () => {
  it("PUTs every regular file with Content-Length, shutdown_message last", async () => {
    const vac = await receiver({ style: "vac" });
    put({ "agent.jsonl": "{}\n", "payload-stdout.log": "out\n", shutdown_message: "200 Intended work completed ok", "zz-last-alphabetically": "z" });
    writeFileSync(join(spool, ".vacuum-agent-reserve"), "reserve");
    writeFileSync(join(spool, ".heartbeat.tmp-1-ab"), "temp");
    mkdirSync(join(spool, "subdir"));
    writeFileSync(join(root, "secret"), "root only");
    symlinkSync(join(root, "secret"), join(spool, "link"));

    const r = await uploadJobOutputs(base({ joboutputs: vac.url, last: ["shutdown_message"] }));
    expect(r).toEqual({ uploaded: ["agent.jsonl", "payload-stdout.log", "zz-last-alphabetically", "shutdown_message"], failed: [], skippedForBudget: [] });
    expect(vac.requests.map((q) => q.name)).toEqual(r.uploaded);
    expect(vac.requests.every((q) => q.status === 201 && q.contentLength !== null && !q.chunked)).toBe(true);
    expect(vac.requests.map((q) => Number(q.contentLength))).toEqual([3, 4, 1, 30]);
    expect(vac.files.get("shutdown_message")!.toString()).toBe("200 Intended work completed ok");
    expect([...vac.files.keys()]).not.toContain("link");
  });

  it("uploads only the names asked for and refuses names that are not flat", async () => {
    const vac = await receiver({ style: "vac" });
    put({ a: "a", b: "b" });
    const r = await uploadJobOutputs(base({ joboutputs: vac.url, names: ["b", "../etc/passwd", ".hidden", "missing"] }));
    expect(r.uploaded).toEqual(["b"]);
    expect(r.failed).toEqual([
      { name: "../etc/passwd", reason: expect.stringMatching(/not a flat name/) },
      { name: ".hidden", reason: expect.stringMatching(/not a flat name/) },
      { name: "missing", reason: "cannot read missing from the spool (ENOENT) (after 1 attempt(s))" },
    ]);
    expect(vac.requests.map((q) => q.name)).toEqual(["b"]);
  });

  it("retries a 500 with back-off and succeeds", async () => {
    const vac = await receiver({ style: "vac", failWith: 500, failTimes: 2 });
    put({ log: "x" });
    const log = recordLog();
    const r = await uploadJobOutputs(base({ joboutputs: vac.url, log }));
    expect(r.uploaded).toEqual(["log"]);
    expect(vac.requests.map((q) => q.status)).toEqual([500, 500, 201]);
    expect(log.lines.filter((l) => l.startsWith("warn upload of job output log failed: HTTP 500"))).toHaveLength(2);
  });

  it("sends a file larger than maxFileBytes as head + marker + tail and leaves the spool copy alone", async () => {
    const vac = await receiver({ style: "vac" });
    const big = "begin\n" + "middle line\n".repeat(100_000) + "end\n";
    put({ "huge.log": big });
    const r = await uploadJobOutputs(base({ joboutputs: vac.url, maxFileBytes: 4096 }));
    expect(r.uploaded).toEqual(["huge.log"]);
    const sent = vac.files.get("huge.log")!.toString();
    expect(sent.length).toBeLessThanOrEqual(4096);
    expect(sent).toMatch(/^begin\n[\s\S]*\[\.\.\. vacuum-agent: \d+ bytes cut here \.\.\.\]\n[\s\S]*end\n$/);
    expect(readFileSync(join(spool, "huge.log"), "utf8")).toBe(big);
  });

  it.each<[string, Fault | "down", RegExp]>([
    ["down", "down", /^connect: connection refused/],
    ["answering 500", 500, /^HTTP 500/],
    ["hanging", "hang", /^timeout: no complete answer within/],
    ["slow", "slow", /^timeout: no complete answer within/],
    ["closing the connection", "close", /^protocol: connection closed by the server/],
  ])("a receiver that is %s: every file fails with a clear reason, within the budget", async (_name, fault, reason) => {
    const url = fault === "down" ? await downReceiverUrl() : (await receiver({ style: "vac", failWith: fault, slowMs: 5000 })).url;
    put({ "a.log": "a", "b.log": "b", shutdown_message: "700 payload crashed" });
    const budget = 3000;
    const perRequest = 400;
    const t0 = Date.now();
    const r = await uploadJobOutputs(base({ joboutputs: url, last: ["shutdown_message"], perRequestTimeoutMs: perRequest, totalBudgetMs: budget, retries: 1, backoffMs: 50 }));
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(budget + perRequest + 500);
    expect(r.uploaded).toEqual([]);
    expect(r.skippedForBudget).toEqual([]);
    expect(r.failed.map((f) => f.name)).toEqual(["a.log", "b.log", "shutdown_message"]);
    for (const f of r.failed) expect(f.reason).toMatch(reason);
    expect(r.failed[0]!.reason).toMatch(/\(after 2 attempt\(s\)\)$/);
  });

  it("keeps a share of the budget for shutdown_message when a hanging receiver eats the rest", async () => {
    const vac = await receiver({ style: "vac", failWith: "hang" });
    put(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`log-${i}`, "x"])));
    put({ shutdown_message: "200 done" });
    const r = await uploadJobOutputs(base({ joboutputs: vac.url, last: ["shutdown_message"], perRequestTimeoutMs: 300, totalBudgetMs: 1500, retries: 3 }));
    expect(r.skippedForBudget.length).toBeGreaterThan(0);
    expect(r.skippedForBudget).not.toContain("shutdown_message");
    expect(r.failed.map((f) => f.name)).toContain("shutdown_message");
    expect(vac.requests.at(-1)!.name).toBe("shutdown_message");
    expect(r.uploaded.length + r.failed.length + r.skippedForBudget.length).toBe(11);
  });

  it("stops retrying when the back-off would pass the budget", async () => {
    const vac = await receiver({ style: "vac", failWith: 500 });
    put({ a: "a" });
    const r = await uploadJobOutputs(base({ joboutputs: vac.url, totalBudgetMs: 500, retries: 10, backoffMs: 200 }));
    expect(r.failed).toEqual([{ name: "a", reason: expect.stringMatching(/^HTTP 500.*\(upload budget spent after 2 attempt\(s\)\)$/) }]);
    expect(vac.requests).toHaveLength(2);
  });
});

describe("uploads to a local directory ($JOBOUTPUTS of the Docker/Singularity models)", () => {
  it("copies every file atomically", async () => {
    put({ a: "a", shutdown_message: "100 stopped" });
    const dest = join(root, "out");
    const r = await uploadJobOutputs(base({ joboutputs: dest, last: ["shutdown_message"] }));
    expect(r.uploaded).toEqual(["a", "shutdown_message"]);
    expect(readdirSync(dest).sort()).toEqual(["a", "shutdown_message"]);
    expect(readFileSync(join(dest, "shutdown_message"), "utf8")).toBe("100 stopped");
  });

  it("counts the spool itself as uploaded without rewriting anything", async () => {
    put({ a: "a" });
    const r = await uploadJobOutputs(base({ joboutputs: `file://${spool}/` }));
    expect(r.uploaded).toEqual(["a"]);
  });

  it.each([["ftp://host/x"], ["http://[bad"]])("reports an unusable $JOBOUTPUTS %s without throwing", async (value) => {
    put({ a: "a" });
    const r = await uploadJobOutputs(base({ joboutputs: value }));
    expect(r.failed).toEqual([{ name: "a", reason: expect.stringMatching(/\$JOBOUTPUTS/) }]);
  });
});

describe("uploads to a Vcycle-style receiver (HTTPS, client certificate, 200)", () => {
  let f: TlsFixtures;
  beforeAll(async () => (f = await makeTlsFixtures()));
  afterAll(() => f.cleanup());

  const vcycle = (dnPrefix: string, acceptProxies = false) =>
    receiver({ style: "vcycle", tls: { ca: f.caPem, cert: f.serverCertPem, key: f.serverKeyPem, dnPrefix, acceptProxies } });

  it("uploads with the host certificate when the DN matches the prefix", async () => {
    const s = await vcycle("/O=vacuum-agent tests/CN=host-01");
    put({ a: "a", shutdown_message: "200 ok" });
    const log = recordLog();
    const r = await uploadJobOutputs(base({ joboutputs: s.url, last: ["shutdown_message"], tls: { caDir: f.caDir, cert: f.clientCertPem, key: f.clientKeyPem }, log }));
    expect(r).toEqual({ uploaded: ["a", "shutdown_message"], failed: [], skippedForBudget: [] });
    expect(s.requests.map((q) => [q.name, q.status, q.dn, q.contentLength])).toEqual([
      ["a", 200, "/O=vacuum-agent tests/CN=host-01.example", "1"],
      ["shutdown_message", 200, "/O=vacuum-agent tests/CN=host-01.example", "6"],
    ]);
    expect(log.text()).not.toContain(f.clientKeyPem.split("\n")[1]!);
  });

  it("uploads with an X.509 proxy split into chain and key", async () => {
    const s = await vcycle("/O=vacuum-agent tests/CN=host-01.example", true);
    const cred = splitProxyPem(makeProxyPem(f.clientCertPem, f.clientKeyPem));
    if (!cred.ok) throw new Error(cred.message);
    put({ a: "a" });
    const r = await uploadJobOutputs(base({ joboutputs: s.url, tls: { ca: f.caPem, cert: cred.cert, key: cred.key } }));
    expect(r.uploaded).toEqual(["a"]);
    expect(s.requests[0]!.dn).toMatch(/^\/O=vacuum-agent tests\/CN=host-01\.example\/CN=\d+$/);
  });

  it("retries a 403 for a DN that does not match, then reports it failed", async () => {
    const s = await vcycle("/O=another site");
    put({ a: "a" });
    const r = await uploadJobOutputs(base({ joboutputs: s.url, retries: 2, tls: { caDir: f.caDir, cert: f.clientCertPem, key: f.clientKeyPem } }));
    expect(r.failed).toEqual([{ name: "a", reason: expect.stringMatching(/^HTTP 403 .*DN refused.*\(after 3 attempt\(s\)\)$/) }]);
    expect(s.requests.map((q) => q.status)).toEqual([403, 403, 403]);
  });

  it.each([
    ["without a client certificate", () => ({ caDir: f.caDir }), /^protocol: connection closed by the server \(the server may have refused the client certificate\)/],
    ["with the wrong CA", () => ({ caDir: f.wrongCaDir, cert: f.clientCertPem, key: f.clientKeyPem }), /^tls: TLS failure/],
  ])("fails %s", async (_name, tls, reason) => {
    const s = await vcycle("/O=vacuum-agent tests");
    put({ a: "a" });
    const r = await uploadJobOutputs(base({ joboutputs: s.url, retries: 1, tls: tls() }));
    expect(r.uploaded).toEqual([]);
    expect(r.failed).toEqual([{ name: "a", reason: expect.stringMatching(reason) }]);
    expect(s.requests).toEqual([]);
  });
});
