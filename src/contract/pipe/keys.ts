// The per-machinetype keys Vac 03.00 and Vcycle 03.00 accept from a pipe (their `acceptedOptions`
// lists, shared.py), plus the `user_data_option_`/`user_data_file_` prefixes they also accept.
// Anything else is logged and ignored (vacuum-platform.md section 6.2).

export const INTEGER_KEYS = [
  "backoff_seconds",
  "fizzle_seconds",
  "max_wallclock_seconds",
  "min_wallclock_seconds",
  "heartbeat_seconds",
  "min_processors",
  "max_processors",
] as const;
export type IntegerKey = (typeof INTEGER_KEYS)[number];

export const BOOLEAN_KEYS = ["user_data_proxy", "legacy_proxy"] as const;
export type BooleanKey = (typeof BOOLEAN_KEYS)[number];

export const OPTION_PREFIX = "user_data_option_";
export const FILE_PREFIX = "user_data_file_";

/** Vac 03.00 shared.py readConf acceptedOptions. */
export const VAC_KEYS: ReadonlySet<string> = new Set([
  "accounting_fqan", "backoff_seconds", "container_command", "cvmfs_repositories", "fizzle_seconds",
  "disk_gb_per_processor", "heartbeat_file", "heartbeat_seconds", "image_signing_dn", "legacy_proxy",
  "machine_model", "max_processors", "max_wallclock_seconds", "min_processors", "min_wallclock_seconds",
  "root_device", "root_image", "scratch_device", "suffix", "target_share", "tmp_binds", "user_data",
  "user_data_proxy",
]);

/** Vcycle 03.00 shared.py _expandVacuumPipe acceptedOptions. */
export const VCYCLE_KEYS: ReadonlySet<string> = new Set([
  "accounting_fqan", "backoff_seconds", "cache_seconds", "cvmfs_repositories", "fizzle_seconds",
  "heartbeat_file", "heartbeat_seconds", "image_signing_dn", "legacy_proxy", "machine_model",
  "max_processors", "max_wallclock_seconds", "min_processors", "min_wallclock_seconds", "root_device",
  "root_image", "scratch_device", "suffix", "target_share", "user_data", "user_data_proxy",
]);

/** Accepted by a reader, but then not used by it (so a publisher should not rely on them there). */
export const UNUSED_BY: Readonly<Record<string, { vac?: string; vcycle?: string }>> = {
  cache_seconds: { vac: "not accepted per machinetype: logged and ignored (only the top-level cache_seconds counts)", vcycle: "accepted and ignored (only the top-level cache_seconds counts)" },
  container_command: { vcycle: "not accepted: logged and ignored (containers are Vac only)" },
  disk_gb_per_processor: { vcycle: "not accepted: logged and ignored" },
  tmp_binds: { vcycle: "not accepted: logged and ignored (containers are Vac only)" },
  image_signing_dn: { vcycle: "accepted and ignored (Vcycle reads cernvm_signing_dn)" },
  cvmfs_repositories: { vcycle: "accepted and ignored" },
  root_device: { vcycle: "accepted and ignored" },
  scratch_device: { vcycle: "accepted and ignored" },
};

/** Machine models each reader starts. Vac master (03.01+pre00, older than 03.00) also knew cernvm4. */
export const VAC_MODELS: ReadonlySet<string> = new Set(["cernvm3", "vm-raw", "docker", "singularity"]);
export const VCYCLE_MODELS: ReadonlySet<string> = new Set(["cernvm3", "vm-raw"]);

/** A suffix or an option name after lower-casing may only contain these (string.translate checks). */
export const MACHINETYPE_NAME_CHARS = /^[a-z0-9-]*$/;
export const OPTION_NAME_CHARS = /^[a-z0-9_]*$/;
/** The publisher checklist's shape for a suffix (section 6.5, item 4). */
export const SUFFIX_SHAPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
