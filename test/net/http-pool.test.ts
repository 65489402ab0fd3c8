import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpRequest } from "../../src/net/http-client.ts";
import { createHttpPool } from "../../src/net/http-pool.ts";

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(null));
  server = null;
});

/** A loopback server that counts connections and remembers which are still open. */
async function counting(): Promise<{ url: string; connections: () => number; open: () => number }> {
  const sockets = new Set<Socket>();
  let total = 0;
  server = createServer((req, res) => res.end(req.url)).on("connection", (s: Socket) => {
    total++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, connections: () => total, open: () => sockets.size };
}

const get = (url: string, pool?: ReturnType<typeof createHttpPool>) =>
  httpRequest({ url, connectTimeoutMs: 2000, timeoutMs: 5000, ...(pool ? { pool } : {}) });

describe("createHttpPool", () => {
  it("30 requests at once share at most maxSockets connections, each answer its own", async () => {
    const s = await counting();
    const pool = createHttpPool(4);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => get(`${s.url}/k${i}`, pool)));
    expect(answers.map((a) => a.text())).toEqual(Array.from({ length: 30 }, (_, i) => `/k${i}`));
    expect(s.connections()).toBeLessThanOrEqual(4);
    expect(s.connections()).toBeGreaterThanOrEqual(1);
    pool.close();
    await expect.poll(() => s.open(), { timeout: 2000 }).toBe(0); // closed when the burst is over
  });

  it("without a pool every request has its own connection, closed after it", async () => {
    const s = await counting();
    await Promise.all(Array.from({ length: 10 }, (_, i) => get(`${s.url}/k${i}`)));
    expect(s.connections()).toBe(10);
    await expect.poll(() => s.open(), { timeout: 2000 }).toBe(0);
  });
});
