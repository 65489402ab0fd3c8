import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openConnectionPool } from "../../src/net/connection-pool.ts";
import { HttpError } from "../../src/net/http-error.ts";
import { makeTlsFixtures, type TlsFixtures } from "../support/tls-fixtures.ts";

let fx: TlsFixtures;
let base: string;
let connections = 0;
let inFlight = 0;
let maxInFlight = 0;
const sockets = new Set<Socket>();
let server: ReturnType<typeof createServer>;

beforeAll(async () => {
  fx = await makeTlsFixtures();
  server = createServer({ cert: fx.serverCertPem, key: fx.serverKeyPem }, (req, res) => {
    if (req.url === "/big") return res.end(Buffer.alloc(5000, 97));
    if (req.url === "/big-chunked") {
      res.write(Buffer.alloc(3000, 97));
      return setTimeout(() => res.end(Buffer.alloc(3000, 97)), 20);
    }
    if (req.url === "/hang") return;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("finish", () => (inFlight -= 1));
    setTimeout(() => res.end(`you asked for ${req.url}`), 30);
  });
  server.on("connection", (s: Socket) => {
    connections += 1;
    sockets.add(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  await fx.cleanup();
});

const get = { timeoutMs: 2000, maxBytes: 4096 };

describe("openConnectionPool", () => {
  it("runs many GETs over at most `connections` kept-alive connections", async () => {
    const before = connections;
    const pool = await openConnectionPool({ tls: { caDir: fx.caDir }, connections: 3, connectTimeoutMs: 1000 });
    expect(pool.answered()).toBe(false);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.get(`${base}/f${i}`, get)));
    expect(answers.map((a) => a.text())).toEqual(Array.from({ length: 30 }, (_, i) => `you asked for /f${i}`));
    expect(pool.answered()).toBe(true);
    expect(connections - before).toBeLessThanOrEqual(3);
    await pool.close();
  });

  it("pipelines GETs on one connection: the server sees several at once on its single connection", async () => {
    const before = connections;
    const pool = await openConnectionPool({ tls: { caDir: fx.caDir }, connections: 1, pipelining: 4, connectTimeoutMs: 1000 });
    await pool.get(`${base}/warm`, get);
    maxInFlight = 0;
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => pool.get(`${base}/p${i}`, get)));
    expect(answers.map((a) => a.text())).toEqual(Array.from({ length: 8 }, (_, i) => `you asked for /p${i}`));
    expect(connections - before).toBe(1);
    expect(maxInFlight).toBe(4);
    await pool.close();
  });

  it.each([
    ["/big", /answer of 5000 bytes, more than the 4096 allowed/],
    ["/big-chunked", /answer larger than the 4096 bytes allowed/],
  ])("refuses %s over the body cap", async (path, reason) => {
    const pool = await openConnectionPool({ tls: { caDir: fx.caDir }, connections: 1, connectTimeoutMs: 1000 });
    const err = await pool.get(`${base}${path}`, get).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ kind: "too-large", reason: expect.stringMatching(reason) });
    await pool.close();
  });

  it("times out a request as a whole", async () => {
    const pool = await openConnectionPool({ tls: { caDir: fx.caDir }, connections: 1, connectTimeoutMs: 1000 });
    await expect(pool.get(`${base}/hang`, { ...get, timeoutMs: 200 })).rejects.toMatchObject({ kind: "timeout", reason: "no complete answer within 200 ms" });
    await pool.close();
  });

  it("fails with a TLS error against the wrong CA, and on an unreadable CA directory", async () => {
    const pool = await openConnectionPool({ tls: { caDir: fx.wrongCaDir }, connections: 1, connectTimeoutMs: 1000 });
    await expect(pool.get(`${base}/x`, get)).rejects.toMatchObject({ kind: "tls" });
    await pool.close();
    await expect(openConnectionPool({ tls: { caDir: fx.dir + "/certificates/0a1b2c3d.signing_policy" }, connections: 1, connectTimeoutMs: 1000 })).rejects.toMatchObject({ kind: "tls" });
  });
});
