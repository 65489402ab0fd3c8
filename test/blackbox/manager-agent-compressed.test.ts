// dist/manager publishes agents/NAME.zst and .gz (src/manager/agent-compressed.ts): node:zlib's
// zstd exists only in the compiled binary (bun), so the zstd copy is tested here, black box, and
// decompressed with the zstd tool a VM's bootstrap uses.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANAGER_BINARY, startManagerProcess, type ManagerProcess } from "../support/manager-process.ts";

const MANAGER = MANAGER_BINARY;
const hasZstd = spawnSync("zstd", ["--version"]).status === 0;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
const get = (url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> =>
  new Promise((ok, fail) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c)).on("end", () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", fail).end();
  });
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe.skipIf(!existsSync(MANAGER) || !hasZstd)("dist/manager: compressed agents", () => {
  let dir: string;
  let manager: ManagerProcess | undefined;
  let url: string;
  const stderr = () => manager?.stderr() ?? "";
  let binary: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "manager-agent-zst-"));
    const block = randomBytes(4096);
    binary = Buffer.concat(Array.from({ length: 1024 }, (_, i) => (i % 8 === 0 ? randomBytes(4096) : block)));
    writeFileSync(join(dir, "agent"), binary, { mode: 0o755 });
    copyFileSync(resolve("examples/manager/command.template"), join(dir, "command.template"));
    const def = JSON.parse(readFileSync(resolve("examples/manager/definition.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "definition.json"), JSON.stringify({ ...def, agents: { agent: "agent" } }));
    manager = await startManagerProcess([join(dir, "definition.json"), "--http", "--state", join(dir, "state")]);
    url = manager.url;
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The copies are made in the background from the start: poll until one answers 200. */
  async function ready(path: string): Promise<Reply> {
    const end = Date.now() + 20_000;
    for (;;) {
      const r = await get(`${url}${path}`);
      if (r.status === 200 || Date.now() > end) return r;
      expect(r.status).toBe(404); // not made yet: the bootstrap takes the next form
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  it.each([
    ["zst", "application/zstd", ["zstd", "-dcq"]],
    ["gz", "application/gzip", ["gzip", "-dc"]],
  ])("agents/agent.%s: the binary compressed, with the binary's sha256; it decompresses to exactly the binary", async (enc, type, tool) => {
    const r = await ready(`/agents/agent.${enc}`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe(type);
    expect(r.headers["x-checksum-sha256"]).toBe(sha256(binary));
    expect(Number(r.headers["content-length"])).toBe(r.body.length);
    expect(r.body.length).toBeLessThan(binary.length / 2);
    const out = spawnSync(tool[0]!, tool.slice(1), { input: r.body, maxBuffer: 64 * 1024 * 1024 });
    expect(out.status).toBe(0);
    expect(sha256(out.stdout)).toBe(sha256(binary));
    // Its own validator: a 304 for its ETag, distinct from the binary's.
    const etag = String(r.headers.etag);
    expect(etag).toBe(`"${sha256(binary)}.${enc}"`);
    expect((await get(`${url}/agents/agent.${enc}`, { "if-none-match": etag })).status).toBe(304);
    const head = await get(`${url}/agents/agent.${enc}`, {}, "HEAD");
    expect(head).toMatchObject({ status: 200, body: Buffer.alloc(0) });
    expect(Number(head.headers["content-length"])).toBe(r.body.length);
  }, 30_000);

  it("keeps the copies in the state directory, named by the binary's sha256, and logs each once", async () => {
    await ready("/agents/agent.zst");
    await ready("/agents/agent.gz");
    expect(readdirSync(join(dir, "state", "agent-cache")).sort()).toEqual([`${sha256(binary)}.gz`, `${sha256(binary)}.zst`]);
    expect(stderr().match(/agents\/agent\.zst: \d+ bytes \(\d+% of \d+\) made in/g)).toHaveLength(1);
    // The binary itself: sent whole with its Content-Length (sendfile), not chunked.
    const plain = await get(`${url}/agents/agent`);
    expect(plain.headers["x-checksum-sha256"]).toBe(sha256(binary));
    expect(plain.headers["content-length"]).toBe(String(binary.length));
    expect(plain.headers["transfer-encoding"]).toBeUndefined();
    expect(sha256(plain.body)).toBe(sha256(binary));
  }, 30_000);

  it("a name that is no agent's is still 404", async () => {
    expect((await get(`${url}/agents/other.zst`)).status).toBe(404);
  });
});
