import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUILT_IN_COMMANDS, checkPilotJson, jsonPath, type PilotJsonCheck, type ResolvedPilot } from "../../../src/payloads/dirac/pilot-json.ts";

// The real files, byte for byte, from the shared fixtures.
const FIXTURES = "/work/shared/fixtures/pilot-json";
const fixture = (name: string): string => readFileSync(`${FIXTURES}/${name}`, "utf8");

const ok = (c: PilotJsonCheck): { pilot: ResolvedPilot; warnings: string[] } => {
  if (!c.ok) throw new Error(`expected ok, got errors: ${c.errors.join(" | ")}`);
  return c;
};
const errs = (c: PilotJsonCheck): string[] => {
  if (c.ok) throw new Error("expected errors, got ok");
  return c.errors;
};

const TEST_CMDS = ["CheckWorkerNode", "InstallDIRAC", "ConfigureBasics", "RegisterPilot", "CheckCECapabilities", "CheckWNCapabilities", "ConfigureSite", "ConfigureArchitecture", "ConfigureCPURequirements"];
const FULL_CMDS = [...TEST_CMDS, "LaunchAgent"];

describe("pilot.json fixtures: old schema", () => {
  it.each([
    // ce, queue, site, gridCEType, localCEType, commands, from
    ["jenkins.cern.ch", "default", "VAR_JENKINS_SITE", "TEST", null, TEST_CMDS, 'Setups.DIRAC-Certification.Commands.TEST'],
    ["jenkins-full.cern.ch", "default", "VAR_JENKINS_SITE", "TEST-FULL", null, FULL_CMDS, 'Setups.DIRAC-Certification.Commands.TEST-FULL'],
    ["jenkins-singularity.cern.ch", "default", "VAR_JENKINS_SITE", "TEST", "Singularity", TEST_CMDS, 'Setups.DIRAC-Certification.Commands.TEST'],
    ["jenkins-mp-pool-full.cern.ch", "VAR_JENKINS_QUEUE", "VAR_JENKINS_SITE", "TEST-FULL", "Pool", FULL_CMDS, 'Setups.DIRAC-Certification.Commands.TEST-FULL'],
    ["jenkins-mp-pool-full.cern.ch", "other", "VAR_JENKINS_SITE", "TEST-FULL", "InProcess", FULL_CMDS, 'Setups.DIRAC-Certification.Commands.TEST-FULL'],
    ["jenkins-mp-pool-singularity.cern.ch", "VAR_JENKINS_QUEUE", "VAR_JENKINS_SITE", "TEST-MP", "Pool/Singularity", TEST_CMDS, 'Setups.DIRAC-Certification.Commands.TEST-MP'],
    ["jenkins-lhcb.cern.ch", "default", "VAR_JENKINS_SITE", "LHCb", null, ["CheckWorkerNode", "LHCbInstallDIRAC", "LHCbConfigureBasics", "RegisterPilot", "CheckCECapabilities", "LHCbAddCVMFSTags", "CheckWNCapabilities", "ConfigureSite", "ConfigureArchitecture", "ConfigureCPURequirements"], 'Setups.DIRAC-Certification.Commands.LHCb'],
  ])("%s queue %s", (ce, queue, site, grid, local, commands, from) => {
    const { pilot } = ok(checkPilotJson(fixture("pilot-old-schema.json"), { ce, queue, vo: "lhcb" }));
    expect(pilot).toMatchObject({ schema: "old", setup: "DIRAC-Certification", ceListed: true, site, gridCEType: grid, localCEType: local, commands, commandsFrom: from, version: "VAR_DIRAC_VERSION", configurationServers: ["VAR_CS"], project: null });
  });

  it("a space not in CEs with a configured site: warnings, and the built-in list (the Setups.Defaults.Commands.Defaults path bug)", () => {
    const { pilot, warnings } = ok(checkPilotJson(fixture("pilot-old-schema.json"), { ce: "vac01.example.org", queue: "default", site: "VAC.Example.uk" }));
    expect(pilot).toMatchObject({ ceListed: false, site: "", gridCEType: "", commands: BUILT_IN_COMMANDS, commandsFrom: "built-in list" });
    expect(warnings.join("\n")).toContain('pilot.json: CEs["vac01.example.org"]: the space is not listed');
    expect(warnings.join("\n")).toContain("Setups.Defaults.Commands.Defaults: never read by dirac-pilot.py");
  });

  it("a space not in CEs and no site name: an error", () => {
    expect(errs(checkPilotJson(fixture("pilot-old-schema.json"), { ce: "vac01.example.org", queue: "default" }))[0]).toMatch(/CEs\["vac01.example.org"\]: the space is not listed .* no DIRAC site name is configured/);
  });

  it("pilot-ci.json: the CI setup, a Commands list without LaunchAgent (warned), ConfigurationServer from Setups.Defaults", () => {
    const { pilot, warnings } = ok(checkPilotJson(fixture("pilot-ci.json"), { ce: "ce.dirac.org", queue: "DIRACQUEUE" }));
    expect(pilot).toMatchObject({ schema: "old", setup: "CI", site: "DIRAC.CI.ORG", gridCEType: "TEST", commands: ["CheckWorkerNode", "InstallDIRAC"], version: "integration", configurationServers: ["dips://does.not.matter.org:9162"] });
    expect(warnings).toContainEqual(expect.stringContaining("Setups.CI.Commands.TEST: the command list has no LaunchAgent"));
  });

  it("an explicit setup that is absent falls back to Setups.Defaults with a warning", () => {
    const { pilot, warnings } = ok(checkPilotJson(fixture("pilot-ci.json"), { ce: "ce.dirac.org", queue: "q", setup: "Production" }));
    expect(pilot.setup).toBe("Production");
    expect(pilot.commandsFrom).toBe("built-in list");
    expect(warnings).toContainEqual("pilot.json: Setups.Production: absent: every value comes from Setups.Defaults");
  });
});

