// dist/manager serve as a black box over HTTPS: the URL on stdout's first line, the pipe (200, then
// 304), the template (no-store), an empty 404, SIGHUP with a bad then a good definition, and SIGTERM
// ending it with exit 0.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTlsFixtures } from "../support/tls-fixtures.ts";
import { makeDefinitionDir } from "../manager/serve/definition-dir.ts";

const MANAGER = resolve("dist/manager");

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolveGet, reject) => {
    const req = request(url, { ca, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolveGet({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let child: ChildProcess | null = null;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = null;
});

describe.skipIf(!existsSync(MANAGER))("dist/manager serve", () => {
  it("serves over HTTPS, reloads on SIGHUP only a valid definition, stops on SIGTERM", async () => {
    const tls = await makeTlsFixtures();
    const defs = makeDefinitionDir();
    try {
      const cert = join(tls.dir, "server.pem");
      const key = join(tls.dir, "server.key");
      writeFileSync(cert, tls.serverCertPem);
      writeFileSync(key, tls.serverKeyPem, { mode: 0o600 });
      const proc = spawn(MANAGER, ["serve", defs.file, "--listen", "127.0.0.1:0", "--cert", cert, "--key", key], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = proc;
      let stdout = "";
      let stderr = "";
      proc.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      proc.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.on("close", (code, signal) => r({ code, signal })));

      await until(() => stdout.includes("\n"), "the URL on stdout");
      const url = stdout.split("\n")[0]!;
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

      const first = await get(`${url}/pipes/example.pipe`, tls.caPem, { "user-agent": "Vac 03.00" });
      expect(first.status).toBe(200);
      expect(first.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(first.body).machinetypes[0].suffix).toBe("command");
      const etag = first.headers.etag as string;
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(first.headers["last-modified"]).toMatch(/ GMT$/);
      const second = await get(`${url}/pipes/example.pipe`, tls.caPem, { "if-none-match": etag });
      expect(second).toMatchObject({ status: 304, body: "" });
      expect(stderr).toContain('"Vac 03.00"');

      const template = await get(`${url}/example/user_data/example-command.template`, tls.caPem);
      expect(template.status).toBe(200);
      expect(template.headers["cache-control"]).toBe("no-store");
      const missing = await get(`${url}/pipes/nope.pipe`, tls.caPem);
      expect(missing).toMatchObject({ status: 404, body: "" });

      // A bad definition: logged, the last good one stays.
      writeFileSync(defs.file, '{"version": 1, "pipes": "nope"}');
      const before = stderr.length;
      proc.kill("SIGHUP");
      await until(() => stderr.slice(before).includes("still serving the last good one"), "the refused reload");
      expect((await get(`${url}/pipes/example.pipe`, tls.caPem, { "if-none-match": etag })).status).toBe(304);

      // A good one: swapped in.
      defs.write((d) => (d.pipes[0].machinetypes[0].fizzle_seconds = 900));
      proc.kill("SIGHUP");
      await until(async () => (await get(`${url}/pipes/example.pipe`, tls.caPem, { "if-none-match": etag })).status === 200, "the new pipe");
      expect(JSON.parse((await get(`${url}/pipes/example.pipe`, tls.caPem)).body).machinetypes[0].fizzle_seconds).toBe(900);

      // No signal at all: the file watch picks up an edit.
      defs.write((d) => (d.pipes[0].machinetypes[0].fizzle_seconds = 1200));
      await until(async () => JSON.parse((await get(`${url}/pipes/example.pipe`, tls.caPem)).body).machinetypes[0].fizzle_seconds === 1200, "the watched edit");
      expect(stderr).toContain("changed: reloading");

      proc.kill("SIGTERM");
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(stderr).toContain("SIGTERM: stopping");
      expect(stderr).not.toContain("PRIVATE KEY");
    } finally {
      defs.cleanup();
      await tls.cleanup();
    }
  }, 30_000);

  it("refuses an invalid definition at start (exit 1) and a missing key file", async () => {
    const defs = makeDefinitionDir();
    try {
      writeFileSync(defs.file, "{");
      const bad = spawn(MANAGER, ["serve", defs.file, "--listen", "127.0.0.1:0", "--http"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      bad.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
      expect(await new Promise((r) => bad.on("close", r))).toBe(1);
      expect(out).toBe("");
      const nokey = spawn(MANAGER, ["serve", defs.file, "--cert", "/nonexistent.pem", "--key", "/nonexistent.key"], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      nokey.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
      expect(await new Promise((r) => nokey.on("close", r))).toBe(1);
      expect(err).toContain("cannot read the certificate /nonexistent.pem: no such file");
    } finally {
      defs.cleanup();
    }
  }, 15_000);
});
