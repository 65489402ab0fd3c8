import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTar } from "../../src/pilot/tar.ts";
import { makeTar, type TarEntrySpec } from "../support/pilot-server.ts";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";

const LIMITS = { maxFiles: 100, maxFileBytes: 1 << 20, maxTotalBytes: 4 << 20 };
const text = (d: Uint8Array) => new TextDecoder().decode(d);
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

describe("readTar", () => {
  it("reads regular files with their content, the archive's ./ and a ./ prefix", () => {
    const tar = makeTar([
      { name: "./", type: "5" },
      { name: "dirac-pilot.py", data: "print('hi')\n" },
      { name: "./pilotTools.py", data: "x".repeat(1500) },
      { name: "empty.py", data: "" },
    ]);
    const r = readTar(tar, LIMITS);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.files.map((f) => [f.name, f.data.length])).toEqual([
      ["dirac-pilot.py", 12],
      ["pilotTools.py", 1500],
      ["empty.py", 0],
    ]);
    expect(text(r.files[0]!.data)).toBe("print('hi')\n");
  });

  const hostile: [string, TarEntrySpec[], RegExp][] = [
    ["a symlink", [{ name: "dirac-pilot.py", type: "2", linkname: "/etc/shadow" }], /"dirac-pilot.py" is a symbolic link: only regular files/],
    ["a hard link", [{ name: "a.py", data: "a" }, { name: "b.py", type: "1", linkname: "a.py" }], /"b.py" is a hard link/],
    ["a character device", [{ name: "null", type: "3" }], /character device/],
    ["a block device", [{ name: "sda", type: "4" }], /block device/],
    ["a FIFO", [{ name: "fifo", type: "6" }], /FIFO/],
    ["a subdirectory", [{ name: "sub/", type: "5" }], /"sub\/" is a directory/],
    ["an absolute name", [{ name: "/etc/cron.d/evil", data: "x" }], /"\/etc\/cron.d\/evil": expected a file name at the top level, found a path/],
    ["a .. name", [{ name: "../evil.py", data: "x" }], /"..\/evil.py": .*a path/],
    ["a nested name", [{ name: "DIRAC/x.py", data: "x" }], /a path/],
    ["a ustar prefix", [{ name: "x.py", prefix: "..", data: "x" }], /"..\/x.py"/],
    ["a hidden name", [{ name: ".bashrc", data: "x" }], /hidden/],
    ["a duplicate", [{ name: "a.py", data: "1" }, { name: "a.py", data: "2" }], /"a.py" appears twice/],
    ["a file over the size cap", [{ name: "big.py", data: Buffer.alloc((1 << 20) + 1) }], /"big.py" is 1048577 bytes, more than the 1048576 allowed/],
  ];
  it.each(hostile)("refuses %s", (_what, entries, error) => {
    const r = readTar(makeTar(entries), LIMITS);
    expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  it("refuses more files or bytes than allowed", () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.py`, data: "x".repeat(100) }));
    expect(readTar(makeTar(many), { ...LIMITS, maxFiles: 4 })).toEqual({ ok: false, error: "the archive holds more than 4 files" });
    expect(readTar(makeTar(many), { ...LIMITS, maxTotalBytes: 450 })).toEqual({ ok: false, error: "the archive holds more than 450 bytes" });
  });

  it("refuses damaged or truncated archives and non-tar data", () => {
    const tar = makeTar([{ name: "a.py", data: "x".repeat(2000) }]);
    const bad = Buffer.from(tar);
    bad[10] = bad[10]! ^ 0xff;
    expect(readTar(bad, LIMITS)).toEqual({ ok: false, error: expect.stringMatching(/checksum does not match/) });
    expect(readTar(tar.subarray(0, 1024), LIMITS)).toEqual({ ok: false, error: expect.stringMatching(/truncated/) });
    expect(readTar(tar.subarray(0, 512 * 5), LIMITS)).toEqual({ ok: false, error: expect.stringMatching(/no end-of-archive marker/) });
    expect(readTar(Buffer.from("<html>404</html>"), LIMITS).ok).toBe(false);
    expect(readTar(new Uint8Array(0), LIMITS).ok).toBe(false);
  });

  it("uses a PAX path record for the name (Python tarfile, long or non-ASCII names)", () => {
    const long = `${"n".repeat(120)}.py`;
    const record = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len = String(len).length + body.length;
      return `${len}${body}`;
    };
    const tar = makeTar([
      { name: "PaxHeaders/x", type: "x", data: record("path", long) },
      { name: "truncated-name", data: "pax" },
      { name: "GNU/LongLink", type: "L", data: `gnu-${long}\0` },
      { name: "cut", data: "gnu" },
    ]);
    const r = readTar(tar, LIMITS);
    expect(r.ok && r.files.map((f) => [f.name, text(f.data)])).toEqual([
      [long, "pax"],
      [`gnu-${long}`, "gnu"],
    ]);
  });

  describe("archives made by the real tools", () => {
    const dir = mkdtempSync(join(tmpdir(), "pilot-tar-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const files: Record<string, string> = { "dirac-pilot.py": "import sys\n", "pilotTools.py": "y".repeat(70_000), [`${"l".repeat(110)}.py`]: "long\n", "é.py": "utf8\n" };
    for (const [n, c] of Object.entries(files)) writeFileSync(join(dir, n), c);

    it.skipIf(!has("python3", ["-c", "import tarfile"]))("reads Python tarfile's default (PAX) format, as DIRAC's publisher writes it", () => {
      allowSubprocess(["python3"]);
      const script = `import tarfile,sys\nwith tarfile.open(sys.argv[1] + "/py.tar", "w") as t:\n  for n in sys.argv[2:]: t.add(sys.argv[1] + "/" + n, arcname=n)\n`;
      execFileSync("python3", ["-c", script, dir, ...Object.keys(files)]);
      const r = readTar(readFileSync(join(dir, "py.tar")), LIMITS);
      expect(r.ok && Object.fromEntries(r.files.map((f) => [f.name, text(f.data)]))).toEqual(files);
    });

    it.skipIf(!has("tar", ["--version"]))("reads GNU tar's format, ./ prefixes and long names included", () => {
      allowSubprocess(["tar"]);
      execFileSync("tar", ["-cf", join(dir, "gnu.tar"), "-C", dir, ...Object.keys(files).map((n) => `./${n}`)]);
      const r = readTar(readFileSync(join(dir, "gnu.tar")), LIMITS);
      expect(r.ok && Object.fromEntries(r.files.map((f) => [f.name, text(f.data)]))).toEqual(files);
    });
  });
});
