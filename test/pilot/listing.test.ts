import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseListing } from "../../src/pilot/listing.ts";
import { apacheListing, nginxListing } from "../support/pilot-server.ts";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const DIR = "https://lhcb-portal-dirac.cern.ch/pilot/";

describe("parseListing", () => {
  it("reads an Apache mod_autoindex page: files only, no sort links, parent or subdirectory", () => {
    expect(parseListing(fixture("apache-autoindex.html"), DIR)).toEqual([
      "checksums.sha512",
      "dirac-pilot.py",
      "include_vm_lhcb.sh",
      "LHCbPilotCommands.py",
      "pilot.json",
      "pilot.tar",
      "pilotCommands.py",
      "pilotTools.py",
      "proxyTools.py",
      "release notes.txt",
    ]);
  });

  it("reads an nginx autoindex page: the full name from the href, not the cut text; entities decoded", () => {
    expect(parseListing(fixture("nginx-autoindex.html"), DIR)).toEqual([
      "checksums.sha512",
      "dirac-pilot.py",
      "GridPP_VacUserData_and_Extensions_for_Multiprocessor.py",
      "pilot.json",
      "pilot.tar",
      "pilotCommands.py",
      "pilotTools.py",
      "proxyTools.py",
      "R&D_notes.txt",
    ]);
  });

  it("accepts a directory URL without the final slash", () => {
    expect(parseListing(`<a href="x.py">x</a>`, "https://h.example/pilot")).toEqual(["x.py"]);
  });

  const hostile = [
    "../secret.py",
    "..%2fsecret.py",
    "%2e%2e/secret.py",
    "./../secret.py",
    "/secret.py",
    "/other/x.py",
    "/pilot/sub/x.py",
    "sub/",
    "https://evil.example/pilot/x.py",
    "//evil.example/pilot/x.py",
    "http://lhcb-portal-dirac.cern.ch/pilot/x.py",
    "https://lhcb-portal-dirac.cern.ch:8443/pilot/x.py",
    "https://user:pw@lhcb-portal-dirac.cern.ch/pilot/x.py",
    "x.py?download=1",
    "x.py#frag",
    "?C=M;O=A",
    "mailto:root@example.org",
    "javascript:alert(1)",
    ".hidden",
    "%2Ehidden",
    "a%00b",
    "/pilot/",
    "",
  ];
  it.each(hostile)("ignores href %j", (href) => {
    expect(parseListing(`<a href="${href}">x</a>`, DIR)).toEqual([]);
  });

  it.each([
    ["/pilot/abs.py", "abs.py"],
    ["https://lhcb-portal-dirac.cern.ch/pilot/full.py", "full.py"],
    ["./dot.py", "dot.py"],
    ["sub/../back.py", "back.py"],
    ["a%20b.py", "a b.py"],
    ["x.py&amp;y", "x.py&y"],
  ])("keeps href %j inside the directory as %j", (href, name) => {
    expect(parseListing(`<A HREF='${href}'>x</A>`, DIR)).toEqual([name]);
  });

  it.each([
    ["apache", apacheListing],
    ["nginx", nginxListing],
  ])("round-trips the test server's %s page", (_style, render) => {
    const html = render("/pilot/", [
      { href: "../x.py", size: null },
      { href: "a.py", size: 10 },
      { href: "b%20c.json", size: 2000 },
      { href: "long-name-".repeat(8) + ".py", size: 5 },
    ]);
    expect(parseListing(html, DIR)).toEqual(["a.py", "b c.json", "long-name-".repeat(8) + ".py"]);
  });

  it("never throws on garbage", () => {
    expect(parseListing("<a href=\"%E0%A4%A\">x</a><a href=\"unclosed", DIR)).toEqual([]);
    expect(parseListing("<a href=x.py>", "not a url")).toEqual([]);
  });
});
