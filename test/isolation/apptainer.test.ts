// The real Apptainer 1.4.5 (Debian sid, in the chroot of scripts/chroot-apptainer.sh, entered with
// pivot_root): the stage's own plan, probed from that chroot, is run there as root and as the
// pilot user (uid 2001, unprivileged user namespace), with good and bad input.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Context } from "../../src/context/context.ts";
import { probeIsolation } from "../../src/isolation/probe.ts";
import type { IsolationSettings } from "../../src/isolation/settings.ts";
import type { RunCommandAction } from "../../src/plan/actions.ts";
import { isolation, isolationFailureText, isolationProblems } from "../../src/stages/isolation.ts";
import { makeContext } from "../support/context.ts";
import { prepareApptainerChroot, runActionsInChroot, type ApptainerChroot } from "../support/apptainer-chroot.ts";

const prepared = prepareApptainerChroot();
if (prepared.skip !== null) console.warn(`test/isolation/apptainer.test.ts skipped: ${prepared.skip}`);
const chroot = prepared.chroot as ApptainerChroot;

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A /proc/sys tree as a kernel with these knobs would show it. */
function procTree(maxUserNamespaces: string): string {
  const d = mkdtempSync(join(tmpdir(), "isolation-proc-"));
  temps.push(d);
  mkdirSync(join(d, "proc/sys/user"), { recursive: true });
  writeFileSync(join(d, "proc/sys/user/max_user_namespaces"), maxUserNamespaces);
  return d;
}

/** The Context a real run in the chroot would have: probed under --root <chroot>, /proc as given. */
function ctxFor(s: Partial<IsolationSettings>, pilot: string, procRoot = "/"): Context {
  const base = makeContext({ config: { accounts: { pilot_user: pilot } }, root: chroot.dir });
  const facts = probeIsolation({ root: chroot.dir, procRoot, path: "/usr/bin", ...(s.image ? { image: s.image } : {}) });
  return { ...base, config: { ...base.config, isolation: s } as Context["config"], machine: { ...base.machine, isolation: facts } as Context["machine"] };
}

const commands = (ctx: Context): RunCommandAction[] => isolation.plan(ctx).filter((a): a is RunCommandAction => a.kind === "run-command");

describe.skipIf(prepared.skip !== null)("isolation with the real Apptainer (sid chroot, pivot_root)", () => {
  it.each([
    ["root, sandbox directory", "root", "/srv/sbx"],
    ["root, SIF", "root", "/srv/x.sif"],
    ["the pilot user, sandbox directory", "vacpilot", "/srv/sbx"],
    ["the pilot user, SIF", "vacpilot", "/srv/x.sif"],
  ])("proves the runtime as %s", (_n, pilot, image) => {
    const ctx = ctxFor({ required: true, image, test_command: ["/bin/sh", "-c", "id -u; cat /proc/self/uid_map"] }, pilot);
    expect(isolationProblems(ctx)).toEqual([]);
    const plan = commands(ctx);
    expect(plan.map((a) => a.argv[0])).toEqual(["/usr/bin/apptainer"]);
    const r = runActionsInChroot(chroot, plan);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    // The pilot runs as itself inside its own user namespace (uid_map "2001 2001 1"), root as root.
    const [uid, map] = r.stdout.trim().split("\n");
    expect(uid).toBe(pilot === "root" ? "0" : "2001");
    expect(map!.trim().split(/\s+/)).toEqual(pilot === "root" ? ["0", "0", "4294967295"] : ["2001", "2001", "1"]);
  });

  it("runs the default /bin/true and a failing command is a failure", () => {
    expect(runActionsInChroot(chroot, commands(ctxFor({ image: "/srv/sbx" }, "vacpilot")))).toMatchObject({ exitCode: 0, failedAt: null });
    const r = runActionsInChroot(chroot, commands(ctxFor({ image: "/srv/sbx", test_command: ["/bin/false"] }, "vacpilot")));
    expect(r).toMatchObject({ exitCode: 1, failedAt: 0 });
  });

  it("a missing image: refused before any stage, and Apptainer's own failure is explained", () => {
    const ctx = ctxFor({ required: true, image: "/srv/nope.sif" }, "vacpilot");
    expect(isolationProblems(ctx)).toEqual([
      { severity: "error", source: "machine", path: "isolation.image", message: "isolation is required but the container image /srv/nope.sif does not exist", code: 500 },
    ]);
    // Had it vanished after the probe, the proof fails with Apptainer's FATAL line, made clear.
    const r = runActionsInChroot(chroot, [{ kind: "run-command", argv: ["/usr/bin/apptainer", "-s", "exec", "/srv/nope.sif", "/bin/true"], user: "vacpilot", timeoutMs: 120_000, why: "t" }]);
    expect(r.exitCode).not.toBe(0);
    expect(isolationFailureText(r.stderr)).toBe("Cannot run a container: the container image /srv/nope.sif does not exist");
  });

  it("user namespaces disabled (max_user_namespaces = 0): the pilot cannot start a container, with a clear failure", () => {
    // Planned as if the knob were fine: the proof alone meets the disabled kernel.
    const r = runActionsInChroot(chroot, commands(ctxFor({ image: "/srv/sbx" }, "vacpilot")), { usernsDisabled: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.failedAt).toBe(0);
    expect(r.stderr).toContain("maximum number of user namespaces exceeded");
    expect(isolationFailureText(r.stderr)).toBe(
      "Cannot run a container: unprivileged user namespaces are disabled (user.max_user_namespaces, kernel.unprivileged_userns_clone)",
    );
  });

  it("user namespaces disabled: the planned sysctl enables them and the proof then succeeds", () => {
    const ctx = ctxFor({ required: true, image: "/srv/sbx" }, "vacpilot", procTree("0\n"));
    const plan = commands(ctx);
    expect(plan.map((a) => a.argv.join(" "))).toEqual(["sysctl -w user.max_user_namespaces=15000", "/usr/bin/apptainer -s exec /srv/sbx /bin/true"]);
    const r = runActionsInChroot(chroot, plan, { usernsDisabled: true });
    expect(r.stderr).toBe("");
    expect(r).toMatchObject({ exitCode: 0, failedAt: null, stdout: "user.max_user_namespaces = 15000\n" });
  });
});
