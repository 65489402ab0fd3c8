import { describe, expect, it } from "vitest";
import type { Context } from "../../src/context/context.ts";
import { isMachineWide } from "../../src/plan/actions.ts";
import { candidatePaths, type IsolationFacts, type UsernsKnobs } from "../../src/isolation/probe.ts";
import type { IsolationSettings } from "../../src/isolation/settings.ts";
import { isolation, isolationFailureText, isolationHandoff, isolationProblems } from "../../src/stages/isolation.ts";
import { makeContext } from "../support/context.ts";

const OK_USERNS: UsernsKnobs = { maxUserNamespaces: 96343, unprivilegedUsernsClone: null, apparmorRestrictUnprivilegedUserns: null };

function facts(o: { executable?: string[]; userns?: Partial<UsernsKnobs>; image?: IsolationFacts["image"]; runtimePath?: string } = {}): IsolationFacts {
  const exe = o.executable ?? ["/usr/bin/apptainer"];
  return {
    candidates: candidatePaths({ path: "/usr/bin", ...(o.runtimePath ? { runtimePath: o.runtimePath } : {}) }).map((c) => ({ ...c, executable: exe.includes(c.path) })),
    userns: { ...OK_USERNS, ...o.userns },
    image: o.image === undefined ? { path: "/srv/sbx", kind: "sandbox" } : o.image,
  };
}

function ctxWith(s: Partial<IsolationSettings>, f: IsolationFacts, cvmfs: string[] = []): Context {
  const base = makeContext({ config: { accounts: { pilot_user: "vacpilot" }, cvmfs: { repositories: cvmfs } } });
  return { ...base, config: { ...base.config, isolation: s } as Context["config"], machine: { ...base.machine, isolation: f } as Context["machine"] };
}

const PROOF = {
  kind: "run-command",
  argv: ["/usr/bin/apptainer", "-s", "exec", "/srv/sbx", "/bin/true"],
  user: "vacpilot",
  timeoutMs: 120_000,
  why: "prove the container runtime (PATH) by running /bin/true in the image as the pilot user",
};

describe("isolation stage", () => {
  it("proves the runtime with the test command in the image, as the pilot user, 120 s at most", () => {
    const ctx = ctxWith({ required: true, image: "/srv/sbx" }, facts());
    expect(isolation.skip(ctx)).toBeNull();
    expect(isolationProblems(ctx)).toEqual([]);
    expect(isolation.plan(ctx)).toEqual([PROOF]);
    expect(isolationHandoff(ctx)).toEqual({ runtime: "/usr/bin/apptainer", image: "/srv/sbx" });
  });

  it("switches each knob that forbids user namespaces first, machine-wide", () => {
    const ctx = ctxWith({ image: "/srv/sbx", test_command: ["/bin/echo", "ok"] }, facts({ userns: { maxUserNamespaces: 0, unprivilegedUsernsClone: 0 } }));
    const plan = isolation.plan(ctx);
    expect(plan.map((a) => (a.kind === "run-command" ? a.argv.join(" ") : a.kind))).toEqual([
      "sysctl -w user.max_user_namespaces=15000",
      "sysctl -w kernel.unprivileged_userns_clone=1",
      "/usr/bin/apptainer -s exec /srv/sbx /bin/echo ok",
    ]);
    expect(plan.map(isMachineWide)).toEqual([true, true, false]);
    expect(plan[0]).toMatchObject({ timeoutMs: 10_000, why: "allow unprivileged user namespaces: user namespaces are disabled (user.max_user_namespaces = 0)" });
  });

  it("is the same plan with and without --root", () => {
    const a = ctxWith({ image: "/srv/sbx" }, facts());
    expect(isolation.plan({ ...a, root: "/tmp/x" })).toEqual(isolation.plan(a));
  });

  it.each([
    ["no container runtime", facts({ executable: [] }), { image: "/srv/sbx" }, "isolation.runtime_path", /^no Apptainer or Singularity found: looked for apptainer and singularity in /],
    ["a kernel without user namespaces", facts({ userns: { maxUserNamespaces: null } }), { image: "/srv/sbx" }, "user.max_user_namespaces", /^the kernel has no user namespaces/],
    ["no image configured", facts({ image: null }), {}, "isolation.image", /^no container image configured/],
    ["a missing image", facts({ image: { path: "/srv/none.sif", kind: "missing" } }), { image: "/srv/none.sif" }, "isolation.image", /^the container image \/srv\/none.sif does not exist$/],
    ["a missing configured runtime", facts({ runtimePath: "/opt/apptainer" }), { image: "/srv/sbx", runtime_path: "/opt/apptainer" }, "isolation.runtime_path", /^isolation.runtime_path \/opt\/apptainer is not an executable file$/],
  ])("%s: an error with 500 when required, a warning when optional", (_n, f, s, path, message) => {
    const required = isolationProblems(ctxWith({ ...s, required: true }, f));
    expect(required).toHaveLength(1);
    expect(required[0]).toMatchObject({ severity: "error", source: "machine", path, code: 500 });
    expect(required[0]!.message.replace("isolation is required but ", "")).toMatch(message);

    const optionalCtx = ctxWith({ ...s, required: false }, f);
    const optional = isolationProblems(optionalCtx);
    if (!("image" in s)) {
      // Neither required nor given an image: isolation is simply not configured, silently.
      expect(optional).toEqual([]);
      expect(isolation.skip(optionalCtx)).toMatch(/^not configured/);
      return;
    }
    expect(optional).toHaveLength(1);
    expect(optional[0]).toMatchObject({ severity: "warning", path });
    expect(optional[0]!.code).toBeUndefined();
    expect(optional[0]!.message).toMatch(/^isolation is optional, the payload runs without containers: /);
    expect(isolation.skip(optionalCtx)).toMatch(new RegExp(`^isolation is optional and cannot work: ${path.replaceAll(".", "\\.")}: `));
    expect(isolationHandoff(optionalCtx)).toBeNull();
  });

  it("takes OSG's Apptainer on CVMFS when oasis is configured and nothing is installed", () => {
    const ctx = ctxWith({ required: true, image: "/cvmfs/unpacked.cern.ch/registry.hub.docker.com/library/centos:7" }, facts({ executable: [], image: { path: "x", kind: "missing" } }), ["oasis.opensciencegrid.org"]);
    expect(isolationProblems(ctx)).toEqual([]);
    expect(isolation.plan(ctx)).toMatchObject([{ argv: ["/cvmfs/oasis.opensciencegrid.org/mis/apptainer/current/bin/apptainer", "-s", "exec", "/cvmfs/unpacked.cern.ch/registry.hub.docker.com/library/centos:7", "/bin/true"] }]);
  });

  it("fails with 500, fatally only when isolation is required", () => {
    expect(isolation.failure).toEqual({ code: 500, fatal: true, text: "Cannot run a container" });
    expect(isolation.fatalWhen(ctxWith({ required: true }, facts()))).toBe(true);
    expect(isolation.fatalWhen(ctxWith({}, facts()))).toBe(false);
    expect(isolationFailureText("FATAL:   could not open image /srv/x.sif: lstat /srv/x.sif: no such file or directory")).toBe("Cannot run a container: the container image /srv/x.sif does not exist");
  });
});
