import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acceptsGzip, createApp, type App } from "../../../src/manager/serve/app.ts";
import { createPublisher, type Publisher } from "../../../src/manager/serve/publisher.ts";
import { makeDefinitionDir, type DefinitionDir } from "./definition-dir.ts";

const BASE = "https://manager.test";
const PIPE = "/pipes/example.pipe";
const TEMPLATE = "/user_data/example-command.template";

let defs: DefinitionDir;
let publisher: Publisher;
let app: App;
let logs: string[];
let clock: Date;

const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  app.fetch(new Request(BASE + path, { method, headers }));

beforeEach(async () => {
  defs = makeDefinitionDir();
  logs = [];
  clock = new Date("2026-03-01T10:00:00.700Z");
  publisher = createPublisher({ file: defs.file, log: (l) => logs.push(l), now: () => clock });
  expect((await publisher.reload()).swapped).toBe(true);
  app = createApp({ content: publisher.current, log: (l) => logs.push(l) });
});
afterEach(() => defs.cleanup());

describe("pipes", () => {
  it("200 with the generated pipe, a strong sha256 ETag and Last-Modified in whole seconds", async () => {
    const res = await get(PIPE);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{64}"$/);
    expect(res.headers.get("last-modified")).toBe("Sun, 01 Mar 2026 10:00:00 GMT");
    expect(res.headers.get("cache-control")).toBeNull();
    const body = await res.text();
    expect(res.headers.get("content-length")).toBe(String(body.length));
    const doc = JSON.parse(body);
    expect(doc.cache_seconds).toBe(3600);
    expect(doc.machinetypes[0].user_data).toBe("https://vacuum.example.org/example/user_data/example-command.template");
    const { createHash } = await import("node:crypto");
    expect(res.headers.get("etag")).toBe(`"${createHash("sha256").update(body).digest("hex")}"`);
  });

  it("is also served under base_url's path", async () => {
    const a = await (await get(PIPE)).text();
    const res = await get("/example" + PIPE);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(a);
  });

  it("HEAD: the headers without a body", async () => {
    const res = await get(PIPE, {}, "HEAD");
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(100);
    expect(await res.text()).toBe("");
  });

  it.each([
    ["the same ETag", (etag: string) => ({ "if-none-match": etag })],
    ["the ETag in a list, weak form", (etag: string) => ({ "if-none-match": `"nope", W/${etag}` })],
    ["*", () => ({ "if-none-match": "*" })],
    ["If-Modified-Since = Last-Modified", () => ({ "if-modified-since": "Sun, 01 Mar 2026 10:00:00 GMT" })],
    ["If-Modified-Since later", () => ({ "if-modified-since": "Mon, 02 Mar 2026 00:00:00 GMT" })],
  ])("304 for %s, with an empty body and the validators", async (_name, headers) => {
    const etag = (await get(PIPE)).headers.get("etag")!;
    const res = await get(PIPE, headers(etag));
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
    expect(res.headers.get("etag")).toBe(etag);
    expect(res.headers.get("last-modified")).toBe("Sun, 01 Mar 2026 10:00:00 GMT");
  });

  it.each([
    ["another ETag", { "if-none-match": '"0000"' }],
    ["an earlier If-Modified-Since", { "if-modified-since": "Sun, 01 Mar 2026 09:59:59 GMT" }],
    ["a date that does not parse", { "if-modified-since": "yesterday-ish" }],
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    ["a stale ETag with a fresh date", { "if-none-match": '"0000"', "if-modified-since": "Mon, 02 Mar 2026 00:00:00 GMT" }],
  ])("200 for %s", async (_name, headers) => {
    const res = await get(PIPE, headers);
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBeGreaterThan(100);
  });

  it("gzip when the client accepts it, with its own ETag that also answers 304", async () => {
    const plain = await (await get(PIPE)).text();
    const res = await get(PIPE, { "accept-encoding": "br, gzip;q=0.5" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get("content-length")).toBe(String(bytes.length));
    expect(gunzipSync(bytes).toString()).toBe(plain);
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{64}\.gz"$/);
    const again = await get(PIPE, { "accept-encoding": "gzip", "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
  });

  it.each([
    [null, false],
    ["", false],
    ["gzip", true],
    ["x-gzip", true],
    ["deflate, GZIP;q=0.1", true],
    ["gzip;q=0", false],
    ["*", true],
    ["*;q=0", false],
    ["gzip;q=0, *", false],
    ["br", false],
  ])("Accept-Encoding %j allows gzip: %s", (header, want) => expect(acceptsGzip(header)).toBe(want));
});

describe("templates", () => {
  it("200 with the template bytes and Cache-Control: no-store", async () => {
    const res = await get(TEMPLATE, { "if-none-match": "*" });
    expect(res.status).toBe(200); // never a 304: it is fetched for every VM
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-encoding")).toBeNull();
    const { readFileSync } = await import("node:fs");
    expect(await res.text()).toBe(readFileSync(join(defs.dir, "command.template"), "utf8"));
  });
});

describe("errors are an empty body with the status", () => {
  it.each([
    ["an unknown pipe", "GET", "/pipes/nope.pipe", 404, null],
    ["an unknown template", "GET", "/user_data/example-nope.template", 404, null],
    ["the root", "GET", "/", 404, null],
    ["a path outside the tree", "GET", "/pipes/../definition.json", 404, null],
    ["PUT on a pipe", "PUT", PIPE, 405, "GET, HEAD"],
    ["POST on a template", "POST", TEMPLATE, 405, "GET, HEAD"],
    ["DELETE on a pipe", "DELETE", PIPE, 405, "GET, HEAD"],
  ])("%s", async (_name, method, path, status, allow) => {
    const res = await get(path, {}, method);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-length")).toBe("0");
    expect(res.headers.get("content-type")).toBeNull();
    expect(res.headers.get("allow")).toBe(allow);
    expect(await res.text()).toBe("");
  });

  it("an internal error is an empty 500", async () => {
    const broken = createApp({ content: () => { throw new Error("boom"); } });
    const res = await broken.fetch(new Request(BASE + PIPE));
    expect(res.status).toBe(500);
    expect(res.headers.get("content-length")).toBe("0");
    expect(await res.text()).toBe("");
  });
});

it("logs one line per request with the User-Agent", async () => {
  logs.length = 0;
  await get(PIPE, { "user-agent": "Vac 03.00" });
  await get("/pipes/nope.pipe", { "user-agent": 'vcycle 03.00 "x"\tforged' });
  expect(logs).toHaveLength(2);
  expect(logs[0]).toMatch(/^GET "\/pipes\/example.pipe" 200 \d+ "Vac 03.00"$/);
  // Quoted and escaped, so a User-Agent cannot forge or break a log line.
  expect(logs[1]).toBe('GET "/pipes/nope.pipe" 404 0 "vcycle 03.00 \\"x\\"\\tforged"');
});

describe("reload", () => {
  it("a bad definition keeps the last good one, a good one is swapped in", async () => {
    const before = await (await get(PIPE)).text();
    const etag = (await get(PIPE)).headers.get("etag")!;

    writeFileSync(defs.file, "{ not json");
    const bad = await publisher.reload();
    expect(bad.swapped).toBe(false);
    expect(logs.some((l) => l.includes("still serving the last good one"))).toBe(true);
    expect(await (await get(PIPE)).text()).toBe(before);

    defs.write((d) => (d.pipes[0].machinetypes[0].fizzle_seconds = 1.5));
    expect((await publisher.reload()).swapped).toBe(false);
    expect(logs.some((l) => /error: pipes\[0\]\.machinetypes\[0\]\.fizzle_seconds/.test(l))).toBe(true);
    expect((await get(PIPE, { "if-none-match": etag })).status).toBe(304);

    clock = new Date("2026-03-01T11:00:00Z");
    defs.write((d) => {
      d.pipes[0].machinetypes[0].fizzle_seconds = 900;
      d.pipes.push({ ...d.pipes[0], name: "second" });
    });
    expect((await publisher.reload()).swapped).toBe(true);
    const res = await get(PIPE, { "if-none-match": etag });
    expect(res.status).toBe(200);
    expect(res.headers.get("last-modified")).toBe("Sun, 01 Mar 2026 11:00:00 GMT");
    expect(JSON.parse(await res.text()).machinetypes[0].fizzle_seconds).toBe(900);
    expect((await get("/pipes/second.pipe")).status).toBe(200);
  });

  it("a reload that changes nothing keeps Last-Modified, so sites need not fetch again", async () => {
    clock = new Date("2026-03-02T00:00:00Z");
    expect((await publisher.reload()).swapped).toBe(true);
    expect((await get(PIPE)).headers.get("last-modified")).toBe("Sun, 01 Mar 2026 10:00:00 GMT");
  });

  it("a removed pipe is gone after the reload", async () => {
    defs.write((d) => (d.pipes[0].name = "renamed"));
    expect((await publisher.reload()).swapped).toBe(true);
    expect((await get(PIPE)).status).toBe(404);
    expect((await get("/pipes/renamed.pipe")).status).toBe(200);
    expect((await get("/user_data/renamed-command.template")).status).toBe(200);
  });

  it("concurrent reloads run one at a time and the last one sees the latest file", async () => {
    const first = publisher.reload();
    defs.write((d) => (d.pipes[0].machinetypes[0].fizzle_seconds = 1200));
    const second = publisher.reload();
    const third = publisher.reload();
    expect(third).toBe(second);
    await Promise.all([first, second]);
    expect(JSON.parse(await (await get(PIPE)).text()).machinetypes[0].fizzle_seconds).toBe(1200);
  });
});
