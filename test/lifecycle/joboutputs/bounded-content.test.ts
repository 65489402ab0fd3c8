import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { boundBytes, cutMarker, readBounded } from "../../../src/lifecycle/joboutputs/bounded-content.ts";

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${String(i).padStart(6, "0")} of the payload log\n`).join("");
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "bounded-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("boundBytes / readBounded", () => {
  it("keeps content within the limit untouched", async () => {
    const small = lines(10);
    expect(text(boundBytes(Buffer.from(small), 4096).bytes)).toBe(small);
    writeFileSync(join(dir, "f"), small);
    const r = await readBounded(join(dir, "f"), 4096);
    expect(text(r.bytes)).toBe(small);
    expect(r.cutBytes).toBe(0);
  });

  it.each([
    ["bytes", (all: string) => Promise.resolve(boundBytes(Buffer.from(all), 4096))],
    ["file", (all: string) => (writeFileSync(join(dir, "big"), all), readBounded(join(dir, "big"), 4096))],
  ])("keeps head and tail of huge content around a marker line (%s)", async (_kind, bound) => {
    const all = lines(100_000); // 3.6 MB
    const r = await bound(all);
    const out = text(r.bytes);
    expect(r.bytes.length).toBeLessThanOrEqual(4096);
    expect(r.size).toBe(Buffer.byteLength(all));
    expect(out.startsWith("line 000000 of the payload log\n")).toBe(true);
    expect(out.endsWith("line 099999 of the payload log\n")).toBe(true);
    // The marker is a line of its own and states exactly what was left out.
    const marker = out.split("\n").find((l) => l.startsWith("[... vacuum-agent:"))!;
    expect(marker).toBe(cutMarker(r.cutBytes).trimEnd());
    const [head, tail] = out.split(cutMarker(r.cutBytes));
    expect(head!.length + tail!.length + r.cutBytes).toBe(r.size);
    expect(all.startsWith(head!) && all.endsWith(tail!)).toBe(true);
  });

  it("puts the marker on its own line when there is no line end to cut at", () => {
    const r = boundBytes(Buffer.alloc(100_000, 0x61), 1024);
    const out = text(r.bytes);
    expect(out).toContain(`\n${cutMarker(r.cutBytes)}`);
    expect(r.cutBytes).toBe(100_000 - (out.length - cutMarker(r.cutBytes).length - 1));
  });

  it("refuses a symlink in the spool", async () => {
    writeFileSync(join(dir, "secret"), "root only");
    symlinkSync(join(dir, "secret"), join(dir, "link"));
    await expect(readBounded(join(dir, "link"), 4096)).rejects.toMatchObject({ code: "ELOOP" });
  });
});
