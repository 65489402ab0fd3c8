// What Vac and Vcycle fill by themselves when they render (manager render --manager).
import { describe, expect, it } from "vitest";
import { profileValues } from "../../src/manager/render-profile.ts";

const uuid = (): string => "11111111-2222-4333-8444-555555555555";

describe("profileValues", () => {
  it("vac: a uuid and the factory's MJF URLs, never heartbeat_machines_url", () => {
    const r = profileValues("vac", { space: "s", heartbeat_machines_url: "https://x" }, uuid);
    expect(r.values).toEqual({
      space: "s",
      uuid: uuid(),
      machinefeatures_url: "http://169.254.169.253/machinefeatures",
      jobfeatures_url: "http://169.254.169.253/jobfeatures",
      joboutputs_url: "http://169.254.169.253/joboutputs",
    });
    expect(r.problems).toEqual([expect.objectContaining({ path: "values.heartbeat_machines_url", severity: "warning" })]);
  });

  it("vac: values given on the command line win", () => {
    expect(profileValues("vac", { uuid: "u", joboutputs_url: "http://j" }, uuid).values).toMatchObject({ uuid: "u", joboutputs_url: "http://j" });
  });

  it("vcycle: no uuid, MJF URLs under https://<host>:443/machines/<space>/<machine>", () => {
    const r = profileValues("vcycle", { uuid: "u", space: "sp", machine_hostname: "vcycle-mt-abcdefghij", manager_hostname: "vcycle.example.org" }, uuid);
    expect(r.values).toEqual({
      space: "sp",
      machine_hostname: "vcycle-mt-abcdefghij",
      manager_hostname: "vcycle.example.org",
      machinefeatures_url: "https://vcycle.example.org:443/machines/sp/vcycle-mt-abcdefghij/machinefeatures",
      jobfeatures_url: "https://vcycle.example.org:443/machines/sp/vcycle-mt-abcdefghij/jobfeatures",
      joboutputs_url: "https://vcycle.example.org:443/machines/sp/vcycle-mt-abcdefghij/joboutputs",
      heartbeat_machines_url: "https://vcycle.example.org:443/heartbeatlists/sp",
    });
    expect(r.problems).toEqual([expect.objectContaining({ path: "values.uuid" })]);
  });

  it("vcycle: without a host name no URL is invented", () => {
    expect(profileValues("vcycle", { space: "sp" }, uuid).values).toEqual({ space: "sp" });
  });
});
