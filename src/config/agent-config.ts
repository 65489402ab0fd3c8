// The typed configuration after validation and defaults; mirrors schema/agent-config.v1.schema.json
// (test/config/agent-config.test.ts keeps the two in step). Nothing after src/context/gather.ts
// reads raw user_data: planners see only this.

export const CONFIG_VERSION = 1;

export type PayloadType = "dirac" | "htcondor" | "command";

export interface AgentConfig {
  version: 1;
  identity: {
    space?: string;
    machinetype?: string;
    hostname?: string;
    uuid?: string;
    site?: string;
    manager_version?: string;
    manager_hostname?: string;
    user_data_url?: string;
    root_image_url?: string;
  };
  mjf: {
    machinefeatures?: string;
    jobfeatures?: string;
    joboutputs?: string;
    heartbeat_machines_url?: string;
  };
  /** The experiment's manager, reported to beside the site's $JOBOUTPUTS. */
  manager: { joboutputs_url?: string; token?: string };
  lifecycle: {
    heartbeat_file: string;
    heartbeat_seconds?: number;
    max_wallclock_seconds?: number;
    deadline_margin_seconds: number;
    power_off: boolean;
    kill_grace_seconds: number;
  };
  host: { network_offload?: boolean; metadata_lockdown: boolean };
  scratch: { device: string; mount_point: string; swap_gb: number };
  accounts: { pilot_user: string; payload_users: number; payload_user_prefix: string };
  cvmfs: {
    repositories?: string[];
    http_proxy?: string;
    pac_urls?: string[];
    server_urls?: string[];
    quota_mb: number;
    wait_for: string[];
    wait_seconds: number;
  };
  credentials: {
    x509_proxy?: string;
    hostcert?: string;
    hostkey?: string;
    ca_dir: string;
    expiry_policy: "warn" | "fail";
    mint_proxy: boolean;
  };
  isolation: { required: boolean; runtime_path?: string; image?: string; test_command: string[] };
  payload: {
    type: PayloadType;
    dirac?: {
      pilot_url?: string;
      // Keys added with the DIRAC payload are optional here (the schema gives defaults): read them
      // through diracSettings() in src/payloads/dirac/settings.ts.
      pilot_mirrors?: string[];
      queue: string;
      submit_pool: string;
      vo?: string;
      /** DIRAC site name (--name), not the GOCDB name of identity.site. */
      site?: string;
      setup?: string;
      extra_options?: string;
      user?: string;
      max_cycles?: number;
      stop_after_failed_matches?: number;
      require_manifest?: boolean;
      checksums_sha512?: string;
      fetch_client_certificate?: "none" | "hostcert" | "x509_proxy";
      run_hooks?: boolean;
      hooks_timeout_seconds?: number;
      drain_seconds?: number;
    };
    htcondor?: {
      collector?: string;
      pool_password_base64?: string;
      idtoken?: string;
      uid_domain?: string;
      // Defaults from the schema; optional here so partial configs (tests) still type-check
      // (src/payloads/htcondor/settings.ts resolves them).
      config_location?: "private" | "system";
      start?: string;
      idle_shutdown_seconds?: number;
      update_interval_seconds?: number;
      slot_type?: "partitionable" | "static";
      ready_timeout_seconds?: number;
      drain_seconds?: number;
      graceful_drain_seconds?: number;
      ccb?: boolean;
      ssl?: "auto" | "hostcert" | "x509_proxy" | "off";
      extra_config?: string[];
    };
    command?: {
      path?: string;
      url?: string;
      sha256?: string;
      args: string[];
      env: Record<string, string>;
      user: string;
      timeout_seconds?: number;
      log_files: string[];
      liveness_seconds?: number;
    };
  };
  options: Record<string, string>;
}

/** Sections that are objects in the schema; always present after normalisation so planners need no `?.`. */
export const OBJECT_SECTIONS = ["identity", "mjf", "lifecycle", "host", "scratch", "accounts", "cvmfs", "credentials", "isolation", "options"] as const;
