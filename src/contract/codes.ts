// The one catalog of vacuum shutdown codes (HSF-TN-2016-04), shared by agent and manager.
// `abortsVac`/`abortsVcycle` record which codes make each lifecycle manager back off
// (Vac: code >= 300; Vcycle: 300 <= code <= 699; vacuum-platform.md section 5).

export type ShutdownCode = 100 | 200 | 300 | 400 | 500 | 600 | 700;

export interface CodeInfo {
  code: ShutdownCode;
  name: string;
  /** The phrase TN04 gives; the agent's messages start with the code and a more specific text. */
  phrase: string;
  abortsVac: boolean;
  abortsVcycle: boolean;
}

export const CODES: Readonly<Record<ShutdownCode, CodeInfo>> = {
  100: { code: 100, name: "shutdown-requested", phrase: "Shutdown as requested by the VM's host/hypervisor", abortsVac: false, abortsVcycle: false },
  200: { code: 200, name: "success", phrase: "Intended work completed ok", abortsVac: false, abortsVcycle: false },
  300: { code: 300, name: "no-work", phrase: "No more work available from task queue", abortsVac: true, abortsVcycle: true },
  400: { code: 400, name: "banned", phrase: "Site/host/VM is currently banned/disabled", abortsVac: true, abortsVcycle: true },
  500: { code: 500, name: "site-problem", phrase: "Problem detected with environment/VM provided by the site", abortsVac: true, abortsVcycle: true },
  600: { code: 600, name: "grid-problem", phrase: "Grid-wide problem with job agent or application within VM", abortsVac: true, abortsVcycle: true },
  700: { code: 700, name: "agent-problem", phrase: "Error related to job agent or application within VM", abortsVac: true, abortsVcycle: false },
};

const MESSAGE_TEXT = /[^ -~]+/g;

/**
 * The exact single line both readers accept: `^[1-9][0-9]{2} [ -~]+$`, at most 200 characters.
 * Non-printable characters (newlines, tabs, non-ASCII) become spaces so Vcycle's `int()` of the
 * text before the first space and Vac's first-three-characters parse both work.
 */
export function shutdownMessage(code: ShutdownCode, text: string): string {
  const clean = text.replace(MESSAGE_TEXT, " ").replace(/ +/g, " ").trim() || CODES[code].phrase;
  return `${code} ${clean}`.slice(0, 200).trimEnd();
}

export const SHUTDOWN_MESSAGE_PATTERN = /^[1-9][0-9]{2} [ -~]+$/;
