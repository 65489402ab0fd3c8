import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { parseListen, startServer, type RequestInfo, type RunningServer } from "../../../src/manager/serve/server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../../support/tls-fixtures.ts";

describe("parseListen", () => {
  it.each([
    ["127.0.0.1:8443", { host: "127.0.0.1", port: 8443 }],
    ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
    ["[::1]:443", { host: "::1", port: 443 }],
    ["localhost:80", { host: "localhost", port: 80 }],
    ["127.0.0.1", null],
    ["127.0.0.1:65536", null],
    [":8443", null],
    ["::1:443", null],
    ["127.0.0.1:84x", null],
  ])("%j is %j", (text, want) => expect(parseListen(text)).toEqual(want));
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(url: string, init: { method?: string; body?: string; ca?: string; headers?: Record<string, string>; rawPath?: string } = {}): Promise<Reply> {
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  const u = new URL(url);
  return new Promise((resolveCall, reject) => {
    // `path` is sent as written: a URL string would be normalised (`/a/../b` -> `/b`) by the client.
    const target = { hostname: u.hostname, port: u.port, path: init.rawPath ?? u.pathname + u.search };
    const req = send({ ...target, method: init.method ?? "GET", ca: init.ca, headers: init.headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolveCall({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("startServer", () => {
  let tls: TlsFixtures;
  let seen: Request[];
  const handler = async (req: Request): Promise<Response> => {
    seen.push(req);
    const body = req.body ? await req.text() : "";
    return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`, { status: 201, headers: { "x-test": "yes" } });
  };
  beforeAll(async () => {
    tls = await makeTlsFixtures();
  });
  afterAll(() => tls.cleanup());

  it("plain HTTP: the handler gets a Request (method, path, headers, body) and its Response is sent", async () => {
    seen = [];
    const server = await startServer({ listen: { host: "127.0.0.1", port: 0 }, handler });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await call(`${server.url}/a/b?q=1`, { method: "PUT", body: "hello", headers: { "user-agent": "Vac 03.00" } });
      expect(r).toMatchObject({ status: 201, body: "PUT /a/b hello" });
      expect(r.headers["x-test"]).toBe("yes");
      expect(seen[0]!.headers.get("user-agent")).toBe("Vac 03.00");
      expect(new URL(seen[0]!.url).search).toBe("?q=1");
      const head = await call(`${server.url}/x`, { method: "HEAD" });
      expect(head).toMatchObject({ status: 201, body: "" });
    } finally {
      await server.close();
    }
  });

  it("HTTPS with a certificate and key", async () => {
    seen = [];
    const server: RunningServer = await startServer({ listen: { host: "127.0.0.1", port: 0 }, tls: { certPem: tls.serverCertPem, keyPem: tls.serverKeyPem }, handler });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await call(`${server.url}/p`, { ca: tls.caPem })).toMatchObject({ status: 201, body: "GET /p " });
      await expect(call(`${server.url}/p`, { ca: tls.wrongCaPem })).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it("an oversized body gets an empty 413 and never reaches the handler", async () => {
    seen = [];
    const server = await startServer({ listen: { host: "127.0.0.1", port: 0 }, handler, maxBodyBytes: 10 });
    try {
      const r = await call(`${server.url}/x`, { method: "PUT", body: "x".repeat(100) });
      expect(r).toMatchObject({ status: 413, body: "" });
      expect(seen).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it("a handler that throws gets an empty 500", async () => {
    const server = await startServer({ listen: { host: "127.0.0.1", port: 0 }, handler: async () => { throw new Error("boom"); } });
    try {
      const r = await call(`${server.url}/x`);
      expect(r).toMatchObject({ status: 500, body: "" });
      expect(r.headers["content-length"]).toBe("0");
    } finally {
      await server.close();
    }
  });

  it("a port in use is an error, not a hang", async () => {
    const first = await startServer({ listen: { host: "127.0.0.1", port: 0 }, handler });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startServer({ listen: { host: "127.0.0.1", port }, handler })).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await first.close();
    }
  });

  it("a slow client is cut off: headers not finished in time, or a body trickling past the request timeout", async () => {
    seen = [];
    const server = await startServer({ listen: { host: "127.0.0.1", port: 0 }, handler, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const { port } = new URL(server.url);
      const hold = (lines: string, trickle: boolean) =>
        new Promise<{ ms: number; reply: string }>((resolveHold) => {
          const started = Date.now();
          let reply = "";
          const socket = connect(Number(port), "127.0.0.1", () => socket.write(lines));
          const timer = trickle ? setInterval(() => socket.write("x"), 50) : null;
          socket.on("data", (d) => (reply += d.toString()));
          socket.on("error", () => {});
          socket.on("close", () => {
            if (timer) clearInterval(timer);
            resolveHold({ ms: Date.now() - started, reply });
          });
        });
      const [headers, body] = await Promise.all([
        hold("PUT /x HTTP/1.1\r\nHost: a\r\n", false),
        hold("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", true),
      ]);
      for (const r of [headers, body]) {
        expect(r.ms).toBeLessThan(5_000);
        expect(r.reply).toMatch(/^HTTP\/1\.1 408|^$/);
      }
      expect(seen).toHaveLength(0);
    } finally {
      await server.close(100);
    }
  });

  it("a per-request body limit is applied from Content-Length before the body is read", async () => {
    seen = [];
    const limits: string[] = [];
    const server = await startServer({ listen: { host: "127.0.0.1", port: 0 }, handler, maxBodyBytes: (method, target) => (limits.push(`${method} ${target}`), target.startsWith("/big") ? 1000 : 10) });
    try {
      expect((await call(server.url, { method: "PUT", body: "x".repeat(50), rawPath: "/small/../x" })).status).toBe(413);
      expect((await call(`${server.url}/big`, { method: "PUT", body: "x".repeat(50) })).status).toBe(201);
      expect(limits).toEqual(["PUT /small/../x", "PUT /big"]);
    } finally {
      await server.close();
    }
  });

  it("the handler gets the raw target and the client address", async () => {
    const infos: RequestInfo[] = [];
    const server = await startServer({ listen: { host: "127.0.0.1", port: 0 }, handler: async (req, info) => (infos.push(info), handler(req)) });
    try {
      await call(server.url, { rawPath: "/a/%2e%2e/b" });
      expect(infos[0]).toMatchObject({ rawTarget: "/a/%2e%2e/b", remoteAddress: "127.0.0.1", peerChain: [], peerAuthorized: false });
    } finally {
      await server.close();
    }
  });
});