describe("pilot.json fixtures: new schema", () => {
  it.each([
    // ce, vo, gridCEType, commands-from, version, cvmfs
    ["jenkins-full.cern.ch", "gridpp", "TEST-FULL", 'Defaults.Pilot.Commands.TEST-FULL', "VAR_DIRAC_VERSION", ["/cvmfs/grid.cern.ch", "/cvmfs/dirac.egi.eu"]],
    ["jenkins-lhcb.cern.ch", "LHCb", "LHCb", "Defaults.Pilot.Commands.LHCb", "VAR_DIRAC_VERSION", ["/cvmfs/lhcb.cern.ch/", "$VO_LHCB_SW_DIR"]],
    ["jenkins-revised.cern.ch", "dteam", "TEST-REVISED-COMMANDS", 'Defaults.Pilot.Commands.TEST-REVISED-COMMANDS', "VAR_DIRAC_VERSION", ["/cvmfs/grid.cern.ch", "/cvmfs/dirac.egi.eu"]],
  ])("%s for %s", (ce, vo, grid, from, version, cvmfs) => {
    const { pilot } = ok(checkPilotJson(fixture("pilot-new-schema.json"), { ce, queue: "VAR_JENKINS_QUEUE", vo }));
    expect(pilot).toMatchObject({ schema: "new", vo, gridCEType: grid, commandsFrom: from, version, configurationServers: ["VAR_CS"], cvmfsLocations: cvmfs, site: "VAR_JENKINS_SITE" });
    expect(pilot.commands.length).toBeGreaterThan(5);
  });

  it("gridpp: Extensions \"None\" is no extension; the queue's LocalCEType wins over the CE's", () => {
    const { pilot } = ok(checkPilotJson(fixture("pilot-new-schema.json"), { ce: "jenkins-mp-pool-full.cern.ch", queue: "VAR_JENKINS_QUEUE", vo: "gridpp" }));
    expect(pilot.extensions).toEqual([]);
    expect(pilot.localCEType).toBe("Pool");
  });

  it("a VO without a section: only Defaults apply, with a warning", () => {
    const { pilot, warnings } = ok(checkPilotJson(fixture("pilot-new-schema.json"), { ce: "jenkins.cern.ch", queue: "q", vo: "atlas" }));
    expect(pilot.version).toBeNull();
    expect(warnings).toContain("pilot.json: atlas: no section for this VO: only the Defaults options apply");
  });

  it("no VO: an error naming the option (the pilot would die on a host certificate)", () => {
    expect(errs(checkPilotJson(fixture("pilot-new-schema.json"), { ce: "jenkins.cern.ch", queue: "q" }))[0]).toContain("##user_data_option_vo##");
  });
});

