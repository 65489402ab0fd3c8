import { describe, expect, it } from "vitest";
import { parseVmPath } from "../../../src/manager/vm/vm-path.ts";

const J = "/vms/example-command/vm-1/joboutputs";

describe("parseVmPath", () => {
  it.each([
    [`${J}/shutdown_message`, { section: "joboutputs", rest: "shutdown_message" }],
    [`${J}/payload-stdout.log`, { section: "joboutputs", rest: "payload-stdout.log" }],
    ["/vms/example-command/vm-1/machinefeatures/total_cpu", { section: "machinefeatures", rest: "total_cpu" }],
    ["/vms/example-command/vm-1/jobfeatures/", { section: "jobfeatures", rest: "" }],
    ["/vms/example-command/vm-1/jobfeatures", { section: "jobfeatures", rest: "" }],
    ["/vms/example-command/vm-1/metadata/openstack/latest/meta_data.json", { section: "metadata", rest: "openstack/latest/meta_data.json" }],
    ["/example/vms/example-command/vm-1/joboutputs/heartbeat", { section: "joboutputs", rest: "heartbeat" }],
  ])("%s is a route", (target, want) => {
    const r = parseVmPath(target, "/example");
    expect(r).toMatchObject({ ok: true, target: { machinetype: "example-command", vmId: "vm-1", ...want } });
  });

  it.each([
    [`${J}/../../x`, 400],
    [`${J}/a/b`, 400],
    [`${J}/`, 400],
    [`${J}`, 400],
    [`${J}/.hidden`, 400],
    [`${J}/..`, 400],
    [`${J}/%2e%2e`, 400],
    [`${J}/a%2Fb`, 400],
    [`${J}/a\u0000b`, 400],
    [`${J}/${"x".repeat(201)}`, 400],
    [`${J}/name?x=1`, 400],
    ["/vms/Example/vm-1/joboutputs/x", 404],
    ["/vms/example-command/../joboutputs/x", 404],
    ["/vms/example-command/vm%2F1/joboutputs/x", 404],
    ["/vms/example-command/vm-1/other/x", 404],
    ["/vms/example-command/vm-1/machinefeatures/a/b", 404],
    ["/vms/example-command/vm-1/metadata/openstack/../x", 404],
  ])("%j is refused with %i", (target, status) => {
    expect(parseVmPath(target)).toMatchObject({ ok: false, status });
  });

  it("other paths are not VM routes", () => {
    expect(parseVmPath("/pipes/example.pipe")).toBeNull();
    expect(parseVmPath("/vmsx/a")).toBeNull();
  });
});
