// Google Compute Engine: every request carries `Metadata-Flavor: Google` and every genuine answer
// carries it back. An answer without it (a 403 from a server that wanted the header, a proxy, a
// captive portal) is never taken as user_data.

import { statusText, type Probe } from "./probe.ts";
import { dropUndefined } from "./openstack-meta.ts";
import type { MetadataValues, Provider, ProviderOutcome } from "./provider.ts";

const FLAVOR = { "Metadata-Flavor": "Google" };

const EXTRA: [keyof MetadataValues, string][] = [
  ["uuid", "instance/id"],
  ["hostname", "instance/hostname"],
  ["machinetype", "instance/attributes/machinetype"],
  ["machinefeatures", "instance/attributes/machinefeatures"],
  ["jobfeatures", "instance/attributes/jobfeatures"],
  ["joboutputs", "instance/attributes/joboutputs"],
];

export function gceProvider(gceBaseUrl: string): Provider {
  const url = (path: string) => `${gceBaseUrl}/computeMetadata/v1/${path}`;
  return {
    name: "gce",
    async probe(probe: Probe): Promise<ProviderOutcome> {
      const ud = await probe.request("gce", url("instance/attributes/user-data"), { headers: FLAVOR });
      if ("error" in ud) return { reason: ud.error };
      if (ud.res.headers["metadata-flavor"] !== "Google") {
        ud.attempt.outcome += ': no "Metadata-Flavor: Google" in the answer';
        return { reason: `answered ${statusText(ud.res.status)} without "Metadata-Flavor: Google": not a GCE metadata server` };
      }
      if (ud.res.status !== 200 && ud.res.status !== 404) return { reason: `user-data answered ${statusText(ud.res.status)}` };
      const answers = await Promise.all(EXTRA.map(([, path]) => probe.request("gce", url(path), { headers: FLAVOR })));
      const values: MetadataValues = {};
      answers.forEach((a, i) => {
        if ("res" in a && a.res.status === 200 && a.res.headers["metadata-flavor"] === "Google") {
          const v = a.res.text().trim();
          if (v) values[EXTRA[i]![0]] = v;
        }
      });
      return {
        found: { provider: "gce", origin: gceBaseUrl, userData: ud.res.status === 200 ? ud.res.body : null, values: dropUndefined(values), problems: [] },
      };
    },
  };
}