describe("new schema merge order (shallow, later wins)", () => {
  const doc = (extra: object) =>
    JSON.stringify({
      CEs: { vac01: { Site: "VAC.X.uk", GridCEType: "Vac" } },
      ConfigurationServers: ["dips://cs:9135"],
      Defaults: { Pilot: { Version: "v1", Project: "P0", Commands: { Vac: "CheckWorkerNode, LaunchAgent", Defaults: ["InstallDIRAC", "LaunchAgent"] } } },
      ...extra,
    });
  it.each([
    ["Defaults only", {}, undefined, "v1", "P0", ["CheckWorkerNode", "LaunchAgent"], "Defaults.Pilot.Commands.Vac"],
    ["<setup>.Pilot beats Defaults", { Prod: { Pilot: { Version: "v2" } } }, "Prod", "v2", "P0", ["CheckWorkerNode", "LaunchAgent"], "Defaults.Pilot.Commands.Vac"],
    ["empty setup reads the top-level Pilot", { Pilot: { Version: "v9" } }, undefined, "v9", "P0", ["CheckWorkerNode", "LaunchAgent"], "Defaults.Pilot.Commands.Vac"],
    ["<VO>.Defaults.Pilot beats <setup>.Pilot", { Prod: { Pilot: { Version: "v2" } }, lhcb: { Defaults: { Pilot: { Version: "v3" } } } }, "Prod", "v3", "P0", ["CheckWorkerNode", "LaunchAgent"], "Defaults.Pilot.Commands.Vac"],
    ["<VO>.<setup>.Pilot beats <VO>.Defaults.Pilot", { lhcb: { Defaults: { Pilot: { Version: "v3" } }, Prod: { Pilot: { Version: "v4, v3" } } } }, "Prod", "v4", "P0", ["CheckWorkerNode", "LaunchAgent"], "Defaults.Pilot.Commands.Vac"],
    ["<VO>.Pilot beats everything", { lhcb: { Prod: { Pilot: { Version: "v4" } }, Pilot: { Version: "v5", Project: "LHCb" } } }, "Prod", "v5", "LHCb", ["CheckWorkerNode", "LaunchAgent"], "Defaults.Pilot.Commands.Vac"],
    ["a VO Commands replaces the default dict entirely (shallow merge)", { lhcb: { Pilot: { Commands: { Defaults: "LHCbInstallDIRAC, LaunchAgent" } } } }, undefined, "v1", "P0", ["LHCbInstallDIRAC", "LaunchAgent"], "lhcb.Pilot.Commands.Defaults"],
  ])("%s", (_name, extra, setup, version, project, commands, from) => {
    const { pilot } = ok(checkPilotJson(doc(extra), { ce: "vac01", queue: "default", vo: "lhcb", ...(setup ? { setup } : {}) }));
    expect(pilot).toMatchObject({ version, project, commands, commandsFrom: from });
  });
});

