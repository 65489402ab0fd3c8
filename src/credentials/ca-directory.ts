// Which CA directory the payload is told about ($X509_CERT_DIR): credentials.ca_dir when it exists
// on the machine, else the one CVMFS publishes once grid.cern.ch is mounted (DIRAC VMs use it).

import type { Context } from "../context/context.ts";
import { caDirFacts } from "../stages/credentials.ts";

export const CVMFS_CA_DIR = "/cvmfs/grid.cern.ch/etc/grid-security/certificates";

export function payloadCaDirectory(ctx: Context): { path: string; why: string } | null {
  const configured = ctx.config.credentials.ca_dir;
  if (caDirFacts(ctx).exists) return { path: configured, why: "credentials.ca_dir exists" };
  if ((ctx.config.cvmfs.repositories ?? []).includes("grid.cern.ch")) return { path: CVMFS_CA_DIR, why: `${configured} is missing; grid.cern.ch is mounted by CVMFS` };
  return null;
}
