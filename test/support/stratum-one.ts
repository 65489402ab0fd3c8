// A stand-in CVMFS stratum-1 on 127.0.0.1 (the CVMFS server is not installable here; services.md):
// serves `/cvmfs/<repo>/.cvmfspublished` for its repositories, 404 for anything else. `body`
// replaces the manifest (a captive portal's page), `status` answers every request with it.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface StratumOne {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** CVMFS_SERVER_URL form: `http://127.0.0.1:PORT/cvmfs/@fqrn@` */
  serverUrl: string;
  port: number;
  requests: { path: string; via: string | undefined }[];
  close(): Promise<void>;
}

export interface StratumOneOptions {
  repositories: string[];
  body?: string | Buffer;
  status?: number;
}

/** A manifest as the CVMFS server writes it: key lines, `--`, the hash, then a binary signature. */
export function manifest(repo: string): Buffer {
  const head = [
    "C600230b0ba7620426f2e898f1e1f43c5466efe59",
    "B1096704",
    "Rd41d8cd98f00b204e9800998ecf8427e",
    "D900",
    "S4230",
    `N${repo}`,
    "Xa3a5b0d1fd6c8d3b1a2e3c0f6c1e1f2a3b4c5d6e",
    "T1790000000",
    "--",
    "6e4c1b5e2f3a4d5c6b7a8f9e0d1c2b3a4f5e6d7c",
    "",
  ].join("\n");
  return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from([0x00, 0x9f, 0x0a, 0xff, 0x13, 0x37])]);
}

export async function startStratumOne(opts: StratumOneOptions): Promise<StratumOne> {
  const requests: StratumOne["requests"] = [];
  const repos = new Set(opts.repositories);
  const server: Server = createServer((req, res) => {
    req.resume();
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push({ path, via: req.headers.via });
    const m = /^\/cvmfs\/([^/]+)\/\.cvmfspublished$/.exec(path);
    if (opts.status !== undefined) {
      res.writeHead(opts.status, { "content-type": "text/plain" });
      return res.end(`status ${opts.status}\n`);
    }
    if (!m || !repos.has(m[1]!)) {
      res.writeHead(404, { "content-type": "text/plain" });
      return res.end("not found\n");
    }
    const body = opts.body ?? manifest(m[1]!);
    res.writeHead(200, { "content-type": "application/x-cvmfs", "cache-control": "max-age=61" });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    serverUrl: `${url}/cvmfs/@fqrn@`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released): connections to it are refused. */
export { closedPort } from "./closed-port.ts";
