// Every ##user_data_*## name that Vac and Vcycle substitute (vacuum-platform.md 1.2) or that the
// pilots read (pilots.md 1.1, 6.1), and the configuration path each one feeds. Kept as data so the
// parser, the dry run and the manager's template checks all read the same table.

export interface VacuumName {
  /** The name without the surrounding `##`, e.g. `user_data_space`. */
  name: string;
  /** The agent configuration path the value maps to, or null when it feeds none. */
  configPath: string | null;
  meaning: string;
  /** The value is a credential: never printed, logged or put in a Problem. */
  secret?: boolean;
  /** The name to use instead; Vac and Vcycle still fill this one. */
  deprecated?: string;
  /** TN04 lists it but neither Vac nor Vcycle fills it: it is always removed (empty). */
  neverFilled?: boolean;
  /** The value spans several lines (PEM): it must be written as a heredoc. */
  multiLine?: boolean;
}

const MANAGER_VALUES: readonly VacuumName[] = [
  { name: "user_data_url", configPath: "identity.user_data_url", meaning: "URL the template was fetched from (only when fetched by HTTP(S))" },
  { name: "user_data_site", configPath: "identity.site", meaning: "GOCDB site name (only when the site sets it)" },
  { name: "user_data_space", configPath: "identity.space", meaning: "vacuum space name" },
  { name: "user_data_machinetype", configPath: "identity.machinetype", meaning: "machinetype name (<prefix>-<suffix> for pipes)" },
  { name: "user_data_machine_hostname", configPath: "identity.hostname", meaning: "VM hostname (Vac: an FQDN; Vcycle: vcycle-<machinetype>-<10 characters>)" },
  { name: "user_data_manager_version", configPath: "identity.manager_version", meaning: "`Vac <VERSION>` or `Vcycle <VERSION>`" },
  { name: "user_data_manager_hostname", configPath: "identity.manager_hostname", meaning: "host name of the Vac factory or the Vcycle host" },
  { name: "user_data_machinefeatures_url", configPath: "mjf.machinefeatures", meaning: "$MACHINEFEATURES location" },
  { name: "user_data_jobfeatures_url", configPath: "mjf.jobfeatures", meaning: "$JOBFEATURES location" },
  { name: "user_data_joboutputs_url", configPath: "mjf.joboutputs", meaning: "$JOBOUTPUTS location" },
  { name: "user_data_root_image_url", configPath: "identity.root_image_url", meaning: "root image URL (only when it is an http(s) URL)" },
  { name: "user_data_heartbeat_machines_url", configPath: "mjf.heartbeat_machines_url", meaning: "Vcycle heartbeat lists of the space (Vac never fills it)" },
  { name: "user_data_uuid", configPath: "identity.uuid", meaning: "VM UUID (Vac 03.00 only; empty on Vcycle and older Vac)" },
  { name: "user_data_vmtype", configPath: "identity.machinetype", meaning: "old name of the machinetype", deprecated: "user_data_machinetype" },
  { name: "user_data_vm_hostname", configPath: "identity.hostname", meaning: "old name of the VM hostname", deprecated: "user_data_machine_hostname" },
  { name: "user_data_vmlm_version", configPath: "identity.manager_version", meaning: "old name of the manager version", deprecated: "user_data_manager_version" },
  { name: "user_data_vmlm_hostname", configPath: "identity.manager_hostname", meaning: "old name of the manager hostname", deprecated: "user_data_manager_hostname" },
  { name: "user_data_manager_machinefeatures_url", configPath: "mjf.machinefeatures", meaning: "TN04's name for $MACHINEFEATURES", neverFilled: true },
  { name: "user_data_manager_jobfeatures_url", configPath: "mjf.jobfeatures", meaning: "TN04's name for $JOBFEATURES", neverFilled: true },
  { name: "user_data_manager_joboutputs_url", configPath: "mjf.joboutputs", meaning: "TN04's name for $JOBOUTPUTS", neverFilled: true },
];

interface SiteOption {
  x: string;
  configPath: string;
  meaning: string;
  secret?: boolean;
  multiLine?: boolean;
}

