import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { watchDefinition, type DefinitionWatch } from "../../../src/manager/serve/definition-watch.ts";
import { createPublisher, type Publisher } from "../../../src/manager/serve/publisher.ts";
import { makeDefinitionDir, type DefinitionDir } from "./definition-dir.ts";

let defs: DefinitionDir;
let publisher: Publisher;
let watcher: DefinitionWatch;
let logs: string[];

async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; log: ${logs.join(" | ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const pipeText = () => Buffer.from(publisher.current().entries.get("/pipes/example.pipe")!.bytes).toString();
const templateText = () => Buffer.from(publisher.current().entries.get("/user_data/example-command.template")!.bytes).toString();

beforeEach(async () => {
  defs = makeDefinitionDir();
  logs = [];
  publisher = createPublisher({ file: defs.file, log: (l) => logs.push(l) });
  expect((await publisher.reload()).swapped).toBe(true);
  watcher = watchDefinition({ file: defs.file, publisher, log: (l) => logs.push(l), debounceMs: 50 });
});
afterEach(() => {
  watcher.close();
  defs.cleanup();
});

describe("watching the definition", () => {
  it("a valid edit is swapped in without a signal; an invalid one is logged and the last good content stays", async () => {
    defs.write((d) => (d.pipes[0].machinetypes[0].fizzle_seconds = 900));
    await until(() => pipeText().includes('"fizzle_seconds": 900'), "the edited pipe");
    writeFileSync(defs.file, '{"version": 1, "pipes": "nope"}');
    await until(() => logs.some((l) => l.includes("still serving the last good one")), "the refused reload");
    expect(pipeText()).toContain('"fizzle_seconds": 900');
  });

  it("a file renamed over the definition (how editors save) and an edited template are picked up", async () => {
    const tmp = join(defs.dir, ".definition.json.new");
    writeFileSync(tmp, readFileDef().replace('"fizzle_seconds": 600', '"fizzle_seconds": 1200'));
    renameSync(tmp, defs.file);
    await until(() => pipeText().includes('"fizzle_seconds": 1200'), "the renamed-over definition");
    writeFileSync(join(defs.dir, "command.template"), "#!/bin/sh\necho edited\n");
    await until(() => templateText() === "#!/bin/sh\necho edited\n", "the edited template");
  });

  it("a file added to a pilot directory is published with new checksums", async () => {
    mkdirSync(join(defs.dir, "pilot"));
    writeFileSync(join(defs.dir, "pilot", "a.py"), "a");
    defs.write((d) => (d.pilot_directories = { p: "pilot" }));
    await until(() => publisher.current().entries.has("/pilots/p/a.py"), "the pilot directory");
    writeFileSync(join(defs.dir, "pilot", "b.py"), "b");
    await until(() => publisher.current().entries.has("/pilots/p/b.py"), "the new pilot file");
    expect(Buffer.from(publisher.current().entries.get("/pilots/p/checksums.sha512")!.bytes).toString()).toMatch(/ {2}a\.py\n.* {2}b\.py\n$/);
  });
});

const readFileDef = (): string => readFileSync(defs.file, "utf8");
