// The metadata emulation: for one VM, what an OpenStack (Nova) metadata service and an EC2-style
// one answer, enough for the agent (context/metadata/openstack.ts and ec2.ts) and for cloud-init's
// OpenStack and Ec2 datasources (vm-e2e.md: /openstack must answer a non-empty body, meta_data.json
// needs a uuid, /latest/meta-data/ lists keys). Paths are relative to the VM's metadata base
// (`<vm_url>/metadata`), which is what `agent run --metadata-url` and cloud-init's metadata_urls take.

export interface VmMetadata {
  vmId: string;
  hostname: string;
  machinetype: string;
  availabilityZone: string;
  machinefeatures: string;
  jobfeatures: string;
  joboutputs: string;
}

export type MetadataAnswer = { kind: "user_data" } | { kind: "text"; body: string; contentType: string } | null;

const VERSION = "(latest|\\d{4}-\\d{2}-\\d{2})";
const OPENSTACK_ROOT = /^openstack\/?$/;
const OPENSTACK_VERSION = new RegExp(`^openstack/${VERSION}/?$`);
const OPENSTACK_FILE = new RegExp(`^openstack/${VERSION}/(meta_data\\.json|user_data)$`);
const EC2_USER_DATA = new RegExp(`^${VERSION}/user-data$`);
const EC2_META = new RegExp(`^${VERSION}/meta-data(/.*)?$`);
const EC2_ROOT = new RegExp(`^${VERSION}/?$`);

const EC2_KEYS = ["instance-id", "local-hostname", "hostname", "placement/availability-zone"] as const;

/** The answer for `path` (no leading slash), null for 404. */
export function metadataAnswer(path: string, vm: VmMetadata): MetadataAnswer {
  const text = (body: string, contentType = "text/plain; charset=utf-8") => ({ kind: "text" as const, body, contentType });
  if (path === "" || path === "/") return text("openstack\nlatest\n");
  if (OPENSTACK_ROOT.test(path)) return text("latest\n");
  if (OPENSTACK_VERSION.test(path)) return text("meta_data.json\nuser_data\n");
  const os = OPENSTACK_FILE.exec(path);
  if (os) return os[2] === "user_data" ? { kind: "user_data" } : text(JSON.stringify(metaDataJson(vm)), "application/json");
  if (EC2_USER_DATA.test(path)) return { kind: "user_data" };
  if (EC2_ROOT.test(path)) return text("meta-data\nuser-data\n");
  const ec2 = EC2_META.exec(path);
  if (ec2) {
    const key = (ec2[2] ?? "").replace(/^\/|\/$/g, "");
    if (key === "") return text("instance-id\nlocal-hostname\nhostname\nplacement/\n");
    if (key === "placement") return text("availability-zone\n");
    const values: Record<(typeof EC2_KEYS)[number], string> = {
      "instance-id": vm.vmId,
      "local-hostname": vm.hostname,
      hostname: vm.hostname,
      "placement/availability-zone": vm.availabilityZone,
    };
    return key in values ? text(values[key as (typeof EC2_KEYS)[number]]) : null;
  }
  return null;
}

/** Nova's meta_data.json, with the server metadata where Vcycle puts it (`meta`). */
export function metaDataJson(vm: VmMetadata): Record<string, unknown> {
  return {
    uuid: vm.vmId,
    name: vm.hostname,
    hostname: vm.hostname,
    availability_zone: vm.availabilityZone,
    launch_index: 0,
    meta: { machinetype: vm.machinetype, machinefeatures: vm.machinefeatures, jobfeatures: vm.jobfeatures, joboutputs: vm.joboutputs },
  };
}

/** A host name from a VM id: lower case, `_` as `-`, at most 63 characters. */
export const vmHostname = (machinetype: string, vmId: string): string =>
  `${machinetype}-${vmId}`.toLowerCase().replace(/_/g, "-").slice(0, 63).replace(/-+$/, "");
