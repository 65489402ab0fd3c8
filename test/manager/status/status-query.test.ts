import { describe, expect, it } from "vitest";
import { DEFAULT_LIMIT, DEFAULT_REFRESH, MAX_LIMIT, parseStatusQuery, queryString } from "../../../src/manager/status/status-query.ts";

const parse = (qs: string) => parseStatusQuery(new URLSearchParams(qs));

describe("parseStatusQuery", () => {
  it.each([
    ["", { machinetype: null, state: null, limit: DEFAULT_LIMIT, refresh: DEFAULT_REFRESH }],
    // The form's "all" is an empty value: no filter.
    ["machinetype=&state=", { machinetype: null, state: null }],
    ["machinetype=a-b&state=stale", { machinetype: "a-b", state: "stale" }],
    ["limit=5", { limit: 5 }],
    ["limit=0", { limit: DEFAULT_LIMIT }],
    ["limit=abc", { limit: DEFAULT_LIMIT }],
    ["limit=99999999", { limit: MAX_LIMIT }],
    ["limit=7.9", { limit: 7 }],
    ["refresh=0", { refresh: 0 }],
    ["refresh=-1", { refresh: 0 }],
    ["refresh=1", { refresh: 5 }],
    ["refresh=120", { refresh: 120 }],
    ["refresh=x", { refresh: DEFAULT_REFRESH }],
    ["refresh=1e9", { refresh: 3600 }],
  ])("?%s", (qs, want) => expect(parse(qs)).toMatchObject(want));

  it("cuts a very long filter value", () => expect(parse(`state=${"x".repeat(5000)}`).state).toHaveLength(200));
});

describe("queryString", () => {
  const base = parse("machinetype=mt&state=running&refresh=0");
  it.each([
    [{}, "?machinetype=mt&state=running&refresh=0"],
    [{ state: null }, "?machinetype=mt&refresh=0"],
    [{ machinetype: null, state: null, refresh: DEFAULT_REFRESH }, ""],
    [{ machinetype: "a&b=<c>" }, "?machinetype=a%26b%3D%3Cc%3E&state=running&refresh=0"],
    [{ limit: 20 }, "?machinetype=mt&state=running&limit=20&refresh=0"],
  ])("%j", (change, want) => expect(queryString(base, change)).toBe(want));

  it("round-trips through parseStatusQuery", () => {
    const q = parse("machinetype=x%20y&state=stale&limit=9&refresh=60");
    expect(parse(queryString(q).slice(1))).toEqual(q);
  });
});
