// The `payload.dirac` section with its defaults filled in (they mirror the schema's), so the
// planner works the same on a validated configuration and on a hand-built test Context.

import type { AgentConfig } from "../../config/agent-config.ts";
import type { Context } from "../../context/context.ts";

type Raw = NonNullable<AgentConfig["payload"]["dirac"]>;

export interface DiracSettings {
  pilot_url?: string;
  pilot_mirrors: string[];
  queue: string;
  submit_pool: string;
  vo?: string;
  site?: string;
  setup?: string;
  extra_options?: string;
  user: string;
  max_cycles: number;
  stop_after_failed_matches: number;
  require_manifest: boolean;
  checksums_sha512?: string;
  fetch_client_certificate: "none" | "hostcert" | "x509_proxy";
  run_hooks: boolean;
  hooks_timeout_seconds: number;
  drain_seconds: number;
}

export const DIRAC_DEFAULTS = {
  queue: "default",
  submit_pool: "Test",
  max_cycles: 1,
  stop_after_failed_matches: 0,
  require_manifest: true,
  fetch_client_certificate: "none",
  run_hooks: false,
  hooks_timeout_seconds: 300,
  drain_seconds: 1800,
} as const;

const set = (v: string | undefined): v is string => v !== undefined && v !== "";

export function diracSettings(ctx: Context): DiracSettings {
  const raw: Partial<Raw> = ctx.config.payload.dirac ?? {};
  const s: DiracSettings = {
    pilot_mirrors: [...(raw.pilot_mirrors ?? [])],
    queue: set(raw.queue) ? raw.queue : DIRAC_DEFAULTS.queue,
    submit_pool: set(raw.submit_pool) ? raw.submit_pool : DIRAC_DEFAULTS.submit_pool,
    // One pilot account by default: the isolation stage proved the container runtime as this user.
    user: set(raw.user) ? raw.user : ctx.config.accounts.pilot_user,
    max_cycles: raw.max_cycles ?? DIRAC_DEFAULTS.max_cycles,
    stop_after_failed_matches: raw.stop_after_failed_matches ?? DIRAC_DEFAULTS.stop_after_failed_matches,
    require_manifest: raw.require_manifest ?? DIRAC_DEFAULTS.require_manifest,
    fetch_client_certificate: raw.fetch_client_certificate ?? DIRAC_DEFAULTS.fetch_client_certificate,
    run_hooks: raw.run_hooks ?? DIRAC_DEFAULTS.run_hooks,
    hooks_timeout_seconds: raw.hooks_timeout_seconds ?? DIRAC_DEFAULTS.hooks_timeout_seconds,
    drain_seconds: raw.drain_seconds ?? DIRAC_DEFAULTS.drain_seconds,
  };
  for (const k of ["pilot_url", "vo", "site", "setup", "extra_options", "checksums_sha512"] as const) {
    if (set(raw[k])) s[k] = raw[k];
  }
  return s;
}