describe("pilot.json of the wrong shape: errors naming the path and what was expected", () => {
  const base = { CEs: { vac01: { Site: "VAC.X.uk", GridCEType: "Vac" } }, ConfigurationServers: ["dips://cs:9135"], Defaults: { Pilot: { Version: "v1" } } };
  const with_ = (patch: object) => JSON.stringify({ ...base, ...patch });
  it.each([
    ["not JSON", "{", "pilot.json: not JSON"],
    ["a list", "[]", "pilot.json: (top level): expected an object, found a list"],
    ["CEs a list", with_({ CEs: [] }), "pilot.json: CEs: expected an object keyed by CE name, found a list"],
    ["the CE a string", with_({ CEs: { vac01: "x" } }), 'pilot.json: CEs.vac01: expected an object with Site and GridCEType, found the string "x"'],
    ["Site a number", with_({ CEs: { vac01: { Site: 3, GridCEType: "Vac" } } }), "pilot.json: CEs.vac01.Site: expected a non-empty string, found the number 3"],
    ["queue name collides with a CE key", with_({ CEs: { vac01: { Site: "S", GridCEType: "Vac", default: "x" } } }), "pilot.json: CEs.vac01.default: expected the queue's object (LocalCEType)"],
    ["no ConfigurationServers (new schema)", JSON.stringify({ CEs: base.CEs, Defaults: base.Defaults }), "pilot.json: ConfigurationServers: required by the new schema"],
    ["ConfigurationServers a string", with_({ ConfigurationServers: "dips://cs:9135" }), "read it character by character"],
    ["ConfigurationServers empty", with_({ ConfigurationServers: [] }), "pilot.json: ConfigurationServers: expected at least one configuration server URL, found an empty list"],
    ["Commands a list", with_({ Defaults: { Pilot: { Commands: ["LaunchAgent"] } } }), "pilot.json: Defaults.Pilot.Commands: expected an object keyed by GridCEType or Defaults, found a list"],
    ["a command with a space", with_({ Defaults: { Pilot: { Commands: { Vac: "Check Worker, LaunchAgent" } } } }), 'pilot.json: Defaults.Pilot.Commands.Vac: expected command names (Python class names), found "Check Worker"'],
    ["an empty command list", with_({ Defaults: { Pilot: { Commands: { Vac: [] } } } }), "pilot.json: Defaults.Pilot.Commands.Vac: expected at least one command name"],
    ["Version a list", with_({ Defaults: { Pilot: { Version: ["v1"] } } }), "pilot.json: Defaults.Pilot.Version: expected a string, found a list"],
    ["VO section a string", with_({ lhcb: "x" }), 'pilot.json: lhcb: expected an object on the option path /lhcb/Defaults/Pilot, found the string "x"'],
    ["Pilot a string", with_({ lhcb: { Pilot: "x" } }), 'pilot.json: lhcb.Pilot: expected an object of pilot options, found the string "x"'],
    ["CommandExtensions a list (new schema splits a string)", with_({ Defaults: { Pilot: { CommandExtensions: ["LHCb"] } } }), "pilot.json: Defaults.Pilot.CommandExtensions: expected a comma-separated string of command extension names, found a list"],
    ["old: Setups a list", JSON.stringify({ Setups: [] }), "pilot.json: Setups: expected an object of setups (old schema), found a list"],
    ["old: neither the setup nor Defaults", JSON.stringify({ Setups: { X: {} }, DefaultSetup: "Y", CEs: base.CEs }), 'pilot.json: Setups: has neither the setup "Y" nor Defaults'],
    ["old: no configuration server", JSON.stringify({ Setups: { Defaults: { Version: "v1" } }, CEs: base.CEs }), "pilot.json: ConfigurationServers: no configuration server"],
    ["old: Commands a string", JSON.stringify({ Setups: { Defaults: { Commands: "x", ConfigurationServer: "dips://c" } }, CEs: base.CEs }), "pilot.json: Setups.Defaults.Commands: expected an object keyed by GridCEType or Defaults"],
  ])("%s", (_name, text, message) => {
    expect(errs(checkPilotJson(text, { ce: "vac01", queue: "default", vo: "lhcb" })).join("\n")).toContain(message);
  });
});

describe("jsonPath", () => {
  it.each([
    [[], "(top level)"],
    [["CEs", "jenkins.cern.ch", "Site"], 'CEs["jenkins.cern.ch"].Site'],
    [["Setups", "DIRAC-Certification", "Commands", ""], 'Setups.DIRAC-Certification.Commands[""]'],
    [["lhcb", "a b", "x.y"], 'lhcb["a b"]["x.y"]'],
    [["lhcb", "Pilot"], "lhcb.Pilot"],
  ])("%j -> %s", (keys, text) => expect(jsonPath(keys)).toBe(text));
});
