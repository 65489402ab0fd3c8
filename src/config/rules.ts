// Rules that one schema node cannot express: they relate several keys. Each returns problems at
// the path a site admin or operator has to change.

import type { SchemaProblem } from "./validate.ts";
import type { AgentConfig } from "./agent-config.ts";
import { checkCvmfs } from "../cvmfs/config-rules.ts";

export function checkRules(c: AgentConfig): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const err = (path: string, message: string) => out.push({ path, message, severity: "error" });
  const type = c.payload.type;
  if (type === "command") {
    const cmd = c.payload.command;
    if (!cmd || (!cmd.path && !cmd.url)) err("payload.command", "expected payload.command.path (a local executable) or payload.command.url (with payload.command.sha256)");
    else if (cmd.path && cmd.url) err("payload.command", "expected either path or url, not both");
    else if (cmd.url && !cmd.sha256) err("payload.command.sha256", "required with payload.command.url: expected 64 lower-case hex digits (the agent runs nothing it cannot verify)");
  }
  if (type === "htcondor" && !c.payload.htcondor?.collector) {
    err("payload.htcondor.collector", "required for an htcondor payload: expected a host[:port] (##user_data_option_condor_host##)");
  }
  for (const other of ["dirac", "htcondor", "command"] as const) {
    if (other !== type && c.payload[other] !== undefined) {
      out.push({ path: `payload.${other}`, message: `ignored: payload.type is "${type}"`, severity: "warning" });
    }
  }
  const hb = c.lifecycle.heartbeat_seconds;
  if (hb !== undefined && hb > 0 && hb < 60) {
    out.push({ path: "lifecycle.heartbeat_seconds", message: `${hb} s leaves no room for a heartbeat every half period with network delays; expected at least 60`, severity: "warning" });
  }
  if (c.credentials.hostcert && !c.credentials.hostkey) err("credentials.hostkey", "required with credentials.hostcert: expected the matching PEM private key");
  if (c.credentials.hostkey && !c.credentials.hostcert) err("credentials.hostcert", "required with credentials.hostkey: expected the matching PEM certificate");
  out.push(...checkCvmfs(c.cvmfs));
  return out;
}
