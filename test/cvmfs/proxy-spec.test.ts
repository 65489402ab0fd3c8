import { describe, expect, it } from "vitest";
import { formatProxySpec, parseProxySpec, probeTargets, usesAuto, entryText } from "../../src/cvmfs/proxy-spec.ts";

describe("parseProxySpec: accepted values", () => {
  it.each([
    ["Vac: two balanced squids then DIRECT", "http://squid01:3128|http://squid02:3128;DIRECT", "http://squid01:3128|http://squid02:3128;DIRECT", 2],
    ["Vcycle cvmfs_proxy_machinetype", "http://10.1.2.3:280|http://10.1.2.4:280;http://squid.example.org:3128", "http://10.1.2.3:280|http://10.1.2.4:280;http://squid.example.org:3128", 2],
    ["the default", "auto;DIRECT", "auto;DIRECT", 2],
    ["DIRECT alone", "DIRECT", "DIRECT", 1],
    ["surrounding white space and a newline (raw substitution)", "  http://squid:3128;DIRECT\n", "http://squid:3128;DIRECT", 2],
    ["IPv6 address", "http://[2001:db8::1]:3128", "http://[2001:db8::1]:3128", 1],
    ["upper-case scheme, trailing slash, leading zero", "HTTP://squid:03128/", "http://squid:3128", 1],
  ])("%s", (_n, text, formatted, groups) => {
    const r = parseProxySpec(text);
    expect(r.problems).toEqual([]);
    expect(r.spec).not.toBeNull();
    expect(formatProxySpec(r.spec!)).toBe(formatted);
    expect(r.spec!.groups).toHaveLength(groups);
  });

  it("takes a proxy without a scheme as http://, with a warning", () => {
    const r = parseProxySpec("squid01:3128;DIRECT");
    expect(formatProxySpec(r.spec!)).toBe("http://squid01:3128;DIRECT");
    expect(r.problems).toEqual([
      expect.objectContaining({ severity: "warning", path: "cvmfs.http_proxy", message: expect.stringContaining('"squid01:3128" has no scheme: taken as http://squid01:3128') }),
    ]);
  });

  it("keeps host and port apart", () => {
    const { spec } = parseProxySpec("http://[::1]:3128|http://squid:8080;DIRECT");
    expect(spec!.groups[0]).toEqual([
      { kind: "http", host: "::1", port: 3128, url: "http://[::1]:3128" },
      { kind: "http", host: "squid", port: 8080, url: "http://squid:8080" },
    ]);
    expect(spec!.groups[1]).toEqual([{ kind: "direct" }]);
  });
});

describe("parseProxySpec: rejected values", () => {
  it.each([
    ["empty", "", "found an empty value"],
    ["blanks only", "   ", "found an empty value"],
    ["white space inside", "http://a:3128; DIRECT", "found white space inside the value"],
    ["trailing ;", "http://a:3128;", 'group 2 is empty (";" at an end or twice in a row)'],
    ["two ; in a row", "http://a:3128;;DIRECT", "group 2 is empty"],
    ["trailing |", "http://a:3128|", 'group 1 entry 2 is empty ("|" at an end or twice in a row)'],
    ["no port", "http://squid01|http://squid02:3128", 'group 1 entry 1 "http://squid01" has no port (curl would use 1080)'],
    ["port out of range", "http://squid:70000", "has port 70000, outside 1-65535"],
    ["port zero", "http://squid:0", "has port 0, outside 1-65535"],
    ["https proxy", "https://squid:3128", "uses https://; CVMFS talks to its proxies in plain http://"],
    ["socks proxy", "socks5://squid:1080;DIRECT", "uses socks5://"],
    ["lower-case direct", "http://a:3128;direct", 'group 2 entry 1 is "direct": the CVMFS client only knows DIRECT in capitals'],
    ["upper-case auto", "AUTO;DIRECT", "only knows auto in lower case"],
    ["a path", "http://squid:3128/cvmfs", 'is not http://host:port'],
    ["an unsubstituted pattern", "##user_data_option_cvmfs_proxy##", "is not http://host:port"],
    ["comma instead of |", "http://a:3128,http://b:3128", "is not http://host:port"],
  ])("%s", (_n, text, message) => {
    const r = parseProxySpec(text);
    expect(r.spec).toBeNull();
    const errors = r.problems.filter((p) => p.severity === "error");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ source: "user_data", path: "cvmfs.http_proxy", code: 500 });
    expect(errors[0]!.message).toContain(message);
    // Every message says what was expected.
    expect(errors[0]!.message).toContain('expected CVMFS_HTTP_PROXY syntax: groups separated by ";", proxies in a group by "|"');
  });

  it("never repeats credentials from a proxy URL", () => {
    const r = parseProxySpec("http://user:s3cret@squid:3128;DIRECT");
    expect(r.spec).toBeNull();
    expect(r.problems[0]!.message).toContain('group 1 entry 1 has user information ("@")');
    expect(JSON.stringify(r.problems)).not.toContain("s3cret");
  });

  it("reports every bad entry, with the source it is given", () => {
    const r = parseProxySpec("http://a|http://b:3128;ftp://c:21", "metadata");
    expect(r.problems.map((p) => [p.source, p.message.split(";")[0]])).toEqual([
      ["metadata", 'group 1 entry 1 "http://a" has no port (curl would use 1080)'],
      ["metadata", 'group 2 entry 1 "ftp://c:21" uses ftp://'],
    ]);
  });
});

describe("probe targets", () => {
  it.each([
    ["proxies and DIRECT, each once, auto left out", "http://a:1|http://b:2;auto;http://a:1;DIRECT", ["http://a:1", "http://b:2", "DIRECT"], true],
    ["auto only", "auto", [], true],
    ["no auto", "http://a:1;DIRECT", ["http://a:1", "DIRECT"], false],
  ])("%s", (_n, text, targets, auto) => {
    const { spec } = parseProxySpec(text);
    expect(probeTargets(spec!).map(entryText)).toEqual(targets);
    expect(usesAuto(spec!)).toBe(auto);
  });
});
