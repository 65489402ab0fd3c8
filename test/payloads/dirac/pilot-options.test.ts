import { describe, expect, it } from "vitest";
import { checkExtraOptions, parsePilotArgv, PILOT_OPTIONS, splitShellWords } from "../../../src/payloads/dirac/pilot-options.ts";

describe("the pilot's option table", () => {
  it("has every short letter once and the pilot's flags without values", () => {
    const shorts = PILOT_OPTIONS.flatMap((o) => (o.short ? [o.short] : []));
    expect(new Set(shorts).size).toBe(shorts.length);
    expect(PILOT_OPTIONS.filter((o) => !o.value).map((o) => o.long).sort()).toEqual(["cert", "debug", "help", "keepPP", "pilotLogging"]);
    expect(PILOT_OPTIONS).toHaveLength(48);
  });
});

describe("splitShellWords", () => {
  it.each([
    ["", []],
    ["  --debug   -k ", ["--debug", "-k"]],
    ["--option='/A/B=c d'", ["--option=/A/B=c d"]],
    ['--option="/A/B=\\"q\\" $HOME"', ['--option=/A/B="q" $HOME']],
    ["-o /A/B=c\\ d", ["-o", "/A/B=c d"]],
    ["--userEnvVariables=A:::1,B:::2", ["--userEnvVariables=A:::1,B:::2"]],
    ["''", [""]],
  ])("%j", (text, words) => expect(splitShellWords(text)).toEqual({ ok: true, words }));

  it.each([["--option='x"], ['--option="x']])("unterminated quote in %j", (text) => {
    expect(splitShellWords(text)).toMatchObject({ ok: false, error: expect.stringMatching(/^unterminated/) });
  });
});

describe("parsePilotArgv mirrors Python's getopt", () => {
  it.each([
    ["exact long with =", ["--release=v8r0"], [["release", "v8r0"]]],
    ["long with separate value", ["--release", "v8r0"], [["release", "v8r0"]]],
    ["unique prefix", ["--rel=v8"], [["release", "v8"]]],
    ["case matters: --name is the site, --Name the CE", ["--name=S", "--Name=C"], [["name", "S"], ["Name", "C"]]],
    ["short cluster", ["-dk"], [["debug", null], ["keepPP", null]]],
    ["short value attached", ["-rv8r0"], [["release", "v8r0"]]],
    ["short value separate", ["-r", "v8r0"], [["release", "v8r0"]]],
    ["flag then valued short in one cluster", ["-do", "/A=b"], [["debug", null], ["option", "/A=b"]]],
    ["-K parses (and the pilot ignores it)", ["-K", "/x"], [["certLocation", "/x"]]],
  ])("%s", (_n, argv, expected) => {
    const r = parsePilotArgv(argv);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.options.map((o) => [o.option.long, o.value])).toEqual(expected);
  });

  it.each([
    [["--pythonVersion=3"], "option --pythonVersion not recognized"],
    [["-V", "x"], "option -V not recognized"],
    [["--pilot=x"], "option --pilot not a unique prefix"],
    [["--debug=1"], "option --debug must not have an argument"],
    [["--release"], "option --release requires argument"],
    [["-r"], "option -r requires argument"],
  ])("%j fails: %s", (argv, error) => {
    const r = parsePilotArgv(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(error);
  });

  it("stops at the first non-option, like getopt.getopt", () => {
    const r = parsePilotArgv(["--debug", "stray", "--keepPP"]);
    expect(r).toMatchObject({ ok: true, rest: ["stray", "--keepPP"] });
  });
});

describe("checkExtraOptions (##user_data_option_dirac_opts##)", () => {
  it.each([
    ["empty", "", []],
    ["long options kept", "--debug --release=v8r0p1", ["--debug", "--release=v8r0p1"]],
    ["short forms rewritten to long", "-d -r v8r0 -l LHCb -o /Resources/Computing/CEDefaults/X=1", ["--debug", "--release=v8r0", "--project=LHCb", "--option=/Resources/Computing/CEDefaults/X=1"]],
    ["abbreviated long option completed", "--rel v8 --pilotUUID=abc", ["--release=v8", "--pilotUUID=abc"]],
    ["quoted value", "--userEnvVariables='A:::x,B:::y' --commandOptions=a=1,b=2", ["--userEnvVariables=A:::x,B:::y", "--commandOptions=a=1,b=2"]],
    ["-o with a quoted space", '-o "/LocalSite/Tag=a b"', ["--option=/LocalSite/Tag=a b"]],
  ])("%s", (_n, text, argv) => {
    expect(checkExtraOptions(text)).toMatchObject({ errors: [], argv });
  });

  it.each([
    ["--pythonVersion=3", "--pythonVersion=3: not an option of today's dirac-pilot.py: removed"],
    ["-V Production", "-V: not an option of today's dirac-pilot.py"],
    ["--frobnicate", "option --frobnicate not recognized"],
    ["--Name=x", "--Name=x: set by the agent from the agent (the space"],
    ["-N x", "-N x: set by the agent"],
    ["-n LCG.X.uk", "-n LCG.X.uk: set by the agent from payload.dirac.site"],
    ["--Queue=q", "payload.dirac.queue"],
    ["--cert", "--cert: set by the agent"],
    ["-K /x", "-K /x: set by the agent"],
    ["--certLocation=/x", "set by the agent"],
    ["--MaxCycles=5", "payload.dirac.max_cycles"],
    ["-y Pool", "-y Pool: set by the agent"],
    ["--wnVO=lhcb", "payload.dirac.vo"],
    ["-P 8", "-P 8: set by the agent"],
    ["-S Production", "payload.dirac.setup"],
    ["-F other.json", "-F other.json: set by the agent"],
    ["--StopAfterFailedMatches=3", "payload.dirac.stop_after_failed_matches"],
    ["-o /LocalSite/SubmitPool=Prod", "payload.dirac.submit_pool"],
    ["--commandOptions=a=1,b", 'found "b" (dirac-pilot.py crashes'],
    ["-m lots", "-m lots: expected an integer"],
    ["-o novalue", "expected /Path/Option=value"],
    ["--debug stray --keepPP", '"stray" is not an option'],
    ["--option='x", "unterminated ' quote"],
  ])("%j is refused: %s", (text, message) => {
    const r = checkExtraOptions(text);
    expect(r.errors.join("\n")).toContain(message);
  });

  it.each([
    ["-h", "-h: accepted and ignored"],
    ["--disk=lots", "keeps 2560 MB"],
    ["--userEnvVariables='A:::a b'", "removes every space"],
    ["-e LHCbDIRAC", "VO extension commands only"],
    ["-x /bin/true", "replaces the JobAgent"],
  ])("%j warns: %s", (text, message) => {
    const r = checkExtraOptions(text);
    expect(r.errors).toEqual([]);
    expect(r.warnings.join("\n")).toContain(message);
  });
});
