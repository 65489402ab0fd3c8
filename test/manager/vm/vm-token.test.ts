import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadTokenKey, mintVmId, TOKEN_KEY_FILE, tokenMatches, VM_ID, vmToken } from "../../../src/manager/vm/vm-token.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "vm-token-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("the token key", () => {
  it("is created once, 0600, and read back the same", async () => {
    const dir = tempDir();
    const a = await loadTokenKey(dir);
    expect(statSync(join(dir, TOKEN_KEY_FILE)).mode & 0o777).toBe(0o600);
    const b = await loadTokenKey(dir);
    expect(b.equals(a)).toBe(true);
    expect(a.length).toBe(32);
  });

  it("two managers starting at once on one directory get the same key", async () => {
    const dir = tempDir();
    const [a, b] = await Promise.all([loadTokenKey(dir), loadTokenKey(dir)]);
    expect(a.equals(b)).toBe(true);
  });

  it("a damaged key file is an error naming the file, never its content", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, TOKEN_KEY_FILE), "secret-not-hex\n", { mode: 0o600 });
    const err = await loadTokenKey(dir).catch((e: Error) => e);
    expect((err as Error).message).toContain(TOKEN_KEY_FILE);
    expect((err as Error).message).not.toContain("secret-not-hex");
    expect(readFileSync(join(dir, TOKEN_KEY_FILE), "utf8")).toBe("secret-not-hex\n");
  });
});

describe("tokens", () => {
  it("match only their own machinetype and VM id, and the key", async () => {
    const key = await loadTokenKey(tempDir());
    const other = await loadTokenKey(tempDir());
    const t = vmToken(key, "example-command", "vm-1");
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenMatches(key, "example-command", "vm-1", t)).toBe(true);
    expect(tokenMatches(key, "example-command", "vm-2", t)).toBe(false);
    expect(tokenMatches(key, "example-other", "vm-1", t)).toBe(false);
    expect(tokenMatches(other, "example-command", "vm-1", t)).toBe(false);
    expect(tokenMatches(key, "example-command", "vm-1", t.slice(0, -1))).toBe(false);
    expect(tokenMatches(key, "example-command", "vm-1", "")).toBe(false);
  });

  it("minted VM ids are unique and valid", () => {
    const ids = new Set(Array.from({ length: 1000 }, mintVmId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(VM_ID);
  });
});
