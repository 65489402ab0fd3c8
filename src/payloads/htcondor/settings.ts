// The `payload.htcondor` section with its defaults filled in (they mirror the schema's), so the
// planner works the same on a validated configuration and on a hand-built test Context.

import type { AgentConfig } from "../../config/agent-config.ts";
import type { Context } from "../../context/context.ts";

type Raw = NonNullable<AgentConfig["payload"]["htcondor"]>;

export interface HtcondorSettings {
  collector?: string;
  pool_password_base64?: string;
  idtoken?: string;
  uid_domain?: string;
  config_location: "private" | "system";
  start: string;
  idle_shutdown_seconds: number;
  update_interval_seconds: number;
  slot_type: "partitionable" | "static";
  ready_timeout_seconds: number;
  drain_seconds: number;
  graceful_drain_seconds: number;
  ccb: boolean;
  ssl: "auto" | "hostcert" | "x509_proxy" | "off";
  extra_config: string[];
}

export const HTCONDOR_DEFAULTS = {
  config_location: "private",
  start: "True",
  idle_shutdown_seconds: 600,
  update_interval_seconds: 60,
  slot_type: "partitionable",
  ready_timeout_seconds: 300,
  drain_seconds: 3600,
  graceful_drain_seconds: 600,
  ccb: true,
  ssl: "auto",
} as const;

export function htcondorSettings(ctx: Context): HtcondorSettings {
  const raw: Partial<Raw> = ctx.config.payload.htcondor ?? {};
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Partial<Raw>;
  return { ...HTCONDOR_DEFAULTS, extra_config: [], ...defined };
}
