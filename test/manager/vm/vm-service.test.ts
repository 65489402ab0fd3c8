// The VM-facing endpoints through the app (no sockets): who may PUT, what is written where, what
// heartbeats change, MJF and metadata for one VM, and per-VM copies of templates.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, type App } from "../../../src/manager/serve/app.ts";
import { createPublisher } from "../../../src/manager/serve/publisher.ts";
import type { RequestInfo } from "../../../src/manager/serve/server.ts";
import { createVmService, type VmService } from "../../../src/manager/vm/vm-service.ts";
import { VmRegistry } from "../../../src/manager/vm/vm-registry.ts";
import { loadTokenKey, vmToken, type TokenKey } from "../../../src/manager/vm/vm-token.ts";
import { makeDefinitionDir, type DefinitionDir } from "../serve/definition-dir.ts";

const BASE = "http://manager.test:8080";
const MT = "example-command";
const VM = "0123456789abcdef0123";
const OUT = `/vms/${MT}/${VM}/joboutputs`;

let defs: DefinitionDir;
let state: string;
let key: TokenKey;
let registry: VmRegistry;
let vm: VmService;
let app: App;
let logs: string[];
let clock: number;

function send(path: string, init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string>; remote?: string } = {}): Promise<Response> {
  const info: RequestInfo = { remoteAddress: init.remote ?? "127.0.0.1", rawTarget: path, peerChain: [], peerAuthorized: false };
  const req = new Request(BASE + path.replace(/\.\./g, "dotdot"), { method: init.method ?? "GET", headers: init.headers, body: init.body });
  return app.fetch(req, info);
}
const bearer = (vmId = VM, mt = MT) => ({ authorization: `Bearer ${vmToken(key, mt, vmId)}` });
const put = (name: string, body: string | Uint8Array, headers: Record<string, string> = bearer()) => send(`${OUT}/${name}`, { method: "PUT", body, headers });
const outputs = () => (existsSync(join(state, "vms", MT, VM, "joboutputs")) ? readdirSync(join(state, "vms", MT, VM, "joboutputs")).sort() : []);

beforeEach(async () => {
  defs = makeDefinitionDir();
  state = mkdtempSync(join(tmpdir(), "vm-service-"));
  key = await loadTokenKey(state);
  registry = new VmRegistry(5);
  logs = [];
  clock = Date.parse("2026-03-01T10:00:00Z");
  const publisher = createPublisher({ file: defs.file });
  expect((await publisher.reload()).swapped).toBe(true);
  vm = createVmService({ stateDir: state, key, registry, content: publisher.current, now: () => clock, log: (l) => logs.push(l) });
  app = createApp({ content: publisher.current, vm });
});
afterEach(() => {
  defs.cleanup();
  rmSync(state, { recursive: true, force: true });
});

