// The frozen Context: the only input of planners. Built once by gather(), never mutated.

import type { AgentConfig } from "../config/agent-config.ts";
import type { IsolationFacts } from "../isolation/probe.ts";
import type { BlockDevice } from "../machine/block-devices.ts";
import type { Problem } from "../config/problem.ts";
import type { Origin } from "./layers.ts";
import type { MetadataAttempt, MetadataProvider, MjfResult, UserDataResult } from "./types.ts";

export interface MachineFacts {
  cpus: number;
  memoryBytes: number;
  hostname: string;
  isRoot: boolean;
  /** The block devices the kernel lists, with what they carry (src/machine/block-devices.ts); absent when not probed. */
  blockDevices?: readonly BlockDevice[];
  /** Whether the kernel has IPv6 (src/machine/ipv6.ts); absent when not probed. */
  ipv6?: boolean;
  /** Where a container runtime and the configured image are (src/isolation/probe.ts). */
  isolation?: IsolationFacts;
}

export interface DeadlineInfo {
  /** Unix seconds of the earliest deadline, or null when no source gives one. */
  deadline: number | null;
  /** deadline minus the margin: when the agent starts stopping the payload. */
  effective: number | null;
  marginSeconds: number;
  candidates: { source: string; at: number }[];
}

export interface Context {
  /** Unix seconds when the agent started. */
  startedAt: number;
  /** --root DIR, or null for the real machine. */
  root: string | null;
  dryRun: boolean;
  config: AgentConfig;
  provenance: Record<string, Origin>;
  userData: (UserDataResult & { origin: string }) | null;
  metadata: { provider: MetadataProvider | null; origin: string | null; attempts: MetadataAttempt[] } | null;
  mjf: MjfResult | null;
  machine: MachineFacts;
  deadline: DeadlineInfo;
  /** Secret values (proxies, keys, tokens) to redact from every output. */
  secrets: string[];
  problems: Problem[];
}
