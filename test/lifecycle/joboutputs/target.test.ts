// URL credentials (how the manager hands a VM its token) become an Authorization header and never
// travel in the request line.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobOutputsTarget, type JobOutputsTarget } from "../../../src/lifecycle/joboutputs/target.ts";

const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
const server = createServer((req, res) => {
  seen.push({ url: req.url ?? "", headers: req.headers });
  req.resume();
  req.on("end", () => res.writeHead(201).end());
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const target = (url: string) => jobOutputsTarget(url) as JobOutputsTarget;

describe("jobOutputsTarget over http", () => {
  it.each([
    ["vm-7:tok%2Fen", "vm-7:tok/en"],
    [":only-a-token", ":only-a-token"],
  ])("userinfo %s is sent as Basic %s, not in the path", async (userinfo, pair) => {
    seen.length = 0;
    const t = target(`http://${userinfo}@127.0.0.1:${port}/vms/vm-7/joboutputs/`);
    expect(t.where).toBe(`http://127.0.0.1:${port}/vms/vm-7/joboutputs`);
    const r = await t.put("heartbeat", new TextEncoder().encode("0.1 0.2 0.3 10 9\n"), 5000);
    expect(r).toEqual({ ok: true, status: 201 });
    expect(seen[0]!.url).toBe("/vms/vm-7/joboutputs/heartbeat");
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from(pair).toString("base64")}`);
  });

  it("no credentials: no Authorization header", async () => {
    seen.length = 0;
    await target(`http://127.0.0.1:${port}/joboutputs`).put("x", new Uint8Array([1]), 5000);
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });
});
