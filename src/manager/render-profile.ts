// `manager render --manager vac|vcycle`: the values each implementation really has when it renders
// (vacuum-platform.md sections 1.2 and 3.2), filled in where the command line leaves them out, and
// the ones it never fills taken away.

import type { RenderProblem } from "./render.ts";
import type { SubstitutionName } from "./substitution.ts";

export type ManagerKind = "vac" | "vcycle";
export const MANAGER_KINDS: readonly ManagerKind[] = ["vac", "vcycle"];

type Values = Partial<Record<SubstitutionName, string>>;

const VAC_FACTORY = "http://169.254.169.253";

export function profileValues(kind: ManagerKind, given: Values, randomUuid: () => string): { values: Values; problems: RenderProblem[] } {
  const values: Values = { ...given };
  const problems: RenderProblem[] = [];
  const drop = (name: SubstitutionName, why: string): void => {
    if (values[name] === undefined) return;
    delete values[name];
    problems.push({ path: `values.${name}`, severity: "warning", message: `${why}: ignored` });
  };
  if (kind === "vac") {
    drop("heartbeat_machines_url", "Vac never fills ##user_data_heartbeat_machines_url##");
    // Vac 03.00: a random uuid4, also written to $JOBFEATURES/job_id.
    values.uuid ??= randomUuid();
    values.machinefeatures_url ??= `${VAC_FACTORY}/machinefeatures`;
    values.jobfeatures_url ??= `${VAC_FACTORY}/jobfeatures`;
    values.joboutputs_url ??= `${VAC_FACTORY}/joboutputs`;
    return { values, problems };
  }
  drop("uuid", "Vcycle never fills ##user_data_uuid## (the UUID is only known after the cloud call)");
  // Vcycle: https://<https_host>:<https_port>/machines/<space>/<machine>/…, https_host defaulting
  // to its own host name and port 443 always written.
  const host = values.manager_hostname;
  if (host && values.space) {
    if (values.machine_hostname) {
      const base = `https://${host}:443/machines/${values.space}/${values.machine_hostname}`;
      values.machinefeatures_url ??= `${base}/machinefeatures`;
      values.jobfeatures_url ??= `${base}/jobfeatures`;
      values.joboutputs_url ??= `${base}/joboutputs`;
    }
    values.heartbeat_machines_url ??= `https://${host}:443/heartbeatlists/${values.space}`;
  }
  return { values, problems };
}
