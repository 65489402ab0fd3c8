// Writing the static tree: all or nothing, replacing only an earlier export.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExportError, writeTreeAtomically } from "../../src/manager/export-tree.ts";

const files = (text: string) => [
  { path: "pipes/a.pipe", bytes: Buffer.from(text) },
  { path: "user_data/a-prod.template", bytes: Buffer.from("T") },
];

describe("writeTreeAtomically", () => {
  it("creates the tree, readable by a web server, and leaves no temporary directory", async () => {
    const parent = mkdtempSync(join(tmpdir(), "export-"));
    const dir = join(parent, "www");
    await writeTreeAtomically(dir, files("{}"));
    expect(readFileSync(join(dir, "pipes/a.pipe"), "utf8")).toBe("{}");
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, "pipes/a.pipe")).mode & 0o777).toBe(0o644);
    expect(readdirSync(parent)).toEqual(["www"]);
  });

  it("replaces an earlier export as a whole", async () => {
    const parent = mkdtempSync(join(tmpdir(), "export-"));
    const dir = join(parent, "www");
    await writeTreeAtomically(dir, [...files("old"), { path: "pipes/gone.pipe", bytes: Buffer.from("x") }]);
    await writeTreeAtomically(dir, files("new"));
    expect(readFileSync(join(dir, "pipes/a.pipe"), "utf8")).toBe("new");
    expect(readdirSync(join(dir, "pipes"))).toEqual(["a.pipe"]);
    expect(readdirSync(parent)).toEqual(["www"]);
  });

  it("refuses to replace a directory that is not an export tree, and leaves it as it was", async () => {
    const dir = mkdtempSync(join(tmpdir(), "export-"));
    writeFileSync(join(dir, "thesis.tex"), "precious");
    await expect(writeTreeAtomically(dir, files("{}"))).rejects.toThrow(ExportError);
    expect(readdirSync(dir)).toEqual(["thesis.tex"]);
  });

  it("refuses a file in the way", async () => {
    const parent = mkdtempSync(join(tmpdir(), "export-"));
    writeFileSync(join(parent, "www"), "");
    await expect(writeTreeAtomically(join(parent, "www"), files("{}"))).rejects.toThrow(/not a directory/);
  });

  it.each(["../escape", "/abs", "pipes/../x", "a//b"])("refuses the path %j", async (path) => {
    const parent = mkdtempSync(join(tmpdir(), "export-"));
    mkdirSync(join(parent, "www"));
    await expect(writeTreeAtomically(join(parent, "www"), [{ path, bytes: Buffer.from("") }])).rejects.toThrow(/outside the tree/);
    expect(readdirSync(parent)).toEqual(["www"]);
  });
});
