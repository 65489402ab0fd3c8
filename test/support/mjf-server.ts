// A local Machine/Job Features server. "vac" serves /machinefeatures/<key> and
// /jobfeatures/<key> and answers missing keys with an HTML 404 page; "vcycle" serves
// /machines/<space>/<machine>/{machinefeatures,jobfeatures}/<key> and answers missing keys with an
// empty 404, directories without a slash with a redirect. Values can be changed while it runs
// (Vac and Vcycle lower shutdowntime* during a VM's life). With `tls`, it serves HTTPS and can
// require a client certificate.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export type MjfDir = "machinefeatures" | "jobfeatures";

export interface MjfServerOptions {
  style: "vac" | "vcycle";
  machinefeatures?: Record<string, string>;
  jobfeatures?: Record<string, string>;
  /** Serve HTTPS with this server key/cert; `ca` + `requestCert` demand a client certificate. */
  tls?: { key: string; cert: string; ca?: string; requestCert?: boolean };
  /** Answer every key of this directory with this status (403, 500) instead of its value. */
  failWith?: Partial<Record<MjfDir, number>>;
}

export interface MjfServer {
  url: string;
  machinefeaturesUrl: string;
  jobfeaturesUrl: string;
  /** Sets (or with null removes) one key. */
  set(dir: MjfDir, key: string, value: string | null): void;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

const VAC_404 = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n";

export async function startMjfServer(opts: MjfServerOptions): Promise<MjfServer> {
  const data: Record<MjfDir, Map<string, string>> = {
    machinefeatures: new Map(Object.entries(opts.machinefeatures ?? {})),
    jobfeatures: new Map(Object.entries(opts.jobfeatures ?? {})),
  };
  const prefix = opts.style === "vcycle" ? "/machines/space1/vcycle-mt-abcdefghij" : "";
  const requests: MjfServer["requests"] = [];

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push({ method: req.method ?? "GET", path });
    const missing = () => {
      res.statusCode = 404;
      if (opts.style === "vac") {
        res.setHeader("Content-Type", "text/html");
        res.end(VAC_404);
      } else res.end();
    };
    if (!path.startsWith(`${prefix}/`)) return missing();
    const [dir, key = "", ...rest] = path.slice(prefix.length + 1).split("/");
    if ((dir !== "machinefeatures" && dir !== "jobfeatures") || rest.length > 0) return missing();
    const failStatus = opts.failWith?.[dir];
    if (failStatus) {
      res.statusCode = failStatus;
      return res.end(`error ${failStatus}\n`);
    }
    if (key === "" && !path.endsWith("/") && opts.style === "vcycle") {
      res.statusCode = 301;
      res.setHeader("Location", `${path}/`);
      return res.end();
    }
    if (key === "") {
      res.setHeader("Content-Type", "text/html");
      return res.end(`<ul>${[...data[dir].keys()].map((k) => `<li><a href="${k}">${k}</a></li>`).join("")}</ul>\n`);
    }
    const value = data[dir].get(key);
    if (value === undefined) return missing();
    res.setHeader("Content-Type", "text/plain");
    res.end(value);
  };

  const server: Server = opts.tls
    ? createHttpsServer(
        { key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: opts.tls.requestCert ?? false, rejectUnauthorized: opts.tls.requestCert ?? false },
        handler,
      )
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    machinefeaturesUrl: `${url}${prefix}/machinefeatures`,
    jobfeaturesUrl: `${url}${prefix}/jobfeatures`,
    set(dir, key, value) {
      if (value === null) data[dir].delete(key);
      else data[dir].set(key, value);
    },
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
