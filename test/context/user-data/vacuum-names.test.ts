import { describe, expect, it } from "vitest";
import { lookupVacuumName, VACUUM_NAMES } from "../../../src/context/user-data/vacuum-names.ts";

describe("VACUUM_NAMES", () => {
  it.each([
    ["user_data_url", "identity.user_data_url"],
    ["user_data_site", "identity.site"],
    ["user_data_space", "identity.space"],
    ["user_data_machinetype", "identity.machinetype"],
    ["user_data_machine_hostname", "identity.hostname"],
    ["user_data_manager_version", "identity.manager_version"],
    ["user_data_manager_hostname", "identity.manager_hostname"],
    ["user_data_machinefeatures_url", "mjf.machinefeatures"],
    ["user_data_jobfeatures_url", "mjf.jobfeatures"],
    ["user_data_joboutputs_url", "mjf.joboutputs"],
    ["user_data_root_image_url", "identity.root_image_url"],
    ["user_data_heartbeat_machines_url", "mjf.heartbeat_machines_url"],
    ["user_data_uuid", "identity.uuid"],
    ["user_data_vmtype", "identity.machinetype"],
    ["user_data_vm_hostname", "identity.hostname"],
    ["user_data_vmlm_version", "identity.manager_version"],
    ["user_data_vmlm_hostname", "identity.manager_hostname"],
    ["user_data_manager_machinefeatures_url", "mjf.machinefeatures"],
    ["user_data_manager_jobfeatures_url", "mjf.jobfeatures"],
    ["user_data_manager_joboutputs_url", "mjf.joboutputs"],
    ["user_data_option_x509_proxy", "credentials.x509_proxy"],
    ["user_data_option_hostcert", "credentials.hostcert"],
    ["user_data_file_hostcert", "credentials.hostcert"],
    ["user_data_option_hostkey", "credentials.hostkey"],
    ["user_data_file_hostkey", "credentials.hostkey"],
    ["user_data_option_cvmfs_proxy", "cvmfs.http_proxy"],
    ["user_data_option_dirac_pilot_url", "payload.dirac.pilot_url"],
    ["user_data_option_dirac_queue", "payload.dirac.queue"],
    ["user_data_option_dirac_opts", "payload.dirac.extra_options"],
    ["user_data_option_submit_pool", "payload.dirac.submit_pool"],
    ["user_data_option_vo", "payload.dirac.vo"],
    ["user_data_option_network_offload", "host.network_offload"],
    ["user_data_option_condor_host", "payload.htcondor.collector"],
    ["user_data_option_pool_password_base64", "payload.htcondor.pool_password_base64"],
    ["user_data_option_uid_domain", "payload.htcondor.uid_domain"],
    ["user_data_option_condor_idtoken", "payload.htcondor.idtoken"],
  ])("%s -> %s", (name, configPath) => {
    expect(VACUUM_NAMES.find((n) => n.name === name)?.configPath).toBe(configPath);
    expect(lookupVacuumName(name)?.configPath).toBe(configPath);
  });

  it("marks secrets, multi-line values, old names and names nobody fills", () => {
    const names = (pick: (n: (typeof VACUUM_NAMES)[number]) => unknown) => VACUUM_NAMES.filter(pick).map((n) => n.name).filter((n) => !n.startsWith("user_data_file_"));
    expect(names((n) => n.secret)).toEqual(["user_data_option_x509_proxy", "user_data_option_hostkey", "user_data_option_pool_password_base64", "user_data_option_condor_idtoken"]);
    expect(names((n) => n.multiLine)).toEqual(["user_data_option_x509_proxy", "user_data_option_hostcert", "user_data_option_hostkey", "user_data_option_condor_idtoken"]);
    expect(Object.fromEntries(VACUUM_NAMES.filter((n) => n.deprecated && !n.name.startsWith("user_data_file_")).map((n) => [n.name, n.deprecated]))).toEqual({
      user_data_vmtype: "user_data_machinetype",
      user_data_vm_hostname: "user_data_machine_hostname",
      user_data_vmlm_version: "user_data_manager_version",
      user_data_vmlm_hostname: "user_data_manager_hostname",
    });
    expect(names((n) => n.neverFilled)).toEqual(["user_data_manager_machinefeatures_url", "user_data_manager_jobfeatures_url", "user_data_manager_joboutputs_url"]);
    expect(lookupVacuumName("user_data_file_hostkey")).toMatchObject({ secret: true, multiLine: true, deprecated: "user_data_option_hostkey" });
    expect(new Set(VACUUM_NAMES.map((n) => n.name)).size).toBe(VACUUM_NAMES.length);
  });
});

describe("lookupVacuumName", () => {
  it.each([
    ["##user_data_space##", { name: "user_data_space", configPath: "identity.space" }],
    ["user_data_option_my_setting", { name: "user_data_option_my_setting", configPath: "options.my_setting" }],
    ["user_data_file_motd", { name: "user_data_file_motd", configPath: "options.motd", deprecated: "user_data_option_motd" }],
  ])("%s", (name, row) => expect(lookupVacuumName(name)).toMatchObject(row));

  it.each(["user_data_foo", "user_data_option_Upper", "user_data_option_", "user_data_file_a-b", "user_data_Space", "space", "##user_data_##"])(
    "%s is not a name Vac or Vcycle fills",
    (name) => expect(lookupVacuumName(name)).toBeNull(),
  );

  it("computed rows for unknown X are not secret", () => {
    expect(lookupVacuumName("user_data_option_token")?.secret).toBeUndefined();
  });
});
