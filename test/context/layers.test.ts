import { describe, expect, it } from "vitest";
import { flatten, mergeLayers, originOf } from "../../src/context/layers.ts";

describe("configuration layers", () => {
  it("a higher layer wins per path and records where its value came from", () => {
    const merged = mergeLayers([
      { origin: { source: "metadata", location: "http://127.0.0.1:1" }, values: { "mjf.jobfeatures": "http://a/jobfeatures", "identity.machinetype": "mt" } },
      { origin: { source: "user_data" }, values: { "mjf.jobfeatures": "/etc/jobfeatures" }, locations: { "mjf.jobfeatures": "line 3" } },
      { origin: { source: "environment" }, values: {} },
    ]);
    expect(merged.object).toEqual({ identity: { machinetype: "mt" }, mjf: { jobfeatures: "/etc/jobfeatures" } });
    expect(merged.provenance["mjf.jobfeatures"]).toEqual({ source: "user_data", location: "line 3" });
    expect(merged.provenance["identity.machinetype"]).toEqual({ source: "metadata", location: "http://127.0.0.1:1" });
  });

  it("an empty value means not set: the lower layer's value stays", () => {
    const merged = mergeLayers([
      { origin: { source: "metadata" }, values: { "identity.hostname": "from-metadata" } },
      { origin: { source: "user_data" }, values: { "identity.hostname": "" } },
    ]);
    expect(merged.object).toEqual({ identity: { hostname: "from-metadata" } });
  });

  it("a higher layer replacing a subtree drops the lower layer's leaves below it", () => {
    const merged = mergeLayers([
      { origin: { source: "user_data" }, values: { "payload.command.env.A": "1" } },
      { origin: { source: "command line" }, values: { "payload.command.env": {} } },
    ]);
    expect(merged.object).toEqual({ payload: { command: { env: {} } } });
  });

  it("flattens nested objects but keeps arrays as leaves", () => {
    expect(flatten({ a: { b: 1, c: [1, 2] }, d: {} })).toEqual({ "a.b": 1, "a.c": [1, 2], d: {} });
  });

  it("finds the origin of an array element and of a missing parent", () => {
    const p = { "cvmfs.repositories": { source: "user_data" as const }, "payload.dirac.queue": { source: "environment" as const } };
    expect(originOf(p, "cvmfs.repositories[1]")?.source).toBe("user_data");
    expect(originOf(p, "payload.dirac")?.source).toBe("environment");
    expect(originOf(p, "identity")).toBeUndefined();
  });
});
