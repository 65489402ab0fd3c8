// OpenStack (Nova) metadata: meta_data.json must be a JSON object; user_data is optional (404).
// Vac answers 404 to these underscore paths, so a Vac VM falls through to the EC2 provider.

import { jsonObject, statusText, type Probe } from "./probe.ts";
import { openstackValues } from "./openstack-meta.ts";
import type { Provider, ProviderOutcome } from "./provider.ts";

export function openstackProvider(baseUrl: string): Provider {
  return {
    name: "openstack",
    async probe(probe: Probe): Promise<ProviderOutcome> {
      const metaUrl = `${baseUrl}/openstack/latest/meta_data.json`;
      const meta = await probe.request("openstack", metaUrl);
      if ("error" in meta) return { reason: meta.error };
      if (meta.res.status !== 200) return { reason: `meta_data.json answered ${statusText(meta.res.status)}` };
      const doc = jsonObject(meta.res);
      if ("reason" in doc) {
        meta.attempt.outcome += `: ${doc.reason}`;
        return { reason: `meta_data.json ${doc.reason}` };
      }
      const ud = await probe.request("openstack", `${baseUrl}/openstack/latest/user_data`);
      if ("error" in ud) return { reason: `user_data: ${ud.error}` };
      if (ud.res.status !== 200 && ud.res.status !== 404) return { reason: `user_data answered ${statusText(ud.res.status)}` };
      return {
        found: {
          provider: "openstack",
          origin: baseUrl,
          userData: ud.res.status === 200 ? ud.res.body : null,
          values: openstackValues(doc.value),
          problems: [],
        },
      };
    },
  };
}
