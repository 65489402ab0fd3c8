// A small HTTP server on 127.0.0.1 that a qemu guest reaches through guestfwd rules
// (scripts/vm/boot.sh): the static files and job-output store of scripts/vm/bench-agent-download.sh,
// and, in scripts/vm/e2e.sh, the guest's metadata address 169.254.169.254 in front of `manager
// serve` (told apart by the Host header).
//
//   bun scripts/vm/receiver.ts --www DIR --store DIR --log FILE [--port N]
//       [--metadata none|openstack|forward] [--user-data FILE] [--uuid UUID] [--metadata-base URL]
//
// GET /<path>: DIR/<path> (streamed, any size); PUT /joboutputs/<name>: stored as STORE/<name>
// (201; 403 without a Content-Length, as Vac's server). Metadata: `none` answers 404 to every
// request at once (so probes fail fast); `openstack` answers what cloud-init's OpenStack datasource
// and the agent need (vm-e2e.md) by itself; `forward` passes each GET to the manager's metadata
// emulation of one VM, URL + path: cloud-init asks `http://169.254.169.254/openstack/...` at the
// root, while the manager serves each VM under `/vms/<machinetype>/<vm-id>/metadata/`, since all
// guest connections reach it from 127.0.0.1 and it cannot tell VMs apart by address as a Vac
// factory does. Every request is one JSON line in the log with the host time; every answer closes
// its connection (each one is an `nc` process). The first line on stdout is
// `listening 127.0.0.1:<port>`.

import { createReadStream, createWriteStream, mkdirSync, readFileSync, statSync, appendFileSync, renameSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join, normalize } from "node:path";

interface Options {
  www: string;
  store: string;
  log: string;
  port: number;
  metadata: "none" | "openstack" | "forward";
  userData: string | null;
  uuid: string;
  /** forward: the VM's metadata base, `http://127.0.0.1:PORT/vms/<machinetype>/<vm-id>/metadata`. */
  metadataBase: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { www: "", store: "", log: "", port: 0, metadata: "none", userData: null, uuid: crypto.randomUUID(), metadataBase: "" };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: a value is needed`);
    switch (flag) {
      case "--www": o.www = value; break;
      case "--store": o.store = value; break;
      case "--log": o.log = value; break;
      case "--port": o.port = Number(value); break;
      case "--metadata":
        if (value !== "none" && value !== "openstack" && value !== "forward") throw new Error(`--metadata ${value}: none, openstack or forward`);
        o.metadata = value;
        break;
      case "--metadata-base": o.metadataBase = value.replace(/\/+$/, ""); break;
      case "--user-data": o.userData = value; break;
      case "--uuid": o.uuid = value; break;
      default: throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!o.www || !o.store || !o.log) throw new Error("--www, --store and --log are required");
  if (o.metadata === "forward" && !/^http:\/\/127\.0\.0\.1:\d+\//.test(o.metadataBase)) throw new Error("--metadata forward needs --metadata-base http://127.0.0.1:PORT/...");
  return o;
}

const o = parseArgs(process.argv.slice(2));
mkdirSync(o.store, { recursive: true });

function record(req: IncomingMessage, status: number, bytes: number, t: number): void {
  const line = { t, end: Date.now() / 1000, method: req.method, host: req.headers.host ?? "", path: req.url ?? "", status, bytes, ua: req.headers["user-agent"] ?? "" };
  appendFileSync(o.log, JSON.stringify(line) + "\n");
}

function answer(req: IncomingMessage, res: ServerResponse, t: number, status: number, body: string | Buffer, type = "text/plain"): void {
  const bytes = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, { "content-type": type, "content-length": bytes, connection: "close" });
  res.end(body);
  record(req, status, bytes, t);
}

/** The manager's answer for the same path under the VM's metadata base, passed on as it is. */
async function forward(req: IncomingMessage, res: ServerResponse, t: number): Promise<void> {
  try {
    const upstream = await fetch(o.metadataBase + (req.url ?? "/"), { headers: { "user-agent": req.headers["user-agent"] ?? "" }, redirect: "manual" });
    const body = Buffer.from(await upstream.arrayBuffer());
    answer(req, res, t, upstream.status, body, upstream.headers.get("content-type") ?? "text/plain");
  } catch {
    answer(req, res, t, 502, "");
  }
}

function metadata(req: IncomingMessage, res: ServerResponse, t: number): void {
  const path = (req.url ?? "").replace(/\/+$/, "");
  if (o.metadata === "none" || req.method !== "GET") return answer(req, res, t, 404, "");
  if (o.metadata === "forward") return void forward(req, res, t);
  const userData = (): Buffer => (o.userData ? readFileSync(o.userData) : Buffer.alloc(0));
  switch (path) {
    case "/openstack": return answer(req, res, t, 200, "latest\n");
    case "/openstack/latest/meta_data.json":
      return answer(req, res, t, 200, JSON.stringify({ uuid: o.uuid, name: o.uuid, hostname: o.uuid }), "application/json");
    case "/openstack/latest/user_data":
    case "/latest/user-data":
      return answer(req, res, t, 200, userData(), "application/octet-stream");
    case "/latest/meta-data": return answer(req, res, t, 200, "instance-id\n");
    case "/latest/meta-data/instance-id": return answer(req, res, t, 200, o.uuid);
    default: return answer(req, res, t, 404, "");
  }
}

function put(req: IncomingMessage, res: ServerResponse, t: number): void {
  const m = /^\/joboutputs\/([A-Za-z0-9._-]+)$/.exec(req.url ?? "");
  if (!m || m[1]!.startsWith(".")) return answer(req, res, t, 404, "");
  if (req.headers["content-length"] === undefined) return answer(req, res, t, 403, "");
  const final = join(o.store, m[1]!);
  const partial = `${final}.partial`;
  const file = createWriteStream(partial);
  req.pipe(file);
  file.on("finish", () => {
    renameSync(partial, final);
    answer(req, res, t, 201, "");
  });
  file.on("error", () => answer(req, res, t, 500, ""));
}

function get(req: IncomingMessage, res: ServerResponse, t: number): void {
  const url = decodeURIComponent((req.url ?? "/").split("?")[0]!);
  const rel = normalize(url).replace(/^(\.\.(\/|$))+/, "");
  const path = join(o.www, rel);
  let size: number;
  try {
    const s = statSync(path);
    if (!s.isFile()) return answer(req, res, t, 404, "");
    size = s.size;
  } catch {
    return answer(req, res, t, 404, "");
  }
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size, connection: "close" });
  const stream = createReadStream(path);
  stream.pipe(res);
  res.on("finish", () => record(req, 200, size, t));
  stream.on("error", () => res.destroy());
}

const server = createServer((req, res) => {
  const t = Date.now() / 1000;
  if ((req.headers.host ?? "").startsWith("169.254.169.254")) return metadata(req, res, t);
  if (req.method === "PUT") return put(req, res, t);
  if (req.method === "GET" || req.method === "HEAD") return get(req, res, t);
  answer(req, res, t, 405, "");
});
server.listen(o.port, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : o.port;
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
