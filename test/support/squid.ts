// A real squid (Debian's package) as a CVMFS site proxy for tests: its own instance on a random
// loopback port, with a private configuration, logs and pid file in a temporary directory, in the
// foreground (-N) so the test owns its process (services.md "squid and a stand-in stratum-1").
// squid is started with node:child_process, not the agent's runner: it is test equipment.

import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedPort } from "./stratum-one.ts";

export const SQUID_BINARY = ["/usr/sbin/squid", "/usr/local/sbin/squid", "/usr/bin/squid"].find((p) => existsSync(p)) ?? null;

/** For describe.skipIf: why squid tests cannot run here, or null. */
export const squidMissing = (): string | null =>
  SQUID_BINARY === null ? "squid is not installed (apt-get install -y squid; .ci/run installs it)" : null;

export interface Squid {
  /** `http://127.0.0.1:PORT`, as written in CVMFS_HTTP_PROXY. */
  url: string;
  port: number;
  dir: string;
  accessLog(): string;
  stop(): Promise<void>;
}

function config(dir: string, port: number): string {
  return [
    `http_port 127.0.0.1:${port}`,
    "acl localnet src 127.0.0.1/32",
    "acl SSL_ports port 443",
    "acl CONNECT method CONNECT",
    "http_access deny CONNECT !SSL_ports",
    "http_access allow localnet",
    "http_access deny all",
    // No cache_dir: a memory-only cache (5.7 rejects `cache_dir null`).
    "cache_mem 16 MB",
    "maximum_object_size_in_memory 1 MB",
    `pid_filename ${dir}/squid.pid`,
    `access_log stdio:${dir}/access.log squid`,
    `cache_log ${dir}/cache.log`,
    "cache_store_log none",
    "netdb_filename none",
    `coredump_dir ${dir}`,
    "shutdown_lifetime 1 seconds",
    "pinger_enable off",
    "visible_hostname vacuum-test-proxy",
    "",
  ].join("\n");
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

const readOr = (path: string): string => (existsSync(path) ? readFileSync(path, "utf8") : "");

async function startOnce(dir: string): Promise<{ child: ChildProcess; port: number } | { error: string }> {
  const port = await closedPort();
  writeFileSync(join(dir, "squid.conf"), config(dir, port));
  const child = spawn(SQUID_BINARY!, ["-f", join(dir, "squid.conf"), "-N"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once("exit", () => (exited = true));
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (exited) return { error: `squid exited at start: ${stderr.trim()} ${readOr(join(dir, "cache.log")).trim().split("\n").slice(-3).join(" | ")}` };
    if (await listening(port)) return { child, port };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  return { error: "squid did not listen within 15 s" };
}

/** Starts squid; throws with squid's own words when it cannot (a port taken in between is retried). */
export async function startSquid(): Promise<Squid> {
  if (SQUID_BINARY === null) throw new Error(squidMissing()!);
  const dir = mkdtempSync(join(tmpdir(), "vacuum-squid-"));
  // squid drops to the `proxy` user when started as root: it must write its logs here.
  chmodSync(dir, 0o777);
  let started: Awaited<ReturnType<typeof startOnce>> = { error: "not started" };
  for (let i = 0; i < 3 && "error" in started; i++) started = await startOnce(dir);
  if ("error" in started) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(started.error);
  }
  const { child, port } = started;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    accessLog: () => readOr(join(dir, "access.log")),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        // SIGINT: squid's fast shutdown (about 2 s here; SIGTERM waits shutdown_lifetime, about 3 s).
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 6_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
