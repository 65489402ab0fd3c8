// Load generation for scripts/bench-manager.sh, run with bun (node_modules/.bin/bun). Two jobs:
//
//   wrk-lua --key FILE --vms N --machinetype MT (--put [--close] | --get PATH --etag ETAG)
//     prints a wrk Lua script: heartbeat PUTs for N VMs, each with its own token (the manager's
//     HMAC, computed with the manager's own vm-token.ts from the key the bench wrote into the state
//     directory), spread over the VMs; or GETs of PATH with If-None-Match (the 304 case). The
//     script's done() prints one JSON line: requests, duration, errors, p50/p99 latency (µs).
//
//   connect --url https://127.0.0.1:PORT --key FILE --vms N --machinetype MT --concurrency C
//           --seconds S --warmup W [--resume]
//     heartbeat PUTs, each on a new TLS connection (`Connection: close`), C at a time, for W
//     seconds of warm-up and then S measured seconds; with --resume each slot offers the session
//     ticket of its previous connection (TLS session resumption). Latency runs from the TCP connect
//     to the end of the response, so it includes the handshake (wrk's does not, which is why the
//     new-connection rows use this and not wrk). Prints one JSON line like wrk-lua's, plus the
//     fraction of handshakes that were resumptions.
//
// Certificates are not verified (the bench's are self-signed): the client's CPU, which shares the
// 2 cores with the server, goes to the handshake the server must answer and not to checking it.

import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { vmToken, type TokenKey } from "../src/manager/vm/vm-token.ts";

type Args = Map<string, string | true>;

function parseArgs(argv: string[]): Args {
  const args: Args = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) args.set(a.slice(2), true);
    else args.set(a.slice(2), (i++, next));
  }
  return args;
}

function need(args: Args, name: string): string {
  const v = args.get(name);
  if (typeof v !== "string") throw new Error(`--${name} VALUE is needed`);
  return v;
}

interface Vm {
  path: string;
  token: string;
}

/** The bench's VMs: ids bench-0000…, each with the token the manager will accept. */
function vms(args: Args): Vm[] {
  const key = Buffer.from(readFileSync(need(args, "key"), "utf8").trim(), "hex") as TokenKey;
  const mt = need(args, "machinetype");
  return Array.from({ length: Number(need(args, "vms")) }, (_, i) => {
    const id = `bench-${String(i).padStart(4, "0")}`;
    return { path: `/vms/${mt}/${id}/joboutputs/heartbeat`, token: vmToken(key, mt, id) };
  });
}

/** What the agent's heartbeat holds: load averages, uptime and idle seconds. */
const HEARTBEAT_BODY = "0.52 0.58 0.59 12345.67 23456.78\n";

const DONE_LUA = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"non2xx3xx":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`;

function wrkLua(args: Args): string {
  const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string for these
  if (args.has("get")) {
    const path = need(args, "get");
    const etag = need(args, "etag");
    return `wrk.method = "GET"
wrk.path = ${lua(path)}
wrk.headers["If-None-Match"] = ${lua(etag)}
wrk.headers["User-Agent"] = "Vac 03.00"
${DONE_LUA}`;
  }
  const close = args.has("close") ? `, ["Connection"] = "close"` : "";
  const list = vms(args).map((v) => `{${lua(v.path)}, ${lua(v.token)}}`).join(",\n  ");
  return `local vms = {
  ${list}
}
local reqs = {}
local n = 0
function init(args)
  for i, v in ipairs(vms) do
    reqs[i] = wrk.format("PUT", v[1], { ["Authorization"] = "Bearer " .. v[2], ["Content-Type"] = "text/plain", ["User-Agent"] = "vacuum-agent bench"${close} }, ${lua(HEARTBEAT_BODY)})
  end
  n = math.random(#reqs)
end
function request()
  n = n % #reqs + 1
  return reqs[n]
end
${DONE_LUA}`;
}

interface Outcome {
  status: number;
  reused: boolean;
  ms: number;
}

/** One PUT on a new TLS connection; resolves when the server has answered and closed. */
function once(host: string, port: number, request: Buffer, slot: { session?: Buffer }, resume: boolean): Promise<Outcome> {
  return new Promise((resolveOnce) => {
    const t0 = performance.now();
    let reused = false;
    let head = "";
    const socket = connect({ host, port, rejectUnauthorized: false, ...(resume && slot.session ? { session: slot.session } : {}) }, () => {
      reused = socket.isSessionReused();
      socket.write(request);
    });
    if (resume) socket.on("session", (s: Buffer) => (slot.session = s));
    socket.on("data", (d: Buffer) => {
      if (head.length < 16) head += d.toString("latin1", 0, Math.min(d.length, 16));
    });
    const finish = () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolveOnce({ status: m ? Number(m[1]) : 0, reused, ms: performance.now() - t0 });
    };
    socket.on("error", () => {});
    socket.on("close", finish);
    socket.setTimeout(30_000, () => socket.destroy());
  });
}

async function connectLoad(args: Args): Promise<string> {
  const url = new URL(need(args, "url"));
  const host = url.hostname;
  const port = Number(url.port);
  const list = vms(args);
  const requests = list.map((v) =>
    Buffer.from(
      `PUT ${v.path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${v.token}\r\nContent-Type: text/plain\r\nUser-Agent: vacuum-agent bench\r\n` +
        `Content-Length: ${HEARTBEAT_BODY.length}\r\nConnection: close\r\n\r\n${HEARTBEAT_BODY}`,
      "latin1",
    ),
  );
  const concurrency = Number(need(args, "concurrency"));
  const seconds = Number(need(args, "seconds"));
  const warmup = Number(args.get("warmup") ?? 2);
  const resume = args.has("resume");
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let reused = 0;
  let next = 0;
  const slot = async (): Promise<void> => {
    const state: { session?: Buffer } = {};
    while (performance.now() < end) {
      const i = next++ % requests.length;
      const began = performance.now();
      const r = await once(host, port, requests[i]!, state, resume);
      // A request counts when it started in the measured window and finished before its end.
      if (began < measureFrom || performance.now() > end) continue;
      if (r.status === 0) errors++;
      else if (r.status >= 400) non2xx++;
      else {
        latencies.push(r.ms);
        if (r.reused) reused++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! * 1000) : 0);
  return JSON.stringify({ requests: latencies.length, duration_us: seconds * 1e6, errors, non2xx3xx: non2xx, p50_us: pct(50), p99_us: pct(99), resumed: latencies.length ? reused / latencies.length : 0 });
}

const [command, ...rest] = process.argv.slice(2);
const args = parseArgs(rest);
switch (command) {
  case "wrk-lua":
    process.stdout.write(wrkLua(args));
    break;
  case "connect":
    process.stdout.write(`${await connectLoad(args)}\n`);
    break;
  default:
    process.stderr.write("usage: bench-manager-load.ts wrk-lua|connect ...\n");
    process.exit(2);
}
