// `manager serve DEFINITION.json`: publishes what `manager export` writes, from memory, over HTTPS
// (or HTTP with --http) until SIGTERM/SIGINT. SIGHUP reloads the definition (publisher.ts). The URL
// goes to stdout as the first line, so a script or a test that asked for port 0 learns the port;
// everything else is logged to stderr.

import { readFile } from "node:fs/promises";
import { MANAGER_EXIT } from "./help.ts";
import type { ManagerOptions } from "./options.ts";
import { createApp } from "./serve/app.ts";
import { createPublisher } from "./serve/publisher.ts";
import { parseListen, startServer, type ServerTls } from "./serve/server.ts";

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

  const app = createApp({ content: publisher.current, log });
  let server;
  try {
    server = await startServer({ listen, tls, handler: (req) => app.fetch(req) });
  } catch (err) {
    detach();
    const e = err as NodeJS.ErrnoException;
    // A bad certificate/key pair fails here too; its message names the problem, never the key.
    log(`cannot serve on ${listenText}: ${e.code ?? e.message}`);
    return MANAGER_EXIT.failed;
  }
  process.stdout.write(`${server.url}\n`);
  log(`listening on ${server.url}`);

  const running = server;
  return new Promise<number>((resolveExit) => {
    stopping = (signal) => {
      stopping = () => {}; // a second signal while closing changes nothing
      log(`${signal}: stopping`);
      running.close().then(() => {
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