describe("job outputs", () => {
  it("a PUT with the VM's token is written whole (0640) and answered 201 with an empty body", async () => {
    const res = await put("payload-stdout.log", "hello\n");
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("");
    const file = join(state, "vms", MT, VM, "joboutputs", "payload-stdout.log");
    expect(readFileSync(file, "utf8")).toBe("hello\n");
    expect(registry.get(MT, VM)).toMatchObject({ outputs: 1, lastOutput: clock, firstSeen: clock });
  });

  it.each([
    ["Bearer", (t: string) => `Bearer ${t}`],
    ["Basic with the token as password (https://vm:<token>@host/…)", (t: string) => `Basic ${Buffer.from(`vm:${t}`).toString("base64")}`],
    ["Basic with any user name", (t: string) => `Basic ${Buffer.from(`x:${t}`).toString("base64")}`],
  ])("the token is accepted as %s", async (_, header) => {
    expect((await put("a.log", "x", { authorization: header(vmToken(key, MT, VM)) })).status).toBe(201);
  });

  it.each([
    ["no token", () => ({}), 401],
    ["a forged token", () => ({ authorization: `Bearer ${"A".repeat(43)}` }), 403],
    ["another VM's token", () => bearer("another-vm"), 403],
    ["another machinetype's token for the same id", () => bearer(VM, "example-other"), 403],
    ["Basic without a password", () => ({ authorization: `Basic ${Buffer.from("vm:").toString("base64")}` }), 401],
    ["an unknown scheme", () => ({ authorization: "Token x" }), 401],
  ])("%s: refused with %i, nothing written", async (_, headers, status) => {
    const res = await put("shutdown_message", "200 done", headers());
    expect(res.status).toBe(status);
    expect(await res.text()).toBe("");
    if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(outputs()).toEqual([]);
    expect(registry.size).toBe(0);
    expect(logs.join("\n")).not.toContain(vmToken(key, MT, VM));
  });

  it.each([
    [`${OUT}/../../../etc/passwd`, 400],
    [`${OUT}/a/b`, 400],
    [`${OUT}/.hidden`, 400],
    [`${OUT}/%2e%2e`, 400],
    [`/vms/example-unknown/${VM}/joboutputs/x`, 404],
    [`/vms/${MT}/bad.id/joboutputs/x`, 404],
  ])("%s: %i, nothing written anywhere", async (path, status) => {
    const res = await send(path, { method: "PUT", body: "x", headers: bearer() });
    expect(res.status).toBe(status);
    expect(await res.text()).toBe("");
    expect(readdirSync(state).sort()).toEqual(["vm-token.key"]);
  });

  it("GET on a job output is 405 (outputs are not served back)", async () => {
    expect((await send(`${OUT}/x`, { headers: bearer() })).status).toBe(405);
  });

  it("a heartbeat changes only the record in memory: no file", async () => {
    expect((await put("heartbeat", "0.1 0.2 0.3 100 90\n")).status).toBe(201);
    clock += 60_000;
    expect((await put("vm-heartbeat", "0.1 0.2 0.3 160 150\n")).status).toBe(201);
    expect(outputs()).toEqual([]);
    expect(registry.get(MT, VM)).toMatchObject({ lastHeartbeat: clock, heartbeat: "0.1 0.2 0.3 160 150\n", outputs: 0 });
  });

  it("an oversized heartbeat is 413; the body limits are known before the body is read", async () => {
    expect((await put("heartbeat", "x".repeat(5000))).status).toBe(413);
    expect(vm.bodyLimit("PUT", `${OUT}/heartbeat`)).toBe(4096);
    expect(vm.bodyLimit("PUT", `${OUT}/big.tar`)).toBe(32 * 1024 * 1024);
    expect(vm.bodyLimit("PUT", "/pipes/example.pipe")).toBe(64 * 1024);
  });

  it("the shutdown_message is kept (first line, printable) for the status", async () => {
    expect((await put("shutdown_message", "300 No work\nmore")).status).toBe(201);
    expect(registry.get(MT, VM)).toMatchObject({ shutdownMessage: "300 No work", shutdownAt: clock });
  });

  it("two uploads of one name at once: the file is one of them, whole, and no temporary file stays", async () => {
    const a = "a".repeat(300_000);
    const b = "b".repeat(200_000);
    const results = await Promise.all([put("same.log", a), put("same.log", b), put("same.log", a)]);
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect([a, b]).toContain(readFileSync(join(state, "vms", MT, VM, "joboutputs", "same.log"), "utf8"));
    expect(outputs()).toEqual(["same.log"]);
  });

  it("the number of VMs is capped: a new VM past the cap gets 503", async () => {
    for (let i = 0; i < 5; i++) expect((await send(`/vms/${MT}/vm-${i}/joboutputs/heartbeat`, { method: "PUT", body: "x", headers: bearer(`vm-${i}`) })).status).toBe(201);
    expect((await send(`/vms/${MT}/vm-9/joboutputs/heartbeat`, { method: "PUT", body: "x", headers: bearer("vm-9") })).status).toBe(503);
  });
});

