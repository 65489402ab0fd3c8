// The ##user_data_*## substitutions of Vac and Vcycle (vacutils.createUserData, byte-identical in
// both; vacuum-platform.md section 1.2), in their exact order. Shared by the renderer and the
// template checks.

/** The values a site fills, by the name `manager render --set NAME=VALUE` takes. */
export const SUBSTITUTION_NAMES = [
  "url",
  "site",
  "space",
  "machinetype",
  "machine_hostname",
  "manager_version",
  "manager_hostname",
  "machinefeatures_url",
  "jobfeatures_url",
  "joboutputs_url",
  "root_image_url",
  "heartbeat_machines_url",
  "uuid",
  "x509_proxy",
] as const;
export type SubstitutionName = (typeof SUBSTITUTION_NAMES)[number];

export interface Substitution {
  step: number;
  pattern: string;
  from: SubstitutionName;
  /**
   * Vac replaces the step-3 and step-5 names unconditionally (they always have a value there); the
   * others only `if value:`, so an empty value leaves the pattern for step 9 to remove.
   */
  always: boolean;
}

const s = (step: number, name: string, from: SubstitutionName, always = false): Substitution => ({ step, pattern: `##user_data_${name}##`, from, always });

/** Steps 1 to 7, in order; step 8 (options and files) and step 9 (removal) follow. */
export const SUBSTITUTIONS: readonly Substitution[] = [
  s(1, "url", "url"), // only when the template came over http(s)
  s(2, "site", "site"),
  s(3, "space", "space", true),
  s(3, "machinetype", "machinetype", true),
  s(3, "machine_hostname", "machine_hostname", true),
  s(3, "manager_version", "manager_version", true),
  s(3, "manager_hostname", "manager_hostname", true),
  s(4, "machinefeatures_url", "machinefeatures_url"),
  s(4, "jobfeatures_url", "jobfeatures_url"),
  s(4, "joboutputs_url", "joboutputs_url"),
  s(4, "root_image_url", "root_image_url"),
  s(4, "heartbeat_machines_url", "heartbeat_machines_url"),
  // Deprecated names: the same values again, after step 4.
  s(5, "vmtype", "machinetype", true),
  s(5, "vm_hostname", "machine_hostname", true),
  s(5, "vmlm_version", "manager_version", true),
  s(5, "vmlm_hostname", "manager_hostname", true),
  s(6, "uuid", "uuid"),
  s(7, "option_x509_proxy", "x509_proxy"), // only when user_data_proxy is true
];

/** Step 9: `re.sub('##user_data_[a-z,0-9,_]*##', '', …)`; the commas in the class are literal. */
export const REMOVAL = /##user_data_[a-z,0-9,_]*##/g;

/** Every ##user_data_…## looking token, including those step 9 does not remove (upper case, '-', '.'). */
export const PATTERN_LIKE = /##user_data_([A-Za-z0-9_,.-]*)##/g;

/** Names TN04 lists that neither implementation fills (removed): use the names without `manager_`. */
export const NEVER_FILLED: Readonly<Record<string, string>> = {
  manager_machinefeatures_url: "machinefeatures_url",
  manager_jobfeatures_url: "jobfeatures_url",
  manager_joboutputs_url: "joboutputs_url",
};

/** Option names (`user_data_option_X`, `user_data_file_X`): lower-cased by the readers, then only these characters. */
export const OPTION_NAME = /^[a-z0-9_]*$/;
