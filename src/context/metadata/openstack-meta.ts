// OpenStack's meta_data.json and Vac's meta-data.json share one shape: top-level uuid, hostname,
// name, availability_zone, and the server metadata under `meta` (where Vcycle and Vac put the
// machinetype and the MJF/joboutputs URLs).

import type { MetadataValues } from "./provider.ts";

const text = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

export function openstackValues(doc: Record<string, unknown>): MetadataValues {
  const meta = (doc.meta && typeof doc.meta === "object" ? doc.meta : {}) as Record<string, unknown>;
  const values: MetadataValues = {
    uuid: text(doc.uuid),
    hostname: text(doc.hostname),
    name: text(doc.name),
    availabilityZone: text(doc.availability_zone),
    machinetype: text(meta.machinetype),
    machinefeatures: text(meta.machinefeatures),
    jobfeatures: text(meta.jobfeatures),
    joboutputs: text(meta.joboutputs),
  };
  return dropUndefined(values);
}

export function dropUndefined(values: MetadataValues): MetadataValues {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as MetadataValues;
}