describe("Machine/Job Features", () => {
  it("serves TN02 keys from the machinetype and the time the VM was first seen", async () => {
    await put("heartbeat", "x");
    const started = clock / 1000;
    clock += 10_000;
    const value = async (dir: string, k: string) => (await send(`/vms/${MT}/${VM}/${dir}/${k}`)).text();
    expect(await value("machinefeatures", "total_cpu")).toBe("1");
    expect(await value("machinefeatures", "jobslots")).toBe("1");
    expect(await value("machinefeatures", "shutdowntime")).toBe(String(started + 86400));
    expect(await value("jobfeatures", "wall_limit_secs")).toBe("86400");
    expect(await value("jobfeatures", "jobstart_secs")).toBe(String(started));
    expect(await value("jobfeatures", "job_id")).toBe(VM);
    const missing = await send(`/vms/${MT}/${VM}/machinefeatures/hs06`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("");
    const listing = await send(`/vms/${MT}/${VM}/jobfeatures/`);
    expect(await listing.text()).toContain('<li><a href="wall_limit_secs">');
  });
});

describe("metadata emulation", () => {
  const META = `/vms/${MT}/${VM}/metadata`;

  it("OpenStack meta_data.json names the VM and its MJF and job outputs URLs (with the token as password)", async () => {
    const doc = (await (await send(`${META}/openstack/latest/meta_data.json`)).json()) as { uuid: string; meta: Record<string, string> };
    expect(doc.uuid).toBe(VM);
    expect(doc.meta.machinetype).toBe(MT);
    expect(doc.meta.machinefeatures).toBe(`${BASE}/vms/${MT}/${VM}/machinefeatures`);
    expect(doc.meta.joboutputs).toBe(`http://vm:${vmToken(key, MT, VM)}@manager.test:8080/vms/${MT}/${VM}/joboutputs`);
    expect(registry.get(MT, VM)?.metadataAt).toBe(clock);
  });

  it("user_data is the template rendered with this manager as the site", async () => {
    const ud = await (await send(`${META}/openstack/latest/user_data`)).text();
    expect(ud).toContain(`user_data_machinetype = ${MT}`);
    expect(ud).toContain(`user_data_uuid = ${VM}`);
    expect(ud).toContain(`user_data_joboutputs_url = http://vm:${vmToken(key, MT, VM)}@manager.test:8080/vms/${MT}/${VM}/joboutputs`);
    expect(ud).toContain("user_data_option_cvmfs_proxy = DIRECT");
    expect(ud).not.toMatch(/##user_data_[a-z_]*##/);
    expect(await (await send(`${META}/latest/user-data`)).text()).toBe(ud);
  });

  it.each([
    ["openstack", "latest\n"],
    ["latest/meta-data/instance-id", VM],
    ["2009-04-04/meta-data/instance-id", VM],
    ["latest/meta-data/local-hostname", `${MT}-${VM}`],
  ])("%s answers %j (what cloud-init asks)", async (path, want) => {
    expect(await (await send(`${META}/${path}`)).text()).toBe(want);
  });

  it("vendor_data and unknown paths are empty 404s", async () => {
    for (const p of ["openstack/latest/vendor_data.json", "latest/api/token", "nothing"]) {
      const res = await send(`${META}/${p}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe("");
    }
  });

  it("is refused (403, empty) to a client that is not on loopback: it hands out the VM's token", async () => {
    const res = await send(`${META}/openstack/latest/user_data`, { remote: "192.0.2.7" });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("");
  });
});

describe("templates with placeholders", () => {
  it("each copy gets a fresh VM id and that VM's token; the copy's token opens that VM only", async () => {
    defs.write((d) => d);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(defs.dir, "command.template"), "#!/bin/sh\nid={{vacuum.vm_id}}\ntoken={{vacuum.vm_token}}\nput={{vacuum.joboutputs_url}}\n");
    const publisher = createPublisher({ file: defs.file });
    expect((await publisher.reload()).swapped).toBe(true);
    vm = createVmService({ stateDir: state, key, registry, content: publisher.current, now: () => clock });
    app = createApp({ content: publisher.current, vm });
    const copies = await Promise.all([1, 2].map(async () => (await send(`/user_data/${MT}.template`)).text()));
    const parsed = copies.map((c) => Object.fromEntries(c.split("\n").slice(1, 4).map((l) => l.split("=", 2) as [string, string])));
    expect(parsed[0]!.id).not.toBe(parsed[1]!.id);
    for (const p of parsed) {
      expect(p.id).toMatch(/^[0-9a-f]{20}$/);
      expect(p.token).toBe(vmToken(key, MT, p.id!));
      expect(p.put).toBe(`${BASE}/vms/${MT}/${p.id}/joboutputs`);
    }
    const own = await send(`/vms/${MT}/${parsed[0]!.id}/joboutputs/x`, { method: "PUT", body: "x", headers: { authorization: `Bearer ${parsed[0]!.token}` } });
    expect(own.status).toBe(201);
    const other = await send(`/vms/${MT}/${parsed[1]!.id}/joboutputs/x`, { method: "PUT", body: "x", headers: { authorization: `Bearer ${parsed[0]!.token}` } });
    expect(other.status).toBe(403);
  });
});
