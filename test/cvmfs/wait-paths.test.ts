import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitForRepositories } from "../../src/cvmfs/wait-paths.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cvmfs-wait-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("waitForRepositories", () => {
  it("is ready at once when every directory has entries", async () => {
    mkdirSync(join(dir, "grid.cern.ch/etc"), { recursive: true });
    mkdirSync(join(dir, "lhcb.cern.ch"));
    writeFileSync(join(dir, "lhcb.cern.ch/x"), "");
    const r = await waitForRepositories([join(dir, "grid.cern.ch"), join(dir, "lhcb.cern.ch")], 5_000, { intervalMs: 20 });
    expect(r.ok).toBe(true);
    expect(r.paths.map((p) => [p.ok, p.reason])).toEqual([
      [true, null],
      [true, null],
    ]);
    expect(r.message).toMatch(/^ready: .*grid\.cern\.ch \(\d+(\.\d)? s\), .*lhcb\.cern\.ch/);
  });

  it("waits until a directory appears and fills (an autofs mount)", async () => {
    const repo = join(dir, "grid.cern.ch");
    setTimeout(() => mkdirSync(repo), 100);
    setTimeout(() => writeFileSync(join(repo, ".cvmfsdirtab"), ""), 250);
    const t0 = performance.now();
    const r = await waitForRepositories([repo], 5_000, { intervalMs: 20 });
    expect(r.ok).toBe(true);
    expect(r.paths[0]!.ms).toBeGreaterThanOrEqual(200);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it.each([
    ["a missing directory", (d: string) => join(d, "grid.cern.ch"), "does not exist"],
    ["an empty directory (an unmounted repository)", (d: string) => (mkdirSync(join(d, "empty")), join(d, "empty")), "is empty"],
    ["a file", (d: string) => (writeFileSync(join(d, "f"), "x"), join(d, "f")), "is not a directory"],
    ["under a file", (d: string) => (writeFileSync(join(d, "f"), "x"), join(d, "f/sub")), "does not exist (a parent is not a directory)"],
  ])("gives up after the timeout on %s, saying why", async (_n, make, reason) => {
    const path = make(dir);
    const t0 = performance.now();
    const r = await waitForRepositories([path], 200, { intervalMs: 30 });
    const took = performance.now() - t0;
    expect(r.ok).toBe(false);
    expect(r.paths[0]).toMatchObject({ path, ok: false, reason, ms: null });
    expect(r.message).toMatch(new RegExp(`^Not ready after 0\\.\\d s: ${path.replace(/[.]/g, "\\.")} \\(${reason.replace(/[()]/g, "\\$&")}\\)$`));
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1_000);
  });

  it("names only the paths that are not ready", async () => {
    mkdirSync(join(dir, "ok"));
    writeFileSync(join(dir, "ok/x"), "");
    const r = await waitForRepositories([join(dir, "ok"), join(dir, "missing")], 50, { intervalMs: 10 });
    expect(r.ok).toBe(false);
    expect(r.message).toContain(`${join(dir, "missing")} (does not exist)`);
    expect(r.message).not.toContain(`${join(dir, "ok")} (`);
  });

  it("checks once even with no time at all", async () => {
    mkdirSync(join(dir, "ok"));
    writeFileSync(join(dir, "ok/x"), "");
    expect((await waitForRepositories([join(dir, "ok")], 0)).ok).toBe(true);
  });

  it("has nothing to wait for without paths", async () => {
    expect(await waitForRepositories([], 1_000)).toEqual({ ok: true, paths: [], message: "nothing to wait for" });
  });
});
