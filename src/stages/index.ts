// The one ordered list of stages (no registration by side effect). The finishing actions that
// every run ends with, whatever happened, are planned by src/stages/finish.ts.
import { contextRecordStage } from "./context-record.ts";
import { accounts } from "./accounts.ts";
import { credentials } from "./credentials.ts";
import { metadataLockdown } from "./metadata-lockdown.ts";
import { scratchDisk } from "./scratch-disk.ts";
import { cvmfs } from "./cvmfs.ts";
import { cvmfsReady } from "./cvmfs-ready.ts";
import { hostname } from "./hostname.ts";
import { isolation } from "./isolation.ts";
import { layout } from "./layout.ts";
import { mjfEnvironment } from "./mjf-environment.ts";
import { payload } from "./payload.ts";
import { payloadConfig } from "./payload-config.ts";
import type { Stage } from "./stage.ts";
import { watchdog } from "./watchdog.ts";

export const STAGES: readonly Stage[] = [
  layout,
  watchdog,
  contextRecordStage,
  payloadConfig,
  hostname,
  metadataLockdown,
  scratchDisk,
  accounts,
  mjfEnvironment,
  credentials,
  cvmfs,
  cvmfsReady,
  isolation,
  payload,
];
