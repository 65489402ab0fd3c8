import { describe, expect, it } from "vitest";
import { hostname } from "../../src/stages/hostname.ts";
import { mjfEnvironment } from "../../src/stages/mjf-environment.ts";
import { STAGES } from "../../src/stages/index.ts";
import { planFinish } from "../../src/stages/finish.ts";
import { makeContext, T0 } from "../support/context.ts";
import { watchdog, watchdogAt } from "../../src/stages/watchdog.ts";

describe("stage list", () => {
  it("has unique ids in a fixed order", () => {
    const ids = STAGES.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(["layout", "watchdog", "context-record", "payload-config", "hostname", "metadata-lockdown", "scratch-disk", "accounts", "mjf-environment", "credentials", "cvmfs", "cvmfs-ready", "isolation", "payload"]);
  });
});

describe("hostname", () => {
  it.each([
    ["no name given", {}, "localhost", "no host name in the user_data or metadata"],
    ["same name already", { hostname: "vm1.example.org" }, "vm1.example.org", "already vm1.example.org"],
    ["a new name", { hostname: "vm1.example.org" }, "localhost", null],
  ])("%s", (_n, identity, current, reason) => {
    const ctx = makeContext({ config: { identity }, machineHostname: current });
    expect(hostname.skip(ctx)).toBe(reason);
    if (reason === null) expect(hostname.plan(ctx)).toEqual([expect.objectContaining({ kind: "set-hostname", hostname: "vm1.example.org" })]);
  });
});

describe("mjf-environment", () => {
  it("skips without locations", () => {
    expect(mjfEnvironment.skip(makeContext())).toMatch(/no Machine\/Job Features/);
  });
  it("writes shell-quoted exports", () => {
    const ctx = makeContext({ config: { mjf: { machinefeatures: "http://169.254.169.253/machinefeatures", joboutputs: "/x/it's" } } });
    const [action] = mjfEnvironment.plan(ctx);
    expect(action).toMatchObject({ kind: "write-file", path: "/etc/profile.d/vacuum-mjf.sh", mode: 0o644 });
    const contents = (action as { contents: string }).contents;
    expect(contents).toContain("export MACHINEFEATURES='http://169.254.169.253/machinefeatures'\n");
    expect(contents).toContain("export JOBOUTPUTS='/x/it'\\''s'\n");
    expect(contents).not.toContain("JOBFEATURES=");
  });
  it("never hands on URL credentials (the manager's per-VM token): the file is world-readable and payloads inherit it", () => {
    const ctx = makeContext({ config: { mjf: { joboutputs: "http://vm:s3cr3t-token@169.254.169.253/vms/mt/vm1/joboutputs" } } });
    const contents = (mjfEnvironment.plan(ctx)[0] as { contents: string }).contents;
    expect(contents).toContain("export JOBOUTPUTS='http://169.254.169.253/vms/mt/vm1/joboutputs'\n");
    expect(contents).not.toContain("s3cr3t");
  });
});

describe("finish", () => {
  it("writes a one-line shutdown_message then powers off", () => {
    const actions = planFinish(makeContext(), { code: 500, text: "No scratch\ndisk" });
    expect(actions.map((a) => a.kind)).toEqual(["mkdir", "stage-joboutputs", "write-file", "power-off"]);
    expect(actions[2]).toMatchObject({ path: "/var/spool/joboutputs/shutdown_message", contents: "500 No scratch disk" });
  });
  it.each([
    ["no $JOBOUTPUTS", undefined, {}, null],
    ["the spool itself", "/var/spool/joboutputs/", {}, null],
    ["Vac over HTTP", "http://169.254.169.253/joboutputs", {}, null],
    ["Vcycle with the proxy", "https://vcycle.example/machines/s/m/joboutputs", { x509_proxy: "-----BEGIN CERTIFICATE-----" }, "x509_proxy"],
    ["Vcycle with a host certificate", "https://vcycle.example/machines/s/m/joboutputs", { hostcert: "c", hostkey: "k" }, "hostcert"],
  ])("uploads to $JOBOUTPUTS, the message last: %s", (_n, joboutputs, credentials, cert) => {
    const actions = planFinish(makeContext({ config: { mjf: joboutputs ? { joboutputs } : {}, credentials } }), { code: 200, text: "ok" });
    const upload = actions.find((a) => a.kind === "upload-joboutputs");
    if (!joboutputs || joboutputs.startsWith("/")) return expect(upload).toBeUndefined();
    expect(upload).toMatchObject({ to: joboutputs, last: ["shutdown_message"], clientCertificate: cert });
    expect(actions.map((a) => a.kind).slice(-3)).toEqual(["write-file", "upload-joboutputs", "power-off"]);
  });

  it("also uploads to the manager, with its token in the URL and no client certificate, before the power-off", () => {
    const url = "http://vm:tok3n@127.0.0.1:8080/vms/mt/vm1/joboutputs/";
    const actions = planFinish(makeContext({ config: { mjf: { joboutputs: "https://vcycle.example/j" }, manager: { joboutputs_url: url }, credentials: { x509_proxy: "-----BEGIN CERTIFICATE-----" } } }), { code: 200, text: "ok" });
    const uploads = actions.filter((a) => a.kind === "upload-joboutputs");
    expect(uploads.map((u) => [u.to, u.clientCertificate])).toEqual([
      ["https://vcycle.example/j", "x509_proxy"],
      ["http://vm:tok3n@127.0.0.1:8080/vms/mt/vm1/joboutputs", null],
    ]);
    expect(actions.at(-1)?.kind).toBe("power-off");
  });

  it("manager.token becomes the manager URL's credentials", () => {
    const actions = planFinish(makeContext({ config: { manager: { joboutputs_url: "https://m.example/vms/mt/vm1/joboutputs/", token: "t/k+n" } } }), { code: 200, text: "ok" });
    expect(actions.find((a) => a.kind === "upload-joboutputs")).toMatchObject({ to: "https://vm:t%2Fk%2Bn@m.example/vms/mt/vm1/joboutputs" });
  });

  it("does not power off when lifecycle.power_off is false", () => {
    const actions = planFinish(makeContext({ config: { lifecycle: { power_off: false } } }), { code: 200, text: "ok" });
    expect(actions.some((a) => a.kind === "power-off")).toBe(false);
  });
});

describe("watchdog", () => {
  it.each([
    ["no deadline", null, true, "no deadline known"],
    ["power_off false", T0 + 3600, false, "lifecycle.power_off is false"],
    ["a deadline", T0 + 3600, true, null],
  ])("%s", (_n, deadline, powerOff, reason) => {
    const ctx = makeContext({ deadline: { deadline, effective: deadline }, config: { lifecycle: { power_off: powerOff } } });
    expect(watchdog.skip(ctx)).toBe(reason);
  });
  it.each([
    ["an hour ahead: a minute before it", T0 + 3600, T0 + 3540],
    ["already passed: soon after the start", T0 - 100, T0 + 10],
  ])("fires %s", (_n, deadline, at) => {
    expect(watchdogAt(makeContext({ deadline: { deadline, effective: deadline } }))).toBe(at);
    expect(watchdog.plan(makeContext({ deadline: { deadline, effective: deadline } }))[0]).toMatchObject({ kind: "start-watchdog", at, message: expect.stringMatching(/^700 /) });
  });
});
