// Publish-time placeholders: `{{vacuum.NAME}}` in a user_data template is filled by `manager
// serve` in each copy it sends, before Vac or Vcycle apply their own ##user_data_*## patterns
// (which this syntax cannot collide with, and which step 9 of their renderer would delete).
// Per-VM names give every copy a fresh VM id and its token; a static export cannot, so `manager
// export` refuses a template that uses them.

export const PLACEHOLDER = /\{\{vacuum\.([a-z0-9_]+)(?:\.([A-Za-z0-9_-]+))?\}\}/g;

export interface PlaceholderInfo {
  name: string;
  perVm: boolean;
  /** Takes `.AGENT` (a name under the definition's `agents`). */
  perAgent?: boolean;
  meaning: string;
}

export const PLACEHOLDERS: readonly PlaceholderInfo[] = [
  { name: "vm_id", perVm: true, meaning: "the VM id this copy was made for (20 hex digits)" },
  { name: "vm_token", perVm: true, meaning: "the VM's token: Authorization: Bearer <token>, or the password of https://vm:<token>@…" },
  { name: "machinetype", perVm: false, meaning: "the manager's name of the machinetype, <pipe>-<suffix>" },
  { name: "manager_url", perVm: false, meaning: "the manager's VM-facing base URL" },
  { name: "vm_url", perVm: true, meaning: "<manager_url>/vms/<machinetype>/<vm_id>" },
  { name: "joboutputs_url", perVm: true, meaning: "<vm_url>/joboutputs: PUT <joboutputs_url>/<name>" },
  { name: "machinefeatures_url", perVm: true, meaning: "<vm_url>/machinefeatures" },
  { name: "jobfeatures_url", perVm: true, meaning: "<vm_url>/jobfeatures" },
  { name: "agent_url", perVm: false, perAgent: true, meaning: "<manager_url>/agents/<name> (the first agent without .NAME)" },
  { name: "agent_sha256", perVm: false, perAgent: true, meaning: "the sha256 of that agent binary, hex" },
];

const BY_NAME = new Map(PLACEHOLDERS.map((p) => [p.name, p]));

export interface PlaceholderUse {
  text: string;
  name: string;
  agent: string | null;
}

export function findPlaceholders(template: string): PlaceholderUse[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ text: m[0], name: m[1]!, agent: m[2] ?? null }));
}

/** Problems of each placeholder use: unknown names, `.NAME` where none is taken, agents not defined. */
export function checkPlaceholders(template: string, agents: readonly string[]): string[] {
  const problems = new Set<string>();
  for (const use of findPlaceholders(template)) {
    const info = BY_NAME.get(use.name);
    if (!info) problems.add(`${use.text}: unknown placeholder (known: ${PLACEHOLDERS.map((p) => p.name).join(", ")})`);
    else if (use.agent !== null && !info.perAgent) problems.add(`${use.text}: ${use.name} takes no .NAME`);
    else if (info.perAgent && agents.length === 0) problems.add(`${use.text}: the definition has no "agents"`);
    else if (info.perAgent && use.agent !== null && !agents.includes(use.agent)) problems.add(`${use.text}: no agent named ${JSON.stringify(use.agent)} (defined: ${agents.join(", ")})`);
  }
  return [...problems];
}

export const usesPerVm = (template: string): boolean => findPlaceholders(template).some((u) => BY_NAME.get(u.name)?.perVm === true);

export const hasPlaceholders = (template: string): boolean => template.includes("{{vacuum.");

/**
 * Fills every placeholder from `values` (`name` or `name.agent`); a name without a value is left
 * as written (validation has refused those before anything is served).
 */
export function fillPlaceholders(template: string, values: (name: string, agent: string | null) => string | undefined): string {
  return template.replace(PLACEHOLDER, (whole, name: string, agent: string | undefined) => values(name, agent ?? null) ?? whole);
}
