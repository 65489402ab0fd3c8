import { describe, expect, it } from "vitest";
import { handoffEnv, htcondorKnobs } from "../../src/isolation/handoff.ts";

describe("isolation handoff", () => {
  it("gives the payload the runtime and the image", () => {
    expect(handoffEnv({ runtime: "/usr/bin/apptainer", image: "/srv/sbx" })).toEqual({ VACUUM_CONTAINER_RUNTIME: "/usr/bin/apptainer", VACUUM_CONTAINER_IMAGE: "/srv/sbx" });
    expect(handoffEnv({ runtime: "/usr/bin/apptainer", image: null })).toEqual({ VACUUM_CONTAINER_RUNTIME: "/usr/bin/apptainer" });
    expect(htcondorKnobs({ runtime: "/cvmfs/x/apptainer", image: null })).toEqual(["SINGULARITY = /cvmfs/x/apptainer"]);
  });
});
