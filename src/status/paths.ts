// Where the agent keeps its state and logs on the machine (machine paths: under --root they are
// rooted like every other path).

export const AGENT_PATHS = {
  stateDir: "/var/lib/vacuum-agent",
  status: "/var/lib/vacuum-agent/status.json",
  context: "/var/lib/vacuum-agent/context.json",
  machineActions: "/var/lib/vacuum-agent/machine-actions.jsonl",
  /** One `<name>.pid` per service the agent started. */
  services: "/var/lib/vacuum-agent/services",
  logDir: "/var/log/vacuum-agent",
  log: "/var/log/vacuum-agent/agent.jsonl",
  joboutputs: "/var/spool/joboutputs",
} as const;
