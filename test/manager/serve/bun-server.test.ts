// bun-server.ts is only loaded by the compiled binary, so it is tested through dist/manager, each
// case against both servers the binary can run: Bun.serve (its default without client
// certificates) and node:http (VACUUM_MANAGER_HTTP=node). Where they differ (dot segments, which
// Bun resolves before the handler sees the target), the table says so and both stay inside the VM.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startManagerProcess, type ManagerProcess } from "../../support/manager-process.ts";
import { serverKind } from "../../../src/manager/serve/server.ts";

const MANAGER = resolve("dist/manager");
const MT = "example-command";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string>; path?: string; chunked?: boolean } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolveSend, reject) => {
    const req = request({ hostname: u.hostname, port: u.port, path: init.path ?? u.pathname, method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolveSend({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    if (init.chunked) {
      // No Content-Length: the body arrives in chunks of unknown total size.
      req.write(init.body ?? "");
      req.end();
    } else req.end(init.body);
  });
}

/** The raw response head to a request without `Connection: close`. */
function rawHead(url: string, path: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolveHead) => {
    let text = "";
    const socket = connect(Number(u.port), u.hostname, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (text.includes("\r\n\r\n")) socket.destroy();
    });
    socket.on("close", () => resolveHead(text.slice(0, text.indexOf("\r\n\r\n"))));
  });
}

describe("serverKind", () => {
  it("is node under Node (vitest), whatever the environment says", () => {
    expect(serverKind({}, {})).toBe("node");
    expect(serverKind({ tls: { certPem: "", keyPem: "" } }, { VACUUM_MANAGER_HTTP: "bun" })).toBe("node");
  });
});

describe.skipIf(!existsSync(MANAGER)).each([
  ["bun", {}],
  ["node", { VACUUM_MANAGER_HTTP: "node" }],
])("dist/manager serve --http on %s", (kind, env) => {
  let proc: ChildProcess;
  let url: string;
  let state: string;
  let token: string;
  let manager: ManagerProcess;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), "manager-bun-server-"));
    const m = await startManagerProcess([resolve("examples/manager/definition.json"), "--http", "--state", state], env);
    proc = m.proc;
    url = m.url;
    manager = m;
    const meta = JSON.parse((await send(`${url}/vms/${MT}/vm-a/metadata/openstack/latest/meta_data.json`)).body) as { meta: { joboutputs: string } };
    token = decodeURIComponent(new URL(meta.meta.joboutputs).password);
  });
  afterAll(async () => {
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("close", r));
    rmSync(state, { recursive: true, force: true });
  });

  const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}, chunked = false) =>
    send(url, { method: "PUT", path, body, headers: { authorization: `Bearer ${token}`, ...headers }, chunked });
  const outputs = (vm: string) => {
    const dir = join(state, "vms", MT, vm, "joboutputs");
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };

  it("is the server it was asked for (node:http answers keep-alive requests with Keep-Alive: timeout=)", async () => {
    const head = await rawHead(url, "/pipes/example.pipe");
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    if (kind === "node") expect(head).toMatch(/\r\nkeep-alive: timeout=/i);
    else expect(head).not.toMatch(/\r\nkeep-alive:/i);
  });

  it("heartbeats: 201 with the VM's token, 401 without one, 403 with another VM's; each logged", async () => {
    const hb = `/vms/${MT}/vm-a/joboutputs/heartbeat`;
    expect(await put(hb, "0.1 0.2 0.3 100 90")).toMatchObject({ status: 201, body: "" });
    expect(await send(url, { method: "PUT", path: hb, body: "x" })).toMatchObject({ status: 401, body: "" });
    expect(await put(`/vms/${MT}/vm-b/joboutputs/heartbeat`, "x")).toMatchObject({ status: 403, body: "" });
    await new Promise((r) => setTimeout(r, 50)); // the request log is written once per event-loop turn
    expect(manager.stderr()).toContain(`PUT "${hb}" 201 0 "-"`);
    expect(outputs("vm-a")).not.toContain("heartbeat"); // memory only
  });

  it.each([
    ["declared by Content-Length", false],
    ["sent chunked", true],
  ])("a heartbeat larger than 4 KiB, %s, gets an empty 413 and writes nothing", async (_, chunked) => {
    const r = await put(`/vms/${MT}/vm-a/joboutputs/heartbeat`, Buffer.alloc(5000, "h"), {}, chunked);
    expect(r).toMatchObject({ status: 413, body: "" });
    const small = await put(`/vms/${MT}/vm-a/joboutputs/small.log`, "fits", {}, chunked);
    expect(small.status).toBe(201);
    expect(outputs("vm-a")).toContain("small.log");
  });

  it("HEAD of a pipe: its Content-Length and no body; a 304 for its ETag", async () => {
    const full = await send(`${url}/pipes/example.pipe`);
    const head = await send(`${url}/pipes/example.pipe`, { method: "HEAD" });
    expect(head).toMatchObject({ status: 200, body: "" });
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(full.body)));
    expect(await send(`${url}/pipes/example.pipe`, { headers: { "if-none-match": full.headers.etag as string } })).toMatchObject({ status: 304, body: "" });
  });

  // node:http sees the raw target and refuses it; Bun.serve resolves it first, then routes and
  // authorises the resolved target: never a file outside the VM it names, never another VM's.
  it.each([
    [`/vms/${MT}/vm-a/joboutputs/x/../dot.log`, { bun: 201, node: 400 }, "dot.log"],
    [`/vms/${MT}/vm-a/joboutputs/%2e%2e/%2e%2e/vm-b/joboutputs/stolen`, { bun: 403, node: 400 }, null],
    [`/vms/${MT}/vm-a/joboutputs/../../../../etc/passwd`, { bun: 404, node: 400 }, null],
  ])("PUT %s: %j", async (path, want, written) => {
    const r = await put(path, "data");
    expect(r).toMatchObject({ status: want[kind as "bun" | "node"], body: "" });
    expect(outputs("vm-b")).toEqual([]);
    if (written && kind === "bun") expect(outputs("vm-a")).toContain(written);
  });
});
