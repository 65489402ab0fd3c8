// Where the execute node's HTCondor files live. Two layouts:
//
//   private (default): the agent's own CONDOR_CONFIG and LOCAL_DIR; the image's /etc/condor is never
//   read (LOCAL_CONFIG_DIR points at the agent's config.d), so an image with its own HTCondor setup
//   is left alone (services.md "Layout that works"):
//     /var/lib/vacuum-agent/condor/            0755 root  LOCAL_DIR
//       condor_config                          0644 root  CONDOR_CONFIG (START = False)
//       config.d/60-vacuum-agent-start.conf    0644 root  START once host preparation passed
//       log/                                   0755 condor  MasterLog, StartLog, startd_history...
//       tokens.d/vacuum-agent.token            0600 root  IDTOKEN from the user_data
//       passwords.d/POOL                       0600 root  pool password file from the user_data
//   system: two files in the image's /etc/condor/config.d, read by its own condor_config; LOG and the
//   credential directories are set to the packages' usual places so the agent knows where to look.
//
// The execute directory is on the scratch disk in both (as VMCondor's /scratch/condor).
//
// Paths written INTO files and the environment are where HTCondor will find them: under --root
// they are rooted here (the executor roots only the paths of its own actions).

import { posix } from "node:path";
import type { Context } from "../../context/context.ts";
import { AGENT_PATHS } from "../../status/paths.ts";
import { htcondorSettings } from "./settings.ts";

export const PRIVATE_DIR = `${AGENT_PATHS.stateDir}/condor`;
export const SYSTEM_CONFIG_DIR = "/etc/condor/config.d";
export const TOKEN_FILE_NAME = "vacuum-agent.token";
export const START_FILE_NAME = "60-vacuum-agent-start.conf";

export interface HtcondorLayout {
  location: "private" | "system";
  /** Machine paths of the agent's files (the executor roots them). */
  configFile: string;
  startFile: string;
  /** Directories the agent creates: LOCAL_DIR (private), LOG, tokens, passwords, execute. */
  localDir: string | null;
  logDir: string;
  tokenDir: string;
  passwordDir: string;
  executeDir: string;
  historyFile: string;
  /** CONDOR_CONFIG for condor_master and the tools, already rooted; absent in the system layout. */
  condorConfigEnv: string | null;
  /** Turns a machine path into the one HTCondor sees (under --root: inside DIR). */
  seen: (machinePath: string) => string;
}

export function htcondorLayout(ctx: Context): HtcondorLayout {
  const s = htcondorSettings(ctx);
  const seen = (p: string) => (ctx.root ? posix.join(ctx.root, p) : p);
  const executeDir = posix.join(ctx.config.scratch.mount_point, "condor", "execute");
  if (s.config_location === "system") {
    const logDir = "/var/log/condor";
    return {
      location: "system",
      configFile: `${SYSTEM_CONFIG_DIR}/50-vacuum-agent.conf`,
      startFile: `${SYSTEM_CONFIG_DIR}/${START_FILE_NAME}`,
      localDir: null,
      logDir,
      tokenDir: "/etc/condor/tokens.d",
      passwordDir: "/etc/condor/passwords.d",
      executeDir,
      historyFile: `${logDir}/startd_history`,
      condorConfigEnv: null,
      seen,
    };
  }
  return {
    location: "private",
    configFile: `${PRIVATE_DIR}/condor_config`,
    startFile: `${PRIVATE_DIR}/config.d/${START_FILE_NAME}`,
    localDir: PRIVATE_DIR,
    logDir: `${PRIVATE_DIR}/log`,
    tokenDir: `${PRIVATE_DIR}/tokens.d`,
    passwordDir: `${PRIVATE_DIR}/passwords.d`,
    executeDir,
    historyFile: `${PRIVATE_DIR}/log/startd_history`,
    condorConfigEnv: seen(`${PRIVATE_DIR}/condor_config`),
    seen,
  };
}

/** The environment every HTCondor program the agent runs gets (condor_master, condor_status, condor_off). */
export const condorEnv = (l: HtcondorLayout): Record<string, string> => (l.condorConfigEnv ? { CONDOR_CONFIG: l.condorConfigEnv } : {});
