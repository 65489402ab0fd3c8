import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stageJobOutput } from "../../../src/lifecycle/joboutputs/stage-output.ts";
import { redactSecrets } from "../../../src/plan/describe.ts";

const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----";

let root: string;
let spool: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "stage-"));
  spool = join(root, "var/spool/joboutputs");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const read = (name: string) => readFileSync(join(spool, name), "utf8");

describe("stageJobOutput", () => {
  it("copies a file under a flat name, mode 0644, leaving no temp file", async () => {
    writeFileSync(join(root, "out.log"), "hello\n");
    const r = await stageJobOutput(spool, "payload/out log", { path: join(root, "out.log") }, { maxBytes: 1024 });
    expect(r).toMatchObject({ ok: true, name: "payload_out_log", bytes: 6, cutBytes: 0 });
    expect(read("payload_out_log")).toBe("hello\n");
    expect(statSync(join(spool, "payload_out_log")).mode & 0o777).toBe(0o644);
    expect(readdirSync(spool)).toEqual(["payload_out_log"]);
  });

  it("picks a new name when the name is taken, unless asked to replace", async () => {
    const a = await stageJobOutput(spool, "agent.log", { text: "one\n" }, { maxBytes: 1024 });
    const b = await stageJobOutput(spool, "agent.log", { text: "two\n" }, { maxBytes: 1024 });
    expect([a.name, b.name]).toEqual(["agent.log", "agent-2.log"]);
    const c = await stageJobOutput(spool, "agent.log", { text: "three\n" }, { maxBytes: 1024, replace: true });
    expect(c.name).toBe("agent.log");
    expect(read("agent.log")).toBe("three\n");
    expect(read("agent-2.log")).toBe("two\n");
  });

  it("truncates a huge log with the marker and redacts secrets", async () => {
    const body = `token: Bearer abc.def.ghi\n${KEY}\n` + "x".repeat(80) + "\n";
    const big = body + "filler line\n".repeat(200_000) + "the end\n";
    writeFileSync(join(root, "big.log"), big);
    const r = await stageJobOutput(spool, "big.log", { path: join(root, "big.log") }, { maxBytes: 8192, redact: redactSecrets });
    expect(r.ok).toBe(true);
    const out = read("big.log");
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(8192);
    expect(out).toMatch(/\n\[\.\.\. vacuum-agent: \d+ bytes cut here \.\.\.\]\n/);
    expect(out.endsWith("the end\n")).toBe(true);
    expect(out).not.toContain("MIIEvQ");
    expect(out).not.toContain("abc.def.ghi");
  });

  it("drops the halves of a private key cut by the marker", async () => {
    // The key straddles the cut: neither half is a whole PEM block a redactor would recognise.
    const keyBody = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n".repeat(400);
    const text = "start\n".repeat(50) + `-----BEGIN RSA PRIVATE KEY-----\n${keyBody}-----END RSA PRIVATE KEY-----\n` + "end\n".repeat(50);
    const r = await stageJobOutput(spool, "k.log", { text }, { maxBytes: 4096, redact: (t) => t });
    expect(r).toMatchObject({ ok: true });
    const out = read("k.log");
    expect(out).toContain("vacuum-agent: partial private key removed");
    expect(out).not.toContain("QUJDREVG");
    expect(out).not.toContain("BEGIN RSA PRIVATE KEY");
    expect(out.startsWith("start\n")).toBe(true);
    expect(out.endsWith("end\n")).toBe(true);
  });

  it("reports a missing source and an unwritable spool without throwing", async () => {
    const missing = await stageJobOutput(spool, "gone.log", { path: join(root, "nope") }, { maxBytes: 1024 });
    expect(missing).toEqual({ ok: false, name: "gone.log", reason: `cannot read ${join(root, "nope")} (ENOENT)` });
    writeFileSync(join(root, "file"), "");
    const blocked = await stageJobOutput(join(root, "file", "spool"), "x", { text: "x" }, { maxBytes: 1024 });
    expect(blocked).toMatchObject({ ok: false, name: "x" });
    expect((blocked as { reason: string }).reason).toMatch(/^cannot write to .* \((ENOTDIR|EEXIST)\)$/);
  });
});
