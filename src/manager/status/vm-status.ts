// The status of the VMs the manager knows, as one list of plain objects: what /status.json, the
// HTML page and /metrics show. A VM is "finished" once it sent its shutdown_message, "running"
// while its heartbeat is younger than the machinetype's heartbeat_seconds (Vac and Vcycle destroy
// it once older), "stale" after that, and "starting" before its first heartbeat.

import type { Content } from "../serve/content.ts";
import type { VmRecord } from "../vm/vm-registry.ts";
import type { VmDetails } from "./vm-details.ts";

export type VmState = "starting" | "running" | "stale" | "finished";
export const VM_STATES: readonly VmState[] = ["starting", "running", "stale", "finished"];

export interface VmStatus {
  machinetype: string;
  vmId: string;
  space: string | null;
  hostname: string | null;
  state: VmState;
  firstSeen: string;
  lastHeartbeat: string | null;
  heartbeatAgeSeconds: number | null;
  /** A heartbeat older than this makes a running VM stale: the machinetype's heartbeat_seconds. */
  staleAfterSeconds: number;
  shutdownMessage: string | null;
  shutdownCode: number | null;
  outputs: number;
  dn: string | null;
  timeline: VmDetails["timeline"];
}

/** Vac's default when a machinetype gives no heartbeat_seconds is no check; 600 s is the example's. */
const DEFAULT_STALE_SECONDS = 600;

export const staleAfterSeconds = (machinetype: string, content: Content): number =>
  content.machinetypes.get(machinetype)?.definition.heartbeat_seconds || DEFAULT_STALE_SECONDS;

export function vmState(r: VmRecord, content: Content, now: number): VmState {
  if (r.shutdownMessage !== null) return "finished";
  if (r.lastHeartbeat === null) return "starting";
  return now - r.lastHeartbeat > staleAfterSeconds(r.machinetype, content) * 1000 ? "stale" : "running";
}

export const shutdownCode = (message: string | null): number | null => {
  const m = /^([1-9][0-9]{2})(\s|$)/.exec(message ?? "");
  return m ? Number(m[1]) : null;
};

export function vmStatus(r: VmRecord, details: VmDetails, content: Content, now: number): VmStatus {
  return {
    machinetype: r.machinetype,
    vmId: r.vmId,
    space: details.space,
    hostname: details.hostname,
    state: vmState(r, content, now),
    firstSeen: new Date(r.firstSeen).toISOString(),
    lastHeartbeat: r.lastHeartbeat === null ? null : new Date(r.lastHeartbeat).toISOString(),
    heartbeatAgeSeconds: r.lastHeartbeat === null ? null : Math.max(0, Math.round((now - r.lastHeartbeat) / 1000)),
    staleAfterSeconds: staleAfterSeconds(r.machinetype, content),
    shutdownMessage: r.shutdownMessage,
    shutdownCode: shutdownCode(r.shutdownMessage),
    outputs: r.outputs,
    dn: r.dn,
    timeline: details.timeline,
  };
}

/** The time a VM last did anything: the newest first in lists. */
export const lastActivity = (r: VmRecord): number => Math.max(r.firstSeen, r.lastHeartbeat ?? 0, r.lastOutput ?? 0, r.metadataAt ?? 0);
