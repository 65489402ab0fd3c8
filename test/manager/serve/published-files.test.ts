// Agents and pilot directories through the app: the binary streamed from disk with its sha256
// (recomputed when the file changes), the .sha256 file, pilot files, their checksums and index.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, type App } from "../../../src/manager/serve/app.ts";
import { createPublisher, type Publisher } from "../../../src/manager/serve/publisher.ts";
import { parseListing } from "../../../src/pilot/listing.ts";
import { parseManifest } from "../../../src/pilot/manifest.ts";
import { makeDefinitionDir, type DefinitionDir } from "./definition-dir.ts";

let defs: DefinitionDir;
let publisher: Publisher;
let app: App;
const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
const get = (path: string, headers: Record<string, string> = {}) => app.fetch(new Request(`http://m.test${path}`, { headers }));

beforeEach(async () => {
  defs = makeDefinitionDir();
  writeFileSync(join(defs.dir, "agent-bin"), "ELF agent v1");
  mkdirSync(join(defs.dir, "pilot"));
  writeFileSync(join(defs.dir, "pilot", "dirac-pilot.py"), "print('pilot')\n");
  writeFileSync(join(defs.dir, "pilot", "pilot.json"), "{}\n");
  defs.write((d) => {
    d.agents = { agent: "agent-bin" };
    d.pilot_directories = { dirac: "pilot" };
  });
  publisher = createPublisher({ file: defs.file });
  expect((await publisher.reload()).swapped).toBe(true);
  app = createApp({ content: publisher.current });
});
afterEach(() => defs.cleanup());

describe("agents", () => {
  it("the binary with X-Checksum-Sha256 and a strong ETag; 304 when unchanged; the .sha256 file", async () => {
    const res = await get("/agents/agent");
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe("ELF agent v1");
    expect(res.headers.get("x-checksum-sha256")).toBe(sha256("ELF agent v1"));
    expect(res.headers.get("etag")).toBe(`"${sha256("ELF agent v1")}"`);
    expect(res.headers.get("content-length")).toBe("12");
    expect((await get("/example/agents/agent", { "if-none-match": res.headers.get("etag")! })).status).toBe(304);
    expect(await (await get("/agents/agent.sha256")).text()).toBe(`${sha256("ELF agent v1")}  agent\n`);
    expect((await get("/agents/other")).status).toBe(404);
  });

  it("a rebuilt binary is served with its new hash, without a reload", async () => {
    await get("/agents/agent");
    writeFileSync(join(defs.dir, "agent-bin"), "ELF agent v2, longer");
    const res = await get("/agents/agent");
    expect(res.headers.get("x-checksum-sha256")).toBe(sha256("ELF agent v2, longer"));
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe("ELF agent v2, longer");
  });

  it("a definition naming a missing agent or pilot directory is refused", async () => {
    defs.write((d) => {
      d.agents = { agent: "nope", "bad/name": "agent-bin" };
      d.pilot_directories = { dirac: "nope" };
    });
    const r = await createPublisher({ file: defs.file }).reload();
    expect(r.swapped).toBe(false);
    const paths = r.problems.filter((p) => p.severity === "error").map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["agents.bad/name"]));
  });
});

describe("pilot directories", () => {
  it("files, the generated checksums.sha512 and the index; the directory without its slash redirects", async () => {
    expect(await (await get("/pilots/dirac/dirac-pilot.py")).text()).toBe("print('pilot')\n");
    const sums = await (await get("/pilots/dirac/checksums.sha512")).text();
    const sha512 = (s: string) => createHash("sha512").update(s).digest("hex");
    expect(sums).toBe(`${sha512("print('pilot')\n")}  dirac-pilot.py\n${sha512("{}\n")}  pilot.json\n`);
    const index = await (await get("/pilots/dirac/")).text();
    for (const name of ["checksums.sha512", "dirac-pilot.py", "pilot.json"]) expect(index).toContain(`<a href="${name}">${name}</a>`);
    // What the agent's pilot download (src/pilot) reads: the same manifest and the same links.
    expect(parseManifest(sums)).toMatchObject({ ok: true, entries: [{ name: "dirac-pilot.py" }, { name: "pilot.json" }] });
    expect(parseListing(index, "http://m.test/pilots/dirac/").sort()).toEqual(["checksums.sha512", "dirac-pilot.py", "pilot.json"]);
    const redirect = await get("/pilots/dirac");
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe("/pilots/dirac/");
  });
});

describe("templates with placeholders and no --state", () => {
  it("agent_url and agent_sha256 are filled; a per-VM placeholder makes the template an empty 503", async () => {
    writeFileSync(join(defs.dir, "command.template"), "#!/bin/sh\ncurl -o agent {{vacuum.agent_url}}\necho '{{vacuum.agent_sha256}}  agent' | sha256sum -c\n");
    expect((await publisher.reload()).swapped).toBe(true);
    const text = await (await get("/user_data/example-command.template")).text();
    expect(text).toBe(`#!/bin/sh\ncurl -o agent https://vacuum.example.org/example/agents/agent\necho '${sha256("ELF agent v1")}  agent' | sha256sum -c\n`);
    writeFileSync(join(defs.dir, "command.template"), "token={{vacuum.vm_token}}\n");
    expect((await publisher.reload()).swapped).toBe(true);
    const res = await get("/user_data/example-command.template");
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("");
  });
});
