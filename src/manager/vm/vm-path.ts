// The VM-facing request targets, parsed from the raw target (before any URL normalisation, so
// `/joboutputs/../x` or `%2e%2e` is refused rather than resolved somewhere else):
//   /vms/<machinetype>/<vm-id>/joboutputs/<name>        PUT: a job output or a heartbeat
//   /vms/<machinetype>/<vm-id>/machinefeatures[/<key>]  GET: MJF (TN02), a listing without a key
//   /vms/<machinetype>/<vm-id>/jobfeatures[/<key>]
//   /vms/<machinetype>/<vm-id>/metadata/<path>          GET: OpenStack/EC2 metadata emulation
// <machinetype> is the manager's `<pipe>-<suffix>`. Names are flat ([A-Za-z0-9._-], no leading
// dot, at most 200 characters): the same rule as the agent's (output-name.ts).

import { isFlatName, MAX_NAME_LENGTH } from "../../lifecycle/joboutputs/output-name.ts";
import { VM_ID } from "./vm-token.ts";

export type VmSection = "joboutputs" | "machinefeatures" | "jobfeatures" | "metadata";

export interface VmTarget {
  machinetype: string;
  vmId: string;
  section: VmSection;
  /** joboutputs: the file name; MJF: the key or "" for the listing; metadata: the path after metadata/. */
  rest: string;
}

export type VmPath = { ok: true; target: VmTarget } | { ok: false; status: 400 | 404; why: string } | null;

const MACHINETYPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MJF_KEY = /^[A-Za-z0-9_]{1,64}$/;
const SECTIONS: ReadonlySet<string> = new Set(["joboutputs", "machinefeatures", "jobfeatures", "metadata"]);

/** Null when the target is not under `<prefix>/vms/`; otherwise the route or why it is refused. */
export function parseVmPath(rawTarget: string, prefix = ""): VmPath {
  const q = rawTarget.indexOf("?");
  const path = q < 0 ? rawTarget : rawTarget.slice(0, q);
  // Checked without building strings: this runs for every request the manager answers.
  let start: number;
  if (path.startsWith("/vms/")) start = 5;
  else if (prefix && path.startsWith(prefix) && path.startsWith("/vms/", prefix.length)) start = prefix.length + 5;
  else return null;
  if (q >= 0) return { ok: false, status: 400, why: "a query string" };
  const parts = path.slice(start).split("/");
  const [machinetype = "", vmId = "", section = "", ...rest] = parts;
  if (!MACHINETYPE.test(machinetype)) return { ok: false, status: 404, why: "not a machinetype name" };
  if (!VM_ID.test(vmId)) return { ok: false, status: 404, why: "not a VM id" };
  if (!SECTIONS.has(section)) return { ok: false, status: 404, why: "no such VM resource" };
  const target = (r: string): VmPath => ({ ok: true, target: { machinetype, vmId, section: section as VmSection, rest: r } });
  switch (section) {
    case "joboutputs": {
      if (rest.length !== 1) return { ok: false, status: 400, why: rest.length === 0 ? "no file name" : "a '/' in the file name" };
      const name = rest[0]!;
      if (name.length > MAX_NAME_LENGTH) return { ok: false, status: 400, why: `a file name longer than ${MAX_NAME_LENGTH}` };
      if (!isFlatName(name)) return { ok: false, status: 400, why: "not a flat file name ([A-Za-z0-9._-], no leading dot)" };
      return target(name);
    }
    case "machinefeatures":
    case "jobfeatures": {
      if (rest.length === 0 || (rest.length === 1 && rest[0] === "")) return target("");
      if (rest.length !== 1 || !MJF_KEY.test(rest[0]!)) return { ok: false, status: 404, why: "not a key name" };
      return target(rest[0]!);
    }
    default: {
      const sub = rest.join("/");
      if (rest.some((r) => r === "." || r === ".." || r.includes("%"))) return { ok: false, status: 404, why: "not a metadata path" };
      return target(sub);
    }
  }
}
