import { describe, expect, it } from "vitest";
import { describeBlocks, readPem } from "../../src/credentials/pem.ts";

const CERT = "-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----";
const KEY = "-----BEGIN RSA PRIVATE KEY-----\nR0hJ\n-----END RSA PRIVATE KEY-----";

describe("readPem", () => {
  it.each([
    ["one block", CERT, ["CERTIFICATE"]],
    ["blocks with text around them and CRLF", `subject=/CN=x\r\n${CERT.replace(/\n/g, "\r\n")}\r\nBag Attributes\n${KEY}\n`, ["CERTIFICATE", "RSA PRIVATE KEY"]],
    ["indented lines (a heredoc in a shell user_data)", CERT.split("\n").map((l) => `  ${l}`).join("\n"), ["CERTIFICATE"]],
  ])("reads %s", (_name, text, labels) => {
    const r = readPem(text, "a PEM certificate");
    expect(r.ok && r.blocks.map((b) => b.label)).toEqual(labels);
  });

  it("keeps headers and says the block is encrypted", () => {
    const r = readPem("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nR0hJ\n-----END RSA PRIVATE KEY-----\n", "a PEM private key");
    expect(r.ok && r.blocks[0]).toMatchObject({ encrypted: true, text: "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nR0hJ\n-----END RSA PRIVATE KEY-----\n" });
  });

  it.each([
    ["empty text", "", "expected a PEM private key, found no BEGIN line"],
    ["a file name instead of its contents", "/etc/grid-security/hostkey.pem", "expected a PEM private key, found no BEGIN line"],
    ["no END line", "-----BEGIN PRIVATE KEY-----\nQUJD\n", 'expected a PEM private key, found "-----BEGIN PRIVATE KEY-----" with no END line'],
    ["a mismatched END line", "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END CERTIFICATE-----\n", 'expected a PEM private key, found "-----BEGIN PRIVATE KEY-----" closed by "-----END CERTIFICATE-----"'],
    ["a BEGIN line inside a block", `-----BEGIN PRIVATE KEY-----\nQUJD\n${KEY}`, 'expected a PEM private key, found "-----BEGIN PRIVATE KEY-----" with no END line before the next BEGIN line'],
    ["an empty body", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", "expected a PEM private key, found a PRIVATE KEY block whose body is not base64"],
    ["a body of the wrong length", "-----BEGIN PRIVATE KEY-----\nQUJ\n-----END PRIVATE KEY-----\n", "expected a PEM private key, found a PRIVATE KEY block whose body is not base64"],
  ])("reports %s", (_name, text, message) => {
    expect(readPem(text, "a PEM private key")).toEqual({ ok: false, message });
  });

  it("never quotes a body line", () => {
    const r = readPem("-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD\nnot base64 at all!\n-----END PRIVATE KEY-----\n", "a PEM private key");
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toMatch(/TUlJ|not base64 at all!/);
  });
});

describe("describeBlocks", () => {
  it.each([
    [[], "nothing"],
    [["CERTIFICATE"], "1 CERTIFICATE block"],
    [["CERTIFICATE", "CERTIFICATE", "RSA PRIVATE KEY"], "2 CERTIFICATE blocks and 1 RSA PRIVATE KEY block"],
  ])("%j", (labels, text) => {
    expect(describeBlocks(labels.map((label) => ({ label, text: "", encrypted: false })))).toBe(text);
  });
});