/** `user_data_option_X` / `user_data_file_X` values the pilots read, by X. */
const SITE_OPTIONS: readonly SiteOption[] = [
  { x: "x509_proxy", configPath: "credentials.x509_proxy", meaning: "X.509 proxy PEM minted by Vac/Vcycle (user_data_proxy = true)", secret: true, multiLine: true },
  { x: "hostcert", configPath: "credentials.hostcert", meaning: "host certificate PEM", multiLine: true },
  { x: "hostkey", configPath: "credentials.hostkey", meaning: "host private key PEM", secret: true, multiLine: true },
  { x: "cvmfs_proxy", configPath: "cvmfs.http_proxy", meaning: "CVMFS_HTTP_PROXY (contains ; and |)" },
  { x: "dirac_pilot_url", configPath: "payload.dirac.pilot_url", meaning: "DIRAC pilot files directory URL" },
  { x: "dirac_queue", configPath: "payload.dirac.queue", meaning: "DIRAC queue name" },
  { x: "dirac_opts", configPath: "payload.dirac.extra_options", meaning: "extra dirac-pilot.py options" },
  { x: "dirac_site", configPath: "payload.dirac.site", meaning: "DIRAC site name (--name)" },
  { x: "dirac_setup", configPath: "payload.dirac.setup", meaning: "DIRAC setup (--setup)" },
  { x: "submit_pool", configPath: "payload.dirac.submit_pool", meaning: "DIRAC submit pool" },
  { x: "vo", configPath: "payload.dirac.vo", meaning: "virtual organisation" },
  { x: "network_offload", configPath: "host.network_offload", meaning: "`on` keeps TSO/GSO/GRO enabled" },
  { x: "condor_host", configPath: "payload.htcondor.collector", meaning: "HTCondor CONDOR_HOST" },
  { x: "pool_password_base64", configPath: "payload.htcondor.pool_password_base64", meaning: "HTCondor pool password file (condor_store_cred format), base64", secret: true },
  { x: "uid_domain", configPath: "payload.htcondor.uid_domain", meaning: "HTCondor UID_DOMAIN" },
  { x: "condor_idtoken", configPath: "payload.htcondor.idtoken", meaning: "HTCondor IDTOKEN", secret: true, multiLine: true },
];

const OPTION_PREFIX = "user_data_option_";
const FILE_PREFIX = "user_data_file_";
// Vac lower-cases option names and accepts only these characters (vacuum-platform.md 6.2).
const OPTION_X = /^[a-z0-9_]+$/;

function optionRow(x: string, known: SiteOption | undefined): VacuumName {
  const row: VacuumName = {
    name: OPTION_PREFIX + x,
    configPath: known?.configPath ?? `options.${x}`,
    meaning: known?.meaning ?? `site option ${x}`,
  };
  if (known?.secret) row.secret = true;
  if (known?.multiLine) row.multiLine = true;
  return row;
}

// Vac substitutes a user_data_file_X's contents into both ##user_data_file_X## and
// ##user_data_option_X##, so the file_ pattern is only an old spelling of the option_ one.
function fileRow(x: string, known: SiteOption | undefined): VacuumName {
  return { ...optionRow(x, known), name: FILE_PREFIX + x, deprecated: OPTION_PREFIX + x };
}

export const VACUUM_NAMES: readonly VacuumName[] = [
  ...MANAGER_VALUES,
  ...SITE_OPTIONS.flatMap((o) => [optionRow(o.x, o), fileRow(o.x, o)]),
];

const BY_NAME = new Map(VACUUM_NAMES.map((n) => [n.name, n]));
const OPTIONS_BY_X = new Map(SITE_OPTIONS.map((o) => [o.x, o]));

/**
 * The table row for a name (with or without the `##`), computing `options.X` for any other
 * `user_data_option_X` / `user_data_file_X`; null for a name Vac and Vcycle never fill.
 */
export function lookupVacuumName(name: string): VacuumName | null {
  const bare = name.startsWith("##") && name.endsWith("##") && name.length > 4 ? name.slice(2, -2) : name;
  const row = BY_NAME.get(bare);
  if (row) return row;
  for (const [prefix, build] of [[OPTION_PREFIX, optionRow], [FILE_PREFIX, fileRow]] as const) {
    if (!bare.startsWith(prefix)) continue;
    const x = bare.slice(prefix.length);
    return OPTION_X.test(x) ? build(x, OPTIONS_BY_X.get(x)) : null;
  }
  return null;
}
