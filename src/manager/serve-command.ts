// `manager serve DEFINITION.json`: publishes what `manager export` writes, from memory, over HTTPS
// (or HTTP with --http) until SIGTERM/SIGINT. SIGHUP reloads the definition (publisher.ts). The URL
// goes to stdout as the first line, so a script or a test that asked for port 0 learns the port;
// everything else is logged to stderr.

import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { ensureDir } from "../exec/atomic-write.ts";
import { readCaDir } from "../net/ca-dir.ts";
import { MANAGER_EXIT } from "./help.ts";
import type { ManagerOptions } from "./options.ts";
import { join } from "node:path";
import { createApp } from "./serve/app.ts";
import { createAgentCompressor } from "./agent-compressed.ts";
import { watchDefinition } from "./serve/definition-watch.ts";
import { createPublisher } from "./serve/publisher.ts";
import { parseListen, startServer, type ServerTls } from "./serve/server.ts";
import { RequestCounters, requestKind } from "./status/metrics.ts";
import { statusRoutes } from "./status/status-routes.ts";
import { createVmService, type VmService } from "./vm/vm-service.ts";
import { VmRegistry } from "./vm/vm-registry.ts";
import { loadVmState, startStateFile, type StateFile } from "./vm/vm-state-file.ts";
import { loadTokenKey } from "./vm/vm-token.ts";

export const DEFAULT_LISTEN = "127.0.0.1:8443";

const log = (line: string): void => void process.stderr.write(`manager: ${line}\n`);

export async function serveCommand(o: ManagerOptions): Promise<number> {
  const listenText = o.listen ?? DEFAULT_LISTEN;
  const listen = parseListen(listenText);
  if (!listen) {
    process.stderr.write(`manager: --listen ${listenText}: expected HOST:PORT (e.g. 127.0.0.1:8443 or [::1]:8443)\n`);
    return MANAGER_EXIT.usage;
  }
  let tls: ServerTls | undefined;
  if (!o.http) {
    const cert = await readPem(o.cert!, "certificate");
    const key = await readPem(o.key!, "key");
    if (!cert || !key) return MANAGER_EXIT.failed;
    tls = { certPem: cert, keyPem: key };
  }
  let clientCas: { pem: string[]; parsed: X509Certificate[] } | null = null;
  if (o.clientCa) {
    clientCas = await readClientCas(o.clientCa);
    if (!clientCas) return MANAGER_EXIT.failed;
    tls!.clientCa = clientCas.pem;
  }

  const publisher = createPublisher({ file: o.file!, log });
  const first = await publisher.reload();
  if (!first.swapped) return MANAGER_EXIT.failed;

  // Handlers first: a SIGHUP that arrives just after the URL is printed must reload, not kill.
  let stopping: ((signal: string) => void) | null = null;
  const early: string[] = [];
  const onStop = (signal: NodeJS.Signals) => (stopping ? stopping(signal) : early.push(signal));
  const onHup = () => {
    log("SIGHUP: reloading the definition");
    publisher.reload().catch((err: unknown) => log(`reload failed: ${(err as Error).message}; still serving the last good definition`));
  };
  process.on("SIGHUP", onHup);
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  const detach = () => {
    process.off("SIGHUP", onHup);
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
  };

  let vm: VmService | undefined;
  let registry: VmRegistry | null = null;
  let stateFile: StateFile | null = null;
  if (o.state) {
    try {
      await ensureDir(o.state, 0o700);
      const key = await loadTokenKey(o.state);
      registry = new VmRegistry();
      await loadVmState(o.state, registry, log);
      stateFile = startStateFile({ stateDir: o.state, registry, log });
      vm = createVmService({ stateDir: o.state, key, registry, content: publisher.current, clientCas: clientCas?.parsed ?? [], metadata: o.metadata ?? "loopback", log });
      log(`state in ${o.state}: ${registry.size} VM(s) known; VM endpoints at /vms/<machinetype>/<vm-id>/`);
    } catch (err) {
      detach();
      log(`cannot use the state directory ${o.state}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return MANAGER_EXIT.failed;
    }
  } else {
    log("no --state: no VM endpoints (job outputs, heartbeats, MJF, metadata)");
  }

  const requests = new RequestCounters();
  const status = statusRoutes({ registry, stateDir: o.state, content: publisher.current, requests, reloads: publisher.reloads });
  // Request lines are written once per event-loop turn, not once per request (2-3 µs each of the
  // 12-14 µs a 304 costs: scripts/bench-manager.sh).
  const logLines = (lines: readonly string[]) => void process.stderr.write(lines.map((l) => `manager: ${l}\n`).join(""));
  // agents/NAME.zst and .gz, made in the background into the state directory (kept across restarts).
  const compressor = o.state ? createAgentCompressor({ cacheDir: join(o.state, "agent-cache"), log }) : undefined;
  compressor?.warm(publisher.current().agents.values());
  const app = createApp({
    content: publisher.current,
    log,
    logLines,
    routes: [status],
    observe: (path, code) => requests.add(requestKind(path), code),
    ...(vm ? { vm } : {}),
    ...(compressor ? { compressor } : {}),
  });
  let server;
  try {
    server = await startServer({ listen, tls, handler: (req, info) => app.fetch(req, info), ...(vm ? { maxBodyBytes: vm.bodyLimit } : {}) });
  } catch (err) {
    detach();
    await stateFile?.close();
    const e = err as NodeJS.ErrnoException;
    // A bad certificate/key pair fails here too; its message names the problem, never the key.
    log(`cannot serve on ${listenText}: ${e.code ?? e.message}`);
    return MANAGER_EXIT.failed;
  }
  const watcher = watchDefinition({ file: o.file!, publisher, log });
  process.stdout.write(`${server.url}\n`);
  log(`listening on ${server.url}`);

  const running = server;
  return new Promise<number>((resolveExit) => {
    stopping = (signal) => {
      stopping = () => {}; // a second signal while closing changes nothing
      log(`${signal}: stopping`);
      running
        .close()
        .then(() => watcher.close())
        .then(() => stateFile?.close())
        .then(() => {
          detach();
          resolveExit(MANAGER_EXIT.ok);
        });
    };
    if (early.length) stopping(early[0]!);
  });
}

async function readPem(file: string, what: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    log(`cannot read the ${what} ${file}: ${code === "ENOENT" ? "no such file" : code ?? "unreadable"}`);
    return null;
  }
}

/** --client-ca: a CA directory (/etc/grid-security/certificates) or a PEM file of CAs. */
async function readClientCas(path: string): Promise<{ pem: string[]; parsed: X509Certificate[] } | null> {
  let pem: string[];
  try {
    pem = (await stat(path)).isDirectory() ? await readCaDir(path) : ((await readFile(path, "utf8")).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []);
  } catch (err) {
    log(`cannot read the client CAs ${path}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
    return null;
  }
  const parsed: X509Certificate[] = [];
  for (const p of pem) {
    try {
      parsed.push(new X509Certificate(p));
    } catch {
      // A broken file in a CA directory must not stop the others; OpenSSL skips it too.
    }
  }
  if (parsed.length === 0) {
    log(`--client-ca ${path}: no CA certificate found`);
    return null;
  }
  return { pem, parsed };
}
