// Job outputs receivers for tests, after the real ones (vacuum-platform.md 4.1):
// - "vac": plain HTTP, exactly `/joboutputs/<name>`, 403 for anything wrong (other paths, no
//   Content-Length, chunked), 201, atomic replace; the name is not URL-decoded.
// - "vcycle": HTTPS with a required client certificate (a TLS failure without one, like Apache's
//   SSLVerifyClient require), `/machines/<space>/<machine>/joboutputs/<name>` (extra components
//   dropped, a query string kept in the name), 403 unless the subject DN in `/`-form starts with
//   dnPrefix, 404 for another space or machine, 200, truncate-and-write.
// Faults: failWith 500, "hang" (never answers), "slow" (answers after slowMs), "close" (drops
// the connection) — for every request, or for the first failTimes ones.

import { X509Certificate } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

export type Fault = 500 | "hang" | "slow" | "close";

export interface JobOutputsServerOptions {
  style: "vac" | "vcycle";
  /** Required for "vcycle". */
  tls?: {
    ca: string;
    cert: string;
    key: string;
    requestCert?: boolean;
    dnPrefix?: string;
    /** Accept RFC 3820 proxies as Vcycle's httpd with OPENSSL_ALLOW_PROXY_CERTS=1 does. Node's
     * TLS refuses them (toolchain.md P3), so the handshake lets every client in and the chain is
     * checked here; a client without a certificate then gets 403 instead of a TLS failure. */
    acceptProxies?: boolean;
  };
  failWith?: Fault | null;
  /** Fault only the first N requests (default: all). */
  failTimes?: number;
  /** Delay of "slow" answers; default 2000 ms. */
  slowMs?: number;
  space?: string;
  machine?: string;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  /** The output name the receiver took from the path, or null for a bad path. */
  name: string | null;
  contentLength: string | null;
  chunked: boolean;
  /** The client certificate's subject in `/`-form, or null. */
  dn: string | null;
  status: number | "hang" | "close";
  at: number;
}

export interface JobOutputsServer {
  /** The $JOBOUTPUTS value for this receiver. */
  url: string;
  port: number;
  files: Map<string, Buffer>;
  /** When each file was last written (Vac looks at st_mtime, Vcycle at st_ctime). */
  writtenAt: Map<string, number>;
  requests: ReceivedRequest[];
  setFault(fault: Fault | null, times?: number): void;
  close(): Promise<void>;
}

const slash = (subject: string) =>
  subject
    .split("\n")
    .filter(Boolean)
    .map((p) => `/${p}`)
    .join("");

/** A proxy chain: leaf signed by the next certificate, which the CA issued, and the leaf's subject
 * extends its issuer's by one CN. */
function isValidProxyChain(socket: TLSSocket, caPem: string): boolean {
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate;
  const parent = leaf?.issuerCertificate;
  if (!leaf?.raw || !parent?.raw || parent === leaf) return false;
  const proxy = new X509Certificate(leaf.raw);
  const issuer = new X509Certificate(parent.raw);
  const ca = new X509Certificate(caPem);
  const now = Date.now();
  const valid = (c: X509Certificate) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
  return (
    proxy.verify(issuer.publicKey) &&
    issuer.verify(ca.publicKey) &&
    valid(proxy) &&
    valid(issuer) &&
    proxy.issuer === issuer.subject &&
    proxy.subject.startsWith(`${issuer.subject}\nCN=`)
  );
}

function peerDn(req: IncomingMessage, caPem: string | null): string | null {
  const socket = req.socket as TLSSocket;
  const peer = socket.getPeerCertificate?.();
  if (!peer || !peer.raw) return null;
  if (!socket.authorized && !(caPem !== null && isValidProxyChain(socket, caPem))) return null;
  // X509Certificate keeps the attribute order (getPeerCertificate's object merges repeated CNs).
  return slash(new X509Certificate(peer.raw).subject);
}

export async function startJobOutputsServer(o: JobOutputsServerOptions): Promise<JobOutputsServer> {
  const space = o.space ?? "space.example";
  const machine = o.machine ?? "vm-0001";
  const files = new Map<string, Buffer>();
  const writtenAt = new Map<string, number>();
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let fault: Fault | null = o.failWith ?? null;
  let faultsLeft = o.failTimes ?? Infinity;

  const takeFault = (): Fault | null => {
    if (fault === null || faultsLeft <= 0) return null;
    faultsLeft--;
    return fault;
  };

  const nameFromPath = (path: string): string | null => {
    if (o.style === "vac") {
      const m = /^\/joboutputs\/([^/]+)$/.exec(path);
      return m ? m[1]! : null;
    }
    const parts = path.split("/");
    if (parts.length < 6 || parts[0] !== "" || parts[1] !== "machines" || parts[4] !== "joboutputs" || !parts[5]) return null;
    return parts[2] === space && parts[3] === machine ? parts[5] : null;
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      const record: ReceivedRequest = {
        method: req.method ?? "",
        path,
        name: nameFromPath(path),
        contentLength: req.headers["content-length"] ?? null,
        chunked: /chunked/i.test(req.headers["transfer-encoding"] ?? ""),
        dn: o.style === "vcycle" ? peerDn(req, o.tls?.acceptProxies ? o.tls.ca : null) : null,
        status: 0,
        at: Date.now(),
      };
      requests.push(record);
      const answer = (status: number) => {
        record.status = status;
        res.statusCode = status;
        res.end(status < 300 ? "" : `<html><body>${status}</body></html>`);
      };
      const f = takeFault();
      if (f === "hang") {
        record.status = "hang";
        return;
      }
      if (f === "close") {
        record.status = "close";
        req.socket.destroy();
        return;
      }
      if (f === 500) return answer(500);
      const respond = () => {
        if (req.method !== "PUT") return answer(o.style === "vac" ? 403 : 405);
        if (o.style === "vac") {
          if (record.name === null || record.contentLength === null || record.chunked) return answer(403);
        } else {
          const prefix = o.tls?.dnPrefix ?? "";
          if (record.dn === null || !record.dn.startsWith(prefix) || prefix === "") return answer(403);
          if (record.name === null) return answer(404);
        }
        files.set(record.name!, Buffer.concat(chunks));
        writtenAt.set(record.name!, Date.now());
        answer(o.style === "vac" ? 201 : 200);
      };
      if (f === "slow") setTimeout(respond, o.slowMs ?? 2000);
      else respond();
    });
  };

  let server: Server;
  if (o.style === "vcycle") {
    if (!o.tls) throw new Error("a vcycle receiver needs tls");
    server = createHttpsServer(
      {
        ca: o.tls.ca,
        cert: o.tls.cert,
        key: o.tls.key,
        requestCert: o.tls.requestCert ?? true,
        rejectUnauthorized: (o.tls.requestCert ?? true) && !o.tls.acceptProxies,
      },
      handler,
    );
  } else {
    server = createHttpServer(handler);
  }
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  // TLS handshake failures (no or foreign client certificate) are expected in tests.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url =
    o.style === "vac" ? `http://127.0.0.1:${port}/joboutputs` : `https://127.0.0.1:${port}/machines/${space}/${machine}/joboutputs`;

  return {
    url,
    port,
    files,
    writtenAt,
    requests,
    setFault(f, times) {
      fault = f;
      faultsLeft = times ?? Infinity;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A URL on a port where nothing listens: the receiver is down. */
export async function downReceiverUrl(): Promise<string> {
  const s = createHttpServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/joboutputs`;
}
