import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/pilot/manifest.ts";

const A = "a".repeat(128);
const B = "B".repeat(128);

describe("parseManifest", () => {
  it("reads sha512sum text and binary lines, the --tag form, CRLF and blank lines", () => {
    const text = `${A}  dirac-pilot.py\r\n${B} *pilot.tar\n\nSHA512 (pilot.json) = ${A}\n`;
    expect(parseManifest(text)).toEqual({
      ok: true,
      entries: [
        { name: "dirac-pilot.py", sha512: A },
        { name: "pilot.tar", sha512: B.toLowerCase() },
        { name: "pilot.json", sha512: A },
      ],
    });
  });

  it("drops a line for checksums.sha512 itself and merges identical duplicates", () => {
    expect(parseManifest(`${A}  checksums.sha512\n${A}  x.py\n${A}  x.py\n`)).toEqual({ ok: true, entries: [{ name: "x.py", sha512: A }] });
  });

  it.each([
    [`${A}  ../evil.py\n`, /line 1: expected a file name in the pilot directory, found a path/],
    [`${A}  /etc/cron.d/x\n`, /line 1: .*a path/],
    [`${A}  sub/x.py\n`, /line 1: .*contains "\/"/],
    [`${A}  ok.py\n${A}  .hidden\n`, /line 2: .*hidden/],
    [`${A}  ..\n`, /line 1: .*directory entry/],
    [`\\${A}  a\\\\b\n`, /line 1: expected "<128 hex digits>  <file name>".*escaped name/],
    [`${"a".repeat(64)}  sha256.py\n`, /line 1: expected "<128 hex digits>  <file name>", found "a{64}  sha256.py"/],
    [`<html><body>404</body></html>\n`, /line 1: expected/],
    [`${A}  x.py\n${B}  x.py\n`, /line 2: x.py is listed twice with different checksums/],
    [``, /lists no files/],
  ])("reports %j", (text, error) => {
    const r = parseManifest(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join("\n")).toMatch(error);
  });

  it("cuts long bad lines in the error", () => {
    const r = parseManifest("x".repeat(500));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.length).toBeLessThan(200);
  });
});
