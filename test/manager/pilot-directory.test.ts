import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { autoindexPage, checksumsSha512, loadPilotDirectory } from "../../src/manager/pilot-directory.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const sha512 = (s: string) => createHash("sha512").update(s).digest("hex");

describe("pilot directories", () => {
  it("publishes the regular files with plain names, sorted, with sha512sum lines; skips the rest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pilot-"));
    dirs.push(dir);
    writeFileSync(join(dir, "pilotCommands.py"), "commands");
    writeFileSync(join(dir, "dirac-pilot.py"), "pilot");
    writeFileSync(join(dir, "Z.json"), "{}");
    writeFileSync(join(dir, ".hidden"), "x");
    writeFileSync(join(dir, "checksums.sha512"), "stale");
    writeFileSync(join(dir, "with space"), "x");
    mkdirSync(join(dir, "sub"));
    symlinkSync("/etc/passwd", join(dir, "link"));
    const r = await loadPilotDirectory("dirac", dir);
    if ("problem" in r) throw new Error(r.problem);
    expect(r.pilot.files.map((f) => f.name)).toEqual(["Z.json", "dirac-pilot.py", "pilotCommands.py"]);
    expect(r.skipped.sort()).toEqual(["link", "sub", "with space"]);
    expect(Buffer.from(r.pilot.checksums).toString()).toBe(`${sha512("{}")}  Z.json\n${sha512("pilot")}  dirac-pilot.py\n${sha512("commands")}  pilotCommands.py\n`);
  });

  it("a missing directory is a problem naming it", async () => {
    expect(await loadPilotDirectory("x", "/nonexistent/pilot")).toEqual({ problem: "cannot read the directory /nonexistent/pilot: no such directory" });
  });

  it("checksums are sorted in byte order whatever the input order", () => {
    expect(Buffer.from(checksumsSha512([{ name: "b", sha512: "2" }, { name: "B", sha512: "1" }, { name: "a", sha512: "3" }])).toString()).toBe("1  B\n3  a\n2  b\n");
  });

  it("the index page is nginx's autoindex: escaped names, dates, sizes, ../ first", () => {
    const page = autoindexPage("/pilots/x/", [{ name: "a<b>.py", size: 1234, lastModified: new Date("2026-03-01T10:05:00Z") }]);
    expect(page).toContain("<title>Index of /pilots/x/</title>");
    expect(page).toContain('<pre><a href="../">../</a>\r\n<a href="a%3Cb%3E.py">a&lt;b&gt;.py</a>');
    expect(page).toMatch(/01-Mar-2026 10:05 +1234\r\n<\/pre>/);
  });
});
