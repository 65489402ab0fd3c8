// A Context for planner tests: a valid command-payload configuration unless overridden.
import type { AgentConfig } from "../../src/config/agent-config.ts";
import type { Context } from "../../src/context/context.ts";

export interface ContextOverrides {
  config?: {
    identity?: Partial<AgentConfig["identity"]>;
    mjf?: Partial<AgentConfig["mjf"]>;
    manager?: Partial<AgentConfig["manager"]>;
    lifecycle?: Partial<AgentConfig["lifecycle"]>;
    payload?: Partial<AgentConfig["payload"]>;
    credentials?: Partial<AgentConfig["credentials"]>;
    host?: Partial<AgentConfig["host"]>;
    scratch?: Partial<AgentConfig["scratch"]>;
    accounts?: Partial<AgentConfig["accounts"]>;
    cvmfs?: Partial<AgentConfig["cvmfs"]>;
    isolation?: Partial<AgentConfig["isolation"]>;
  };
  root?: string | null;
  deadline?: Partial<Context["deadline"]>;
  problems?: Context["problems"];
  machineHostname?: string;
  secrets?: string[];
}

export const T0 = 1_790_000_000;

export function makeContext(o: ContextOverrides = {}): Context {
  const c = o.config ?? {};
  const config: AgentConfig = {
    version: 1,
    identity: { ...c.identity },
    mjf: { ...c.mjf },
    manager: { ...c.manager },
    lifecycle: { heartbeat_file: "heartbeat", deadline_margin_seconds: 300, power_off: true, kill_grace_seconds: 60, ...c.lifecycle },
    host: { metadata_lockdown: true, ...c.host },
    scratch: { device: "auto", mount_point: "/scratch", swap_gb: 0, ...c.scratch },
    accounts: { pilot_user: "vacpilot", payload_users: 0, payload_user_prefix: "vacpay", ...c.accounts },
    cvmfs: { quota_mb: 20000, wait_for: [], wait_seconds: 300, ...c.cvmfs },
    credentials: { ca_dir: "/etc/grid-security/certificates", expiry_policy: "warn", mint_proxy: true, ...c.credentials },
    isolation: { required: false, test_command: ["/bin/true"], ...c.isolation },
    payload: { type: "command", command: { path: "/bin/true", args: [], env: {}, user: "vacpayload", log_files: [] }, ...c.payload },
    options: {},
  };
  return {
    startedAt: T0,
    root: o.root ?? null,
    dryRun: true,
    config,
    provenance: {},
    userData: null,
    metadata: null,
    mjf: null,
    machine: { cpus: 2, memoryBytes: 4 * 2 ** 30, hostname: o.machineHostname ?? "localhost", isRoot: false },
    deadline: { deadline: null, effective: null, marginSeconds: 300, candidates: [], ...o.deadline },
    secrets: o.secrets ?? [],
    problems: o.problems ?? [],
  };
}
