import { AGENT_PATHS } from "../status/paths.ts";
import type { Stage } from "./stage.ts";

/** The agent's own directories: state, logs, and the local job outputs spool. */
export const layout: Stage = {
  id: "layout",
  title: "agent directories",
  skip: () => null,
  plan: () => [
    { kind: "mkdir", path: AGENT_PATHS.stateDir, mode: 0o755, why: "agent state: status.json, context.json" },
    { kind: "mkdir", path: AGENT_PATHS.logDir, mode: 0o755, why: "agent log (JSON lines)" },
    { kind: "mkdir", path: AGENT_PATHS.joboutputs, mode: 0o755, why: "job outputs staged for upload" },
  ],
  failure: { code: 500, fatal: true, text: "Cannot create the agent's directories" },
};
