// A served copy of a user_data template: {{vacuum.*}} filled for one VM (placeholders.ts). The
// per-VM names need a VM id and its token, so they are filled only when `vm` is given; the others
// (manager_url, machinetype, agent_url, agent_sha256) need only the definition.

import type { Content, Entry } from "../serve/content.ts";
import { baseUrlOf } from "../pipe-build.ts";
import { fillPlaceholders } from "./placeholders.ts";

export interface CopyVm {
  vmId: string;
  token: string;
}

/** The VM-facing base URL: the definition's manager_url, else where the request was sent. */
export const managerUrlOf = (content: Content, origin: string): string => (content.definition?.manager_url ?? origin).replace(/\/+$/, "");

export function templateCopy(content: Content, entry: Entry, origin: string, vm: CopyVm | null): Uint8Array {
  const mt = entry.machinetype ?? "";
  const manager = managerUrlOf(content, origin);
  const vmUrl = vm ? `${manager}/vms/${mt}/${vm.vmId}` : undefined;
  const base = content.definition ? baseUrlOf(content.definition) : manager;
  const firstAgent = content.agents.keys().next().value as string | undefined;
  const value = (name: string, agent: string | null): string | undefined => {
    switch (name) {
      case "vm_id":
        return vm?.vmId;
      case "vm_token":
        return vm?.token;
      case "machinetype":
        return mt;
      case "manager_url":
        return manager;
      case "vm_url":
        return vmUrl;
      case "joboutputs_url":
      case "machinefeatures_url":
      case "jobfeatures_url":
        return vmUrl && `${vmUrl}/${name.replace(/_url$/, "")}`;
      case "agent_url":
      case "agent_sha256": {
        const a = content.agents.get(agent ?? firstAgent ?? "");
        if (!a) return undefined;
        return name === "agent_url" ? `${base}/agents/${a.name}` : a.sha256;
      }
      default:
        return undefined;
    }
  };
  return Buffer.from(fillPlaceholders(Buffer.from(entry.bytes).toString("latin1"), value), "latin1");
}
