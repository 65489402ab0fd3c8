import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeHttpAgents, httpRequest, HttpError } from "../../src/net/http-client.ts";
import { makeTlsFixtures, type TlsFixtures } from "../support/tls-fixtures.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  switch (req.url) {
    case "/hello":
      res.setHeader("x-thing", "a");
      res.end("hello");
      return;
    case "/echo":
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ method: req.method, length: req.headers["content-length"] ?? null, chunked: req.headers["transfer-encoding"] ?? null, body }));
      return;
    case "/missing":
      res.statusCode = 404;
      res.end("<html>not here</html>");
      return;
    case "/big":
      res.end(Buffer.alloc(4096, 97));
      return;
    case "/hang":
      return; // never answers
    case "/who": {
      const cert = (req.socket as TLSSocket).getPeerCertificate?.();
      res.end(cert?.subject?.CN ?? "anonymous");
      return;
    }
    default:
      res.statusCode = 404;
      res.end();
  }
}

const withBody = (handler: Handler) => (req: IncomingMessage, res: ServerResponse) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => handler(req, res, body));
};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = createHttpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

const fast = { connectTimeoutMs: 1000, timeoutMs: 2000 };

async function failure(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

describe("httpRequest over http://", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createHttpServer(withBody(route));
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("returns status, lower-cased headers and body", async () => {
    const res = await httpRequest({ url: `${base}/hello`, ...fast });
    expect(res.status).toBe(200);
    expect(res.headers["x-thing"]).toBe("a");
    expect(res.text()).toBe("hello");
  });

  it("returns a 404 as a status, not an error", async () => {
    const res = await httpRequest({ url: `${base}/missing`, ...fast });
    expect(res.status).toBe(404);
    expect(res.text()).toContain("not here");
  });

  it("sends a body with Content-Length, never chunked", async () => {
    const res = await httpRequest({ method: "PUT", url: `${base}/echo`, body: "héllo", ...fast });
    expect(JSON.parse(res.text())).toEqual({ method: "PUT", length: "6", chunked: null, body: "héllo" });
  });

  it.each([
    ["a refused connection", async (): Promise<string> => `http://127.0.0.1:${await closedPort()}/x`, {}, "connect", /connection refused/],
    ["a server that never answers", async (): Promise<string> => `${base}/hang`, { timeoutMs: 200 }, "timeout", /no complete answer within 200 ms/],
    ["a body over maxBytes", async (): Promise<string> => `${base}/big`, { maxBytes: 1000 }, "too-large", /larger than 1000 bytes/],
    ["an unsupported scheme", async (): Promise<string> => "ftp://127.0.0.1/x", {}, "protocol", /unsupported scheme ftp/],
  ] as const)("fails with a typed error on %s", async (_name, makeUrl, extra, kind, message) => {
    const err = await failure(httpRequest({ url: await makeUrl(), ...fast, ...extra }));
    expect(err.kind).toBe(kind);
    expect(err.reason).toMatch(message);
  });

  it("keeps credentials out of error messages", async () => {
    const err = await failure(httpRequest({ url: `http://user:s3cret@127.0.0.1:${await closedPort()}/x`, ...fast }));
    expect(err.message).not.toContain("s3cret");
    expect(err.url).not.toContain("s3cret");
  });
});

describe("httpRequest over https:// with a client certificate", () => {
  let pki: TlsFixtures;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    pki = await makeTlsFixtures();
    server = createHttpsServer(
      { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true },
      withBody(route),
    );
    base = `https://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    await closeHttpAgents();
    server.closeAllConnections();
    server.close();
    await pki.cleanup();
  });

  it("connects with the right CA directory and client certificate (200, server sees the CN)", async () => {
    const res = await httpRequest({ url: `${base}/who`, ...fast, tls: { caDir: pki.caDir, cert: pki.clientCertPem, key: pki.clientKeyPem } });
    expect(res.status).toBe(200);
    expect(res.text()).toBe(pki.clientCn);
  });

  it("accepts the CA as PEM text as well", async () => {
    const res = await httpRequest({ url: `${base}/hello`, ...fast, tls: { ca: pki.caPem, cert: pki.clientCertPem, key: pki.clientKeyPem } });
    expect(res.text()).toBe("hello");
  });

  it("sends bodies with Content-Length over https too", async () => {
    const tls = { caDir: pki.caDir, cert: pki.clientCertPem, key: pki.clientKeyPem };
    const res = await httpRequest({ method: "PUT", url: `${base}/echo`, body: new Uint8Array([104, 105]), ...fast, tls });
    expect(JSON.parse(res.text())).toMatchObject({ method: "PUT", length: "2", chunked: null, body: "hi" });
  });

  it("fails with a tls error when the server's CA is not trusted", async () => {
    const err = await failure(
      httpRequest({ url: `${base}/who`, ...fast, tls: { caDir: pki.wrongCaDir, cert: pki.clientCertPem, key: pki.clientKeyPem } }),
    );
    expect(err.kind).toBe("tls");
    expect(err.reason).toMatch(/TLS failure \(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY/);
  });

  it("fails when no client certificate is presented", async () => {
    const err = await failure(httpRequest({ url: `${base}/who`, ...fast, tls: { caDir: pki.caDir } }));
    expect(["protocol", "tls"]).toContain(err.kind);
  });

  it("falls back to the system CAs when the CA directory does not exist (as Vac does)", async () => {
    const err = await failure(httpRequest({ url: `${base}/who`, ...fast, tls: { caDir: `${pki.dir}/nope`, cert: pki.clientCertPem, key: pki.clientKeyPem } }));
    expect(err.kind).toBe("tls");
    expect(err.reason).toMatch(/TLS failure \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
  });

  it("fails with a tls error naming a CA directory that holds no certificate", async () => {
    const err = await failure(httpRequest({ url: `${base}/who`, ...fast, tls: { caDir: pki.dir } }));
    expect(err.kind).toBe("tls");
    expect(err.reason).toBe(`cannot read the CA directory ${pki.dir} (no certificates)`);
  });

  it.each([
    ["/hang", { timeoutMs: 300 }, "timeout"],
    ["/big", { maxBytes: 100 }, "too-large"],
  ] as const)("enforces limits over https (%s)", async (path, extra, kind) => {
    const tls = { caDir: pki.caDir, cert: pki.clientCertPem, key: pki.clientKeyPem };
    const err = await failure(httpRequest({ url: `${base}${path}`, ...fast, ...extra, tls }));
    expect(err.kind).toBe(kind);
  });
});
